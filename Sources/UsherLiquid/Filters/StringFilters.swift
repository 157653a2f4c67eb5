/// String filters, with Ruby's semantics: inputs are stringified with `to_s`, lengths and indices
/// count characters (code points), `nil` usually becomes "".
enum StringFilters {
    typealias S = FilterSupport

    static let all: [LiquidFilter] = [
        LiquidFilter("append", arity: 1...1) { input, a, ctx in
            let left = S.str(input)
            let right = S.str(S.arg(a, 0))
            try ctx.chargeAllocation(left.utf8.count + right.utf8.count)
            return .string(left + right)
        },
        LiquidFilter("prepend", arity: 1...1) { input, a, ctx in
            let left = S.str(S.arg(a, 0))
            let right = S.str(input)
            try ctx.chargeAllocation(left.utf8.count + right.utf8.count)
            return .string(left + right)
        },
        LiquidFilter("capitalize", arity: 0...0) { input, _, _ in
            let s = S.str(input)
            guard let first = s.first else { return .string("") }
            return .string(String(first).uppercased() + s.dropFirst().lowercased())
        },
        LiquidFilter("downcase", arity: 0...0) { input, _, _ in .string(S.str(input).lowercased()) },
        LiquidFilter("upcase", arity: 0...0) { input, _, _ in .string(S.str(input).uppercased()) },
        LiquidFilter("strip", arity: 0...0) { input, _, _ in .string(rubyStrip(S.str(input))) },
        LiquidFilter("lstrip", arity: 0...0) { input, _, _ in .string(rubyLstrip(S.str(input))) },
        LiquidFilter("rstrip", arity: 0...0) { input, _, _ in .string(rubyRstrip(S.str(input))) },
        LiquidFilter("strip_newlines", arity: 0...0) { input, _, _ in
            .string(replaceNewlines(S.str(input), with: ""))
        },
        LiquidFilter("newline_to_br", arity: 0...0) { input, _, ctx in
            let s = S.str(input)
            try ctx.chargeAllocation(s.utf8.count * 7)
            return .string(replaceNewlines(s, with: "<br />\n"))
        },
        LiquidFilter("remove", arity: 1...1) { input, a, ctx in
            .string(try gsub(S.str(input), S.str(S.arg(a, 0)), "", all: true, &ctx))
        },
        LiquidFilter("remove_first", arity: 1...1) { input, a, ctx in
            .string(try gsub(S.str(input), S.str(S.arg(a, 0)), "", all: false, &ctx))
        },
        LiquidFilter("remove_last", arity: 1...1) { input, a, _ in
            .string(replaceLast(S.str(input), S.str(S.arg(a, 0)), ""))
        },
        LiquidFilter("replace", arity: 1...2) { input, a, ctx in
            .string(try gsub(S.str(input), S.str(S.arg(a, 0)), S.str(S.arg(a, 1)), all: true, &ctx))
        },
        LiquidFilter("replace_first", arity: 1...2) { input, a, ctx in
            .string(try gsub(S.str(input), S.str(S.arg(a, 0)), S.str(S.arg(a, 1)), all: false, &ctx))
        },
        LiquidFilter("replace_last", arity: 2...2) { input, a, ctx in
            let s = S.str(input)
            let replacement = S.str(S.arg(a, 1))
            try ctx.chargeAllocation(s.utf8.count + replacement.utf8.count)
            return .string(replaceLast(s, S.str(S.arg(a, 0)), replacement))
        },
        LiquidFilter("size", arity: 0...0) { input, _, _ in .int(try size(input)) },
        LiquidFilter("slice", arity: 1...2) { input, a, _ in try slice(input, a) },
        LiquidFilter("split", arity: 1...1) { input, a, ctx in
            let parts = split(S.str(input), S.str(S.arg(a, 0)))
            try ctx.checkCollectionSize(parts.count)
            try ctx.chargeAllocation(parts.count &* 16)
            return .array(parts.map { .string($0) })
        },
        LiquidFilter("truncate", arity: 0...2) { input, a, _ in
            if input.isNil { return .nil }
            return .string(try truncate(S.str(input), a))
        },
        LiquidFilter("truncatewords", arity: 0...2) { input, a, _ in
            if input.isNil { return .nil }
            return .string(try truncateWords(S.str(input), a))
        },
    ]

