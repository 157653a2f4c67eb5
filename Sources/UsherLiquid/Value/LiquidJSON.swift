import Foundation
import UsherJSON

/// JSON ⇄ ``LiquidValue``, keeping object key order (Foundation's JSONSerialization does not, and
/// `for` over a hash or `first` make key order visible in templates). Reading is UsherJSON's parser; writing is
/// the `json` filter's own, since it escapes for HTML and formats floats as Ruby does.
public enum LiquidJSON {
    /// Deepest nesting accepted when reading; deeper documents are rejected rather than recursed into.
    public static let maxDepth = 256

    /// How template data is read: nesting up to `maxDepth`, lone surrogate escapes and invalid UTF-8 as U+FFFD and a
    /// repeated key's last value kept (template data is read leniently, as Liquid's reader always did).
    public static let parserOptions = JSONParser.Options(
        limits: JSONParser.Limits(maximumDepth: maxDepth), invalidText: .replace, duplicateKeys: .keepLast)

    /// Parses a JSON document. Integers that fit in `Int` become `.int`, other numbers `.float`.
    public static func parse(_ text: String) throws(JSONParser.SyntaxError) -> LiquidValue {
        try JSONParser.parse(text, options: parserOptions).liquidValue
    }

    public static func parse(_ data: [UInt8]) throws(JSONParser.SyntaxError) -> LiquidValue {
        try JSONParser.parse(data, options: parserOptions).liquidValue
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
    public init(json text: String) throws(JSONParser.SyntaxError) {
        self = try LiquidJSON.parse(text)
    }

    /// The value as compact JSON (what the `json` filter outputs).
    public var jsonString: String {
        var out = ""
        try? LiquidJSON.write(self, to: &out, indent: 0, depth: 0)
        return out
    }
}

extension JSONValue {
    /// The value as templates see it: objects become hashes in their member order, integers that fit `Int` stay
    /// integers.
    public var liquidValue: LiquidValue {
        switch self {
        case .null: .nil
        case .bool(let b): .bool(b)
        case .int(let i): Int(exactly: i).map(LiquidValue.int) ?? .float(Double(i))
        case .double(let d): .float(d)
        case .string(let s): .string(s)
        case .array(let items): .array(items.map(\.liquidValue))
        case .object(let object): object.liquidValue
        }
    }
}

extension JSONObject {
    /// The object as a hash, members in order.
    public var liquidValue: LiquidValue {
        .hash(LiquidHash(self.map { ($0.key, $0.value.liquidValue) }))
    }
}
