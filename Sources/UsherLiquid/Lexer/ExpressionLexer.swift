/// A token of tag or output markup, as Liquid's strict lexer produces them.
struct ExprToken {
    enum Kind: Equatable {
        case comparison
        case string
        case number
        case identifier
        case dotdot
        case pipe, dot, colon, comma, openSquare, closeSquare, openRound, closeRound, question, dash
        case end
    }

    let kind: Kind
    /// Byte range in the template source (for strings: the contents, without quotes).
    let start: Int
    let end: Int
}

/// Liquid's strict-mode lexer for markup (Liquid 5 `Lexer`): comparison operators, quoted strings
/// (no escapes), numbers `-?\d+(\.\d+)?`, identifiers `[a-zA-Z_][\w-]*\??`, `..` and punctuation.
/// Any other character is a syntax error.
enum ExpressionLexer {
    static func tokenize(_ bytes: [UInt8], start: Int, end: Int) throws(ExpressionLexError) -> [ExprToken] {
        var tokens: [ExprToken] = []
        tokens.reserveCapacity(8)
        var i = start
        while true {
            while i < end, isRubySpaceByte(bytes[i]) { i += 1 }
            guard i < end else { break }
            let c = bytes[i]
            // Comparison operators: == != <> <= < >= > and `contains` followed by whitespace.
            switch c {
            case UInt8(ascii: "="):
                if i + 1 < end, bytes[i + 1] == UInt8(ascii: "=") {
                    tokens.append(ExprToken(kind: .comparison, start: i, end: i + 2))
                    i += 2
                    continue
                }
                throw ExpressionLexError(position: i, character: c)
            case UInt8(ascii: "!"):
                if i + 1 < end, bytes[i + 1] == UInt8(ascii: "=") {
                    tokens.append(ExprToken(kind: .comparison, start: i, end: i + 2))
                    i += 2
                    continue
                }
                throw ExpressionLexError(position: i, character: c)
            case UInt8(ascii: "<"):
                let len = (i + 1 < end && (bytes[i + 1] == UInt8(ascii: ">") || bytes[i + 1] == UInt8(ascii: "="))) ? 2 : 1
                tokens.append(ExprToken(kind: .comparison, start: i, end: i + len))
                i += len
                continue
            case UInt8(ascii: ">"):
                let len = (i + 1 < end && bytes[i + 1] == UInt8(ascii: "=")) ? 2 : 1
                tokens.append(ExprToken(kind: .comparison, start: i, end: i + len))
                i += len
                continue
            case UInt8(ascii: "c"):
                if matchesContains(bytes, i, end) {
                    tokens.append(ExprToken(kind: .comparison, start: i, end: i + 8))
                    i += 8
                    continue
                }
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                var j = i + 1
                while j < end, bytes[j] != c { j += 1 }
                if j < end {
                    tokens.append(ExprToken(kind: .string, start: i + 1, end: j))
                    i = j + 1
                    continue
                }
                throw ExpressionLexError(position: i, character: c, unterminatedString: true)
            default: break
            }
            // Numbers: -?\d+(\.\d+)?
            if isDigit(c) || (c == UInt8(ascii: "-") && i + 1 < end && isDigit(bytes[i + 1])) {
                var j = i + 1
                while j < end, isDigit(bytes[j]) { j += 1 }
                if j + 1 < end, bytes[j] == UInt8(ascii: "."), isDigit(bytes[j + 1]) {
                    j += 1
                    while j < end, isDigit(bytes[j]) { j += 1 }
                }
                tokens.append(ExprToken(kind: .number, start: i, end: j))
                i = j
                continue
            }
            // Identifiers: [a-zA-Z_][\w-]*\??
            if isIdentifierStart(c) {
                var j = i + 1
                while j < end, isIdentifierByte(bytes[j]) { j += 1 }
                if j < end, bytes[j] == UInt8(ascii: "?") { j += 1 }
                tokens.append(ExprToken(kind: .identifier, start: i, end: j))
                i = j
                continue
            }
            if c == UInt8(ascii: "."), i + 1 < end, bytes[i + 1] == UInt8(ascii: ".") {
                tokens.append(ExprToken(kind: .dotdot, start: i, end: i + 2))
                i += 2
                continue
            }
            let kind: ExprToken.Kind
            switch c {
            case UInt8(ascii: "|"): kind = .pipe
            case UInt8(ascii: "."): kind = .dot
            case UInt8(ascii: ":"): kind = .colon
            case UInt8(ascii: ","): kind = .comma
            case UInt8(ascii: "["): kind = .openSquare
            case UInt8(ascii: "]"): kind = .closeSquare
            case UInt8(ascii: "("): kind = .openRound
            case UInt8(ascii: ")"): kind = .closeRound
            case UInt8(ascii: "?"): kind = .question
            case UInt8(ascii: "-"): kind = .dash
            default: throw ExpressionLexError(position: i, character: c)
            }
            tokens.append(ExprToken(kind: kind, start: i, end: i + 1))
            i += 1
        }
        tokens.append(ExprToken(kind: .end, start: end, end: end))
        return tokens
    }

    @inline(__always)
    static func isIdentifierStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_")
    }

    /// `[\w-]`
    @inline(__always)
    static func isIdentifierByte(_ c: UInt8) -> Bool {
        isWordByte(c) || c == UInt8(ascii: "-")
    }

    /// Ruby's `\w` (ASCII only).
    @inline(__always)
    static func isWordByte(_ c: UInt8) -> Bool {
        isIdentifierStart(c) || isDigit(c)
    }

    private static func matchesContains(_ bytes: [UInt8], _ i: Int, _ end: Int) -> Bool {
        let word: [UInt8] = Array("contains".utf8)
        guard i + 8 < end else { return false }
        for k in 0..<8 where bytes[i + k] != word[k] { return false }
        return isRubySpaceByte(bytes[i + 8])
    }
}

struct ExpressionLexError: Error {
    let position: Int
    let character: UInt8
    var unterminatedString = false
}