    /// `gsub(/\r?\n/, replacement)`.
    static func replaceNewlines(_ s: String, with replacement: String) -> String {
        guard s.utf8.contains(UInt8(ascii: "\n")) else { return s }
        var out: [UInt8] = []
        let bytes = Array(s.utf8)
        out.reserveCapacity(bytes.count)
        let r = Array(replacement.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\r"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\n") {
                out += r
                i += 2
            } else if b == UInt8(ascii: "\n") {
                out += r
                i += 1
            } else {
                out.append(b)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Ruby `String#gsub`/`#sub` with a string pattern: literal matching; the replacement understands
    /// `\0`/`\&` (the match), `` \` `` / `\'` (before/after), `\\` and `\1`…`\9` (empty, no groups).
    /// An empty pattern matches between every two characters.
    static func gsub(_ s: String, _ pattern: String, _ replacement: String, all: Bool, _ ctx: inout LiquidRenderContext)
        throws -> String
    {
        let hay = Array(s.utf8)
        let pat = Array(pattern.utf8)
        let rep = Array(replacement.utf8)
        let hasEscapes = rep.contains(UInt8(ascii: "\\"))
        // Count matches first so a huge expansion is refused before it is built.
        var matches: [Int] = []
        if pat.isEmpty {
            var i = 0
            matches.append(0)
            while i < hay.count && (all || matches.isEmpty) {
                i += 1
                while i < hay.count && hay[i] & 0xC0 == 0x80 { i += 1 }
                if !all { break }
                matches.append(i)
            }
        } else {
            var from = 0
            while let m = byteIndex(of: pat, in: hay, from: from) {
                matches.append(m)
                if !all { break }
                from = m + pat.count
            }
        }
        if matches.isEmpty { return s }
        let estimated = hay.count + matches.count &* max(rep.count, 1) &* (hasEscapes ? 2 : 1)
        try ctx.chargeAllocation(estimated)
        var out: [UInt8] = []
        out.reserveCapacity(max(0, hay.count - matches.count * pat.count + matches.count * rep.count))
        var last = 0
        for m in matches {
            out += hay[last..<m]
            let end = m + pat.count
            if hasEscapes {
                appendReplacement(rep, match: hay[m..<end], pre: hay[0..<m], post: hay[end...], into: &out)
            } else {
                out += rep
            }
            last = end
        }
        out += hay[last...]
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendReplacement(
        _ rep: [UInt8], match: ArraySlice<UInt8>, pre: ArraySlice<UInt8>, post: ArraySlice<UInt8>,
        into out: inout [UInt8]
    ) {
        var i = 0
        while i < rep.count {
            let c = rep[i]
            if c == UInt8(ascii: "\\"), i + 1 < rep.count {
                let n = rep[i + 1]
                switch n {
                case UInt8(ascii: "0"), UInt8(ascii: "&"): out += match
                case UInt8(ascii: "`"): out += pre
                case UInt8(ascii: "'"): out += post
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "1")...UInt8(ascii: "9"): break
                default:
                    out.append(c)
                    out.append(n)
                }
                i += 2
            } else {
                out.append(c)
                i += 1
            }
        }
    }

    /// Ruby Liquid's `replace_last`: `rindex` then a literal splice. The last occurrence is the
    /// first occurrence in the reversed bytes, found in linear time.
    static func replaceLast(_ s: String, _ pattern: String, _ replacement: String) -> String {
        let hay = Array(s.utf8)
        let pat = Array(pattern.utf8)
        let start: Int
        if pat.isEmpty {
            start = hay.count
        } else {
            guard let r = byteIndex(of: Array(pat.reversed()), in: Array(hay.reversed())) else { return s }
            start = hay.count - r - pat.count
        }
        var out = Array(hay[0..<start])
        out += replacement.utf8
        out += hay[(start + pat.count)...]
        return String(decoding: out, as: UTF8.self)
    }

    /// Ruby Liquid's `size`: length of strings (characters), arrays and hashes; 8 for integers
    /// (Ruby's Integer#size); 0 for anything without a size.
    static func size(_ v: LiquidValue) throws -> Int {
        switch v {
        case .string(let s), .safe(let s): return s.unicodeScalars.count
        case .array(let a): return a.count
        case .hash(let h): return h.count
        case .range(let a, let b): return rangeCount(a, b)
        case .int: return 8
        case .drop(let d):
            if let m = try VariableLookup.materialize(d), m.isCollectionLike { return try size(m) }
            if let s = try d.liquidValue(forKey: "size"), case .int(let n) = s { return n }
            return 0
        default: return 0
        }
    }

    /// Ruby Liquid's `slice(offset, length = 1)` on arrays and strings.
    static func slice(_ input: LiquidValue, _ a: LiquidFilterArguments) throws -> LiquidValue {
        let offset = try S.arg(a, 0).rubyToInteger()
        let lengthArg = S.arg(a, 1)
        let length = lengthArg.isNil ? 1 : try lengthArg.rubyToInteger()
        if case .array(let items) = input {
            guard let (lo, n) = rubySliceBounds(count: items.count, offset: offset, length: length) else { return .array([]) }
            return .array(Array(items[lo..<(lo + n)]))
        }
        let scalars = S.str(input).unicodeScalars
        guard let (lo, n) = rubySliceBounds(count: scalars.count, offset: offset, length: length) else { return .string("") }
        let start = scalars.index(scalars.startIndex, offsetBy: lo)
        let end = scalars.index(start, offsetBy: n)
        return .string(String(scalars[start..<end]))
    }

    /// Ruby `Array#slice(start, length)` bounds; `nil` when Ruby returns nil.
    static func rubySliceBounds(count: Int, offset: Int, length: Int) -> (Int, Int)? {
        guard length >= 0 else { return nil }
        var start = offset
        if start < 0 {
            let (s, o) = start.addingReportingOverflow(count)
            if o || s < 0 { return nil }
            start = s
        }
        guard start <= count else { return nil }
        let n = min(length, count - start)
        return (start, n)
    }

    /// Ruby `String#split(pattern)`: " " splits on runs of whitespace (ignoring leading
    /// whitespace), "" splits into characters, anything else literally; trailing empty strings dropped.
    static func split(_ s: String, _ pattern: String) -> [String] {
        if s.isEmpty { return [] }
        if pattern == " " { return awkSplit(s, limit: nil) }
        if pattern.isEmpty { return s.unicodeScalars.map { String($0) } }
        let hay = Array(s.utf8)
        let pat = Array(pattern.utf8)
        var parts: [String] = []
        var from = 0
        while let m = byteIndex(of: pat, in: hay, from: from) {
            parts.append(String(decoding: hay[from..<m], as: UTF8.self))
            from = m + pat.count
        }
        parts.append(String(decoding: hay[from...], as: UTF8.self))
        while let last = parts.last, last.isEmpty { parts.removeLast() }
        return parts
    }

    /// Ruby's awk-style `split(" ", limit)`: words separated by ASCII whitespace runs; with a limit,
    /// the last field holds the unsplit rest.
    static func awkSplit(_ s: String, limit: Int?) -> [String] {
        let bytes = Array(s.utf8)
        var parts: [String] = []
        var i = 0
        while i < bytes.count {
            while i < bytes.count, isRubySpaceByte(bytes[i]) { i += 1 }
            guard i < bytes.count else { break }
            if let limit, parts.count == limit - 1 {
                parts.append(String(decoding: bytes[i...], as: UTF8.self))
                return parts
            }
            let start = i
            while i < bytes.count, !isRubySpaceByte(bytes[i]) { i += 1 }
            parts.append(String(decoding: bytes[start..<i], as: UTF8.self))
        }
        return parts
    }

    static func truncate(_ s: String, _ a: LiquidFilterArguments) throws -> String {
        let lengthArg = a[ruby: 0]
        let length = try lengthArg.map { try $0.rubyToInteger() } ?? 50
        let ellipsis = a[ruby: 1].map { S.str($0) } ?? "..."
        // A string has at most as many characters as UTF-8 bytes: most inputs need no counting.
        if s.utf8.count <= length { return s }
        let scalars = s.unicodeScalars
        guard scalars.count > length else { return s }
        let (remaining, overflow) = length.subtractingReportingOverflow(ellipsis.unicodeScalars.count)
        let keep = overflow ? 0 : max(0, remaining)
        let end = scalars.index(scalars.startIndex, offsetBy: keep)
        return String(scalars[..<end]) + ellipsis
    }

    static func truncateWords(_ s: String, _ a: LiquidFilterArguments) throws -> String {
        var words = try a[ruby: 0].map { try $0.rubyToInteger() } ?? 15
        if words <= 0 { words = 1 }
        // Ruby raises RangeError for limits beyond 32 bits and Liquid then returns the input.
        if words >= Int(Int32.max) { return s }
        let list = awkSplit(s, limit: words + 1)
        if list.count <= words { return s }
        let ellipsis = a[ruby: 1].map { S.str($0) } ?? "..."
        return list.prefix(words).joined(separator: " ") + ellipsis
    }
}
