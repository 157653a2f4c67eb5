import Foundation

/// JSON ⇄ ``LiquidValue``, keeping object key order (Foundation's JSONSerialization does not, and
/// `for` over a hash or `first` make key order visible in templates).
public enum LiquidJSON {
    /// Deepest nesting accepted when reading; deeper documents are rejected rather than recursed into.
    public static let maxDepth = 256

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let offset: Int
        public let message: String
        public var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    /// Parses a JSON document. Integers that fit in `Int` become `.int`, other numbers `.float`.
    public static func parse(_ text: String) throws(ParseError) -> LiquidValue {
        var reader = Reader(bytes: Array(text.utf8))
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.index == reader.bytes.count else { throw reader.error("unexpected trailing characters") }
        return value
    }

    public static func parse(_ data: [UInt8]) throws(ParseError) -> LiquidValue {
        try parse(String(decoding: data, as: UTF8.self))
    }

    struct Reader {
        let bytes: [UInt8]
        var index = 0

        func error(_ message: String) -> ParseError { ParseError(offset: index, message: message) }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(ParseError) -> LiquidValue {
            guard depth < LiquidJSON.maxDepth else { throw error("nested too deeply") }
            guard index < bytes.count else { throw error("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var pairs: [(String, LiquidValue)] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .hash(LiquidHash(pairs))
                }
                while true {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
                    let key = try string()
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                    index += 1
                    skipWhitespace()
                    pairs.append((key, try value(depth: depth + 1)))
                    skipWhitespace()
                    guard index < bytes.count else { throw error("unterminated object") }
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    guard bytes[index] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
                    index += 1
                    return .hash(LiquidHash(pairs))
                }
            case UInt8(ascii: "["):
                index += 1
                var items: [LiquidValue] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                }
                while true {
                    skipWhitespace()
                    items.append(try value(depth: depth + 1))
                    skipWhitespace()
                    guard index < bytes.count else { throw error("unterminated array") }
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    guard bytes[index] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
                    index += 1
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .nil
            default:
                return try number()
            }
        }

        mutating func literal(_ word: String) throws(ParseError) {
            let w = Array(word.utf8)
            guard index + w.count <= bytes.count, Array(bytes[index..<(index + w.count)]) == w else {
                throw error("unexpected character")
            }
            index += w.count
        }

        mutating func number() throws(ParseError) -> LiquidValue {
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            var isFloat = false
            let digitsStart = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index > digitsStart else { throw error("unexpected character") }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isFloat = true
                index += 1
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isFloat = true
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if !isFloat, let i = Int(text) { return .int(i) }
            guard let d = Double(text) else { throw error("invalid number") }
            return .float(d)
        }

        mutating func string() throws(ParseError) -> String {
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let b = bytes[index]
                if b == UInt8(ascii: "\"") {
                    index += 1
                    return String(decoding: out, as: UTF8.self)
                }
                if b == UInt8(ascii: "\\") {
                    index += 1
                    guard index < bytes.count else { break }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if scalar >= 0xD800 && scalar < 0xDC00,
                            index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                        {
                            index += 2
                            let low = try hex4()
                            if low >= 0xDC00 && low < 0xE000 {
                                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                scalar = 0xFFFD
                            }
                        }
                        let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                        out += Array(String(u).utf8)
                    default: throw error("invalid escape")
                    }
                    continue
                }
                out.append(b)
                index += 1
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("invalid \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[index]
                let d: UInt32
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
                default: throw error("invalid \\u escape")
                }
                v = v << 4 | d
                index += 1
            }
            return v
        }
    }

    // MARK: - Writing

    /// Serialises a value as JSON. `<`, `>`, `&` and U+2028/9 are written as `\u` escapes so the
    /// result can sit inside a `<script>` element. Drops are materialised (or `null`), ranges become arrays.
    static func write(_ value: LiquidValue, to out: inout String, indent: Int, depth: Int) throws {
        guard depth < LiquidValue.maxNestingForDisplay else {
            out.append("null")
            return
        }
        func newline(_ level: Int) {
            if indent > 0 {
                out.append("\n")
                out.append(String(repeating: " ", count: indent * level))
            }
        }
        switch value {
        case .nil, .special: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .int(let i): out.append(String(i))
        case .float(let f): out.append(f.isFinite ? rubyFloatString(f) : "null")
        case .string(let s), .safe(let s): writeString(s, to: &out)
        case .array(let items):
            out.append("[")
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(",") }
                newline(depth + 1)
                try write(item, to: &out, indent: indent, depth: depth + 1)
            }
            if !items.isEmpty { newline(depth) }
            out.append("]")
        case .hash(let h):
            out.append("{")
            for i in 0..<h.count {
                if i > 0 { out.append(",") }
                newline(depth + 1)
                writeString(h.keys[i], to: &out)
                out.append(indent > 0 ? ": " : ":")
                try write(h.values[i], to: &out, indent: indent, depth: depth + 1)
            }
            if !h.isEmpty { newline(depth) }
            out.append("}")
        case .range(let a, let b):
            let n = rangeCount(a, b)
            guard n <= 100_000 else {
                throw LiquidRenderError(.limitExceeded(.collectionSize), "json: range too large")
            }
            try write(.array((0..<n).map { .int(a &+ $0) }), to: &out, indent: indent, depth: depth)
        case .drop(let d):
            if let m = try VariableLookup.materialize(d), !isDrop(m) {
                try write(m, to: &out, indent: indent, depth: depth + 1)
            } else {
                out.append("null")
            }
        }
    }

    private static func isDrop(_ v: LiquidValue) -> Bool {
        if case .drop = v { return true }
        return false
    }

    static func writeString(_ s: String, to out: inout String) {
        out.append("\"")
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case "<": out.append("\\u003c")
            case ">": out.append("\\u003e")
            case "&": out.append("\\u0026")
            case "\u{2028}": out.append("\\u2028")
            case "\u{2029}": out.append("\\u2029")
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }
}

extension LiquidValue {
    /// Converts any `Encodable` host value (a user record, an application) through JSON, keeping
    /// the encoder's key order. Convenient for data that is cheap to convert; use a drop for lazy data.
    public init(encoding value: some Encodable) throws {
        let data = try JSONEncoder().encode(value)
        self = try LiquidJSON.parse(Array(data))
    }

    /// Parses JSON text into a value, keeping object key order.
    public init(json text: String) throws(LiquidJSON.ParseError) {
        self = try LiquidJSON.parse(text)
    }

    /// The value as compact JSON (what the `json` filter outputs).
    public var jsonString: String {
        var out = ""
        try? LiquidJSON.write(self, to: &out, indent: 0, depth: 0)
        return out
    }
}
