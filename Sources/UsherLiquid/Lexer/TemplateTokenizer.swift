/// One raw token of a template: literal text, an output `{{ … }}` or a tag `{% … %}`, as a byte range.
struct RawToken {
    enum Kind {
        case text
        /// Starts with `{{`. It may be unterminated or end at a single `}`; the parser reports that.
        case output
        /// Starts with `{%`. It may be unterminated; the parser reports that.
        case tag
        /// A line inside `{% liquid %}`.
        case line
    }

    let kind: Kind
    let start: Int
    let end: Int
}

/// Splits a template into text, output and tag tokens exactly as Shopify Liquid 5's tokenizer does,
/// byte for byte, because edge cases (a `{%` inside `{{`, a lone `}` ending an output, what
/// `raw` and `comment` swallow) are observable in the output.
struct TemplateTokenizer {
    private let bytes: [UInt8]
    private(set) var position: Int
    private let limit: Int

    init(bytes: [UInt8], start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.limit = end ?? bytes.count
    }

    private static let openCurly = UInt8(ascii: "{")
    private static let closeCurly = UInt8(ascii: "}")
    private static let percent = UInt8(ascii: "%")

    var isAtEnd: Bool { position >= limit }

    mutating func next() -> RawToken? {
        guard position < limit else { return nil }
        if bytes[position] == Self.openCurly, position + 1 < limit {
            let second = bytes[position + 1]
            if second == Self.percent {
                position += 2
                return nextTagToken()
            }
            if second == Self.openCurly {
                position += 2
                return nextOutputToken()
            }
        }
        return nextTextToken()
    }

    private mutating func nextTextToken() -> RawToken {
        let start = position
        var i = position
        while i + 1 < limit {
            if bytes[i] == Self.openCurly {
                let n = bytes[i + 1]
                if n == Self.openCurly || n == Self.percent { break }
            }
            i += 1
        }
        if i + 1 >= limit { i = limit }
        position = i
        return RawToken(kind: .text, start: start, end: i)
    }

    /// Index just past the next `%}` at or after `from`, or nil.
    private func findTagEnd(from: Int) -> Int? {
        var i = from
        while i + 1 < limit {
            if bytes[i] == Self.percent && bytes[i + 1] == Self.closeCurly { return i + 2 }
            i += 1
        }
        return nil
    }

    private mutating func nextTagToken() -> RawToken {
        let start = position - 2
        if let end = findTagEnd(from: position) {
            position = end
            return RawToken(kind: .tag, start: start, end: end)
        }
        // Unterminated: the token is just "{%"; scanning resumes after it.
        return RawToken(kind: .tag, start: start, end: position)
    }

    /// Liquid 5's `next_variable_token`: ends at `}}`, at a lone `}`, or turns into a tag token when a
    /// `{%` comes first.
    private mutating func nextOutputToken() -> RawToken {
        let start = position - 2
        var a: UInt8? = scan()
        var b: UInt8? = a
        while b != nil {
            while let x = a, x != Self.closeCurly && x != Self.openCurly { a = scan() }
            guard let x = a else { break }
            if position >= limit {
                if x == Self.closeCurly { return RawToken(kind: .output, start: start, end: position) }
                return RawToken(kind: .output, start: start, end: start + 2)
            }
            b = scan()
            if x == Self.closeCurly {
                if b != Self.closeCurly { position -= 1 }
                return RawToken(kind: .output, start: start, end: position)
            } else if x == Self.openCurly && b == Self.percent {
                if let end = findTagEnd(from: position) { position = end }
                return RawToken(kind: .output, start: start, end: position)
            }
            a = b
        }
        // Never terminated: Ruby yields the bare "{{" (and has consumed the rest of the source).
        position = limit
        return RawToken(kind: .output, start: start, end: start + 2)
    }

    private mutating func scan() -> UInt8? {
        guard position < limit else { return nil }
        let b = bytes[position]
        position += 1
        return b
    }
}

/// Splits the markup of `{% liquid %}` into lines (Ruby splits on "\n" only; a lone "\r" is not a break).
struct LiquidLineTokenizer {
    private let bytes: [UInt8]
    private var position: Int
    private let limit: Int
    private var finished = false

    init(bytes: [UInt8], start: Int, end: Int) {
        self.bytes = bytes
        self.position = start
        self.limit = end
        self.finished = start >= end
    }

    mutating func next() -> RawToken? {
        guard !finished else { return nil }
        let start = position
        var i = position
        while i < limit && bytes[i] != UInt8(ascii: "\n") { i += 1 }
        if i >= limit {
            finished = true
            position = limit
        } else {
            position = i + 1
        }
        return RawToken(kind: .line, start: start, end: i)
    }
}
