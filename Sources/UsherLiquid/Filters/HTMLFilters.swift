import Foundation

/// HTML, URL and Base64 filters. `escape`/`escape_once` return safe strings, so auto-escape mode
/// never escapes their output twice.
enum HTMLFilters {
    typealias S = FilterSupport

    static let all: [LiquidFilter] = [
        LiquidFilter("escape", arity: 0...0) { input, _, ctx in try escapeFilter(input, &ctx) },
        LiquidFilter("h", arity: 0...0) { input, _, ctx in try escapeFilter(input, &ctx) },
        LiquidFilter("escape_once", arity: 0...0) { input, _, ctx in
            let s = S.str(input)
            try ctx.chargeAllocation(s.utf8.count * 6)
            return .safe(escapeOnce(s))
        },
        LiquidFilter("url_encode", arity: 0...0) { input, _, ctx in
            if input.isNil { return .nil }
            let s = S.str(input)
            try ctx.chargeAllocation(s.utf8.count * 3)
            return .string(urlEncode(s))
        },
        LiquidFilter("url_decode", arity: 0...0) { input, _, _ in
            if input.isNil { return .nil }
            guard let decoded = urlDecode(S.str(input)) else {
                throw LiquidRenderError(.argument, "url_decode: invalid byte sequence in UTF-8")
            }
            return .string(decoded)
        },
        LiquidFilter("strip_html", arity: 0...0) { input, _, _ in .string(stripHTML(S.str(input))) },
        LiquidFilter("base64_encode", arity: 0...0) { input, _, ctx in
            let s = S.str(input)
            try ctx.chargeAllocation(s.utf8.count / 3 * 4 + 4)
            return .string(Data(s.utf8).base64EncodedString())
        },
        LiquidFilter("base64_decode", arity: 0...0) { input, _, _ in
            guard let data = base64Decode(S.str(input), urlSafe: false) else {
                throw LiquidRenderError(.argument, "invalid base64 provided to base64_decode")
            }
            return try decodedText(data, "base64_decode")
        },
        LiquidFilter("base64_url_safe_encode", arity: 0...0) { input, _, ctx in
            let s = S.str(input)
            try ctx.chargeAllocation(s.utf8.count / 3 * 4 + 4)
            let standard = Data(s.utf8).base64EncodedString()
            return .string(String(standard.map { $0 == "+" ? "-" : ($0 == "/" ? "_" : $0) }))
        },
        LiquidFilter("base64_url_safe_decode", arity: 0...0) { input, _, _ in
            guard let data = base64Decode(S.str(input), urlSafe: true) else {
                throw LiquidRenderError(.argument, "invalid base64 provided to base64_url_safe_decode")
            }
            return try decodedText(data, "base64_url_safe_decode")
        },
    ]

    /// Decoded bytes must be UTF-8 text: binary data cannot be written into a template's output.
    static func decodedText(_ data: Data, _ filter: String) throws -> LiquidValue {
        guard let text = String(validating: Array(data), as: UTF8.self) else {
            throw LiquidRenderError(.argument, "\(filter): the decoded bytes are not UTF-8 text")
        }
        return .string(text)
    }

    static func escapeFilter(_ input: LiquidValue, _ ctx: inout LiquidRenderContext) throws -> LiquidValue {
        if input.isNil { return .nil }
        if case .safe = input, ctx.environment.autoEscape { return input }
        let s = S.str(input)
        var out = ""
        if needsEscape(s) {
            try ctx.chargeAllocation(s.utf8.count * 6)
            appendEscaped(s, to: &out)
        } else {
            out = s
        }
        return .safe(out)
    }

    @inline(__always)
    static func needsEscape(_ s: String) -> Bool {
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'"):
                return true
            default: continue
            }
        }
        return false
    }

    /// Ruby's `CGI.escapeHTML`: & < > " ' → &amp; &lt; &gt; &quot; &#39;
    /// Copies the runs between special characters as slices (no re-validation of UTF-8).
    static func appendEscaped(_ s: String, to out: inout String) {
        let u = s.utf8
        var runStart = u.startIndex
        var i = u.startIndex
        while i != u.endIndex {
            let replacement: String
            switch u[i] {
            case UInt8(ascii: "&"): replacement = "&amp;"
            case UInt8(ascii: "<"): replacement = "&lt;"
            case UInt8(ascii: ">"): replacement = "&gt;"
            case UInt8(ascii: "\""): replacement = "&quot;"
            case UInt8(ascii: "'"): replacement = "&#39;"
            default:
                i = u.index(after: i)
                continue
            }
            if runStart != i { out.append(contentsOf: s[runStart..<i]) }
            out.append(replacement)
            i = u.index(after: i)
            runStart = i
        }
        if runStart == u.startIndex {
            out.append(s)
        } else if runStart != u.endIndex {
            out.append(contentsOf: s[runStart..<u.endIndex])
        }
    }

    /// Escapes like `escape` but leaves existing entities (`&amp;`, `&#39;`, `&lt;` …) alone:
    /// Ruby's `/["><']|&(?!([a-zA-Z]+|(#\d+));)/`.
    static func escapeOnce(_ s: String) -> String {
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "<"): out += Array("&lt;".utf8)
            case UInt8(ascii: ">"): out += Array("&gt;".utf8)
            case UInt8(ascii: "\""): out += Array("&quot;".utf8)
            case UInt8(ascii: "'"): out += Array("&#39;".utf8)
            case UInt8(ascii: "&"):
                if isEntity(bytes, i) { out.append(b) } else { out += Array("&amp;".utf8) }
            default: out.append(b)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isEntity(_ bytes: [UInt8], _ amp: Int) -> Bool {
        var j = amp + 1
        if j < bytes.count, bytes[j] == UInt8(ascii: "#") {
            j += 1
            let start = j
            while j < bytes.count, isDigit(bytes[j]) { j += 1 }
            return j > start && j < bytes.count && bytes[j] == UInt8(ascii: ";")
        }
        let start = j
        while j < bytes.count, ExpressionLexer.isIdentifierStart(bytes[j]), bytes[j] != UInt8(ascii: "_") { j += 1 }
        return j > start && j < bytes.count && bytes[j] == UInt8(ascii: ";")
    }

    /// Ruby's `CGI.escape`: everything but `a-zA-Z0-9_.-~` percent-encoded, space as `+`.
    static func urlEncode(_ s: String) -> String {
        @inline(__always) func unreserved(_ b: UInt8) -> Bool {
            ExpressionLexer.isWordByte(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "~")
        }
        if s.utf8.allSatisfy(unreserved) { return s }
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 16)
        for b in s.utf8 {
            if unreserved(b) {
                out.append(b)
            } else if b == UInt8(ascii: " ") {
                out.append(UInt8(ascii: "+"))
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            }
        }
        // Only ASCII was written, so the bytes are valid UTF-8.
        return String(unsafeUninitializedCapacity: out.count) { buffer in
            _ = buffer.initialize(fromContentsOf: out)
            return out.count
        }
    }

    /// Ruby's `CGI.unescape`: `+` → space, `%XX` → byte (malformed escapes kept). `nil` if the
    /// result is not valid UTF-8.
    static func urlDecode(_ s: String) -> String? {
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
                i += 1
            } else if b == UInt8(ascii: "%"), i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(b)
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Ruby's `strict_decode64` (or `urlsafe_decode64`, which also accepts missing padding).
    static func base64Decode(_ s: String, urlSafe: Bool) -> Data? {
        var text = s
        if urlSafe {
            text = String(text.map { $0 == "-" ? "+" : ($0 == "_" ? "/" : $0) })
            if !text.hasSuffix("="), text.utf8.count % 4 != 0 {
                text += String(repeating: "=", count: 4 - text.utf8.count % 4)
            }
        }
        guard text.utf8.count % 4 == 0 else { return nil }
        return Data(base64Encoded: text)
    }

    /// Ruby Liquid's `strip_html`: drop `<script>…</script>`, `<!-- … -->` and `<style>…</style>`
    /// blocks, then every `<…>` tag.
    static func stripHTML(_ s: String) -> String {
        let bytes = Array(s.utf8)
        guard bytes.contains(UInt8(ascii: "<")) else { return s }
        let blocks: [([UInt8], [UInt8])] = [
            (Array("<script".utf8), Array("</script>".utf8)),
            (Array("<!--".utf8), Array("-->".utf8)),
            (Array("<style".utf8), Array("</style>".utf8)),
        ]
        var pass1: [UInt8] = []
        pass1.reserveCapacity(bytes.count)
        // Once a closing marker is not found after some position, it is not found after any later
        // one either: remembering that keeps the scan linear on hostile input.
        var unclosed = [Bool](repeating: false, count: blocks.count)
        var i = 0
        outer: while i < bytes.count {
            if bytes[i] == UInt8(ascii: "<") {
                for (k, (open, close)) in blocks.enumerated() where !unclosed[k] && hasPrefix(bytes, i, open) {
                    if let end = byteIndex(of: close, in: bytes, from: i + open.count) {
                        i = end + close.count
                        continue outer
                    }
                    unclosed[k] = true
                }
            }
            pass1.append(bytes[i])
            i += 1
        }
        var out: [UInt8] = []
        out.reserveCapacity(pass1.count)
        var nextClose = -1
        i = 0
        while i < pass1.count {
            if pass1[i] == UInt8(ascii: "<") {
                if nextClose < i {
                    nextClose = pass1[(i + 1)...].firstIndex(of: UInt8(ascii: ">")) ?? pass1.count
                }
                if nextClose < pass1.count {
                    i = nextClose + 1
                    continue
                }
            }
            out.append(pass1[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hasPrefix(_ bytes: [UInt8], _ at: Int, _ prefix: [UInt8]) -> Bool {
        guard at + prefix.count <= bytes.count else { return false }
        for k in 0..<prefix.count where bytes[at + k] != prefix[k] { return false }
        return true
    }
}
