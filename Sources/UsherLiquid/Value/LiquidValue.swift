/// A Liquid value: what variables hold, what expressions evaluate to and what filters take and return.
///
/// The cases mirror the values Shopify's Ruby Liquid works with (`nil`, booleans, Ruby's Integer and
/// Float, String, Array, an insertion-ordered Hash, Range) plus host objects (`drop`) whose
/// properties are resolved lazily. The enum is kept small (one word for references, two for
/// strings and ranges) because values are copied constantly on the render path.
public enum LiquidValue: Sendable {
    /// Ruby's `nil`: undefined variables and missing keys evaluate to it; renders as nothing.
    case `nil`
    case bool(Bool)
    /// Ruby Integer. Arithmetic reports overflow and falls back to `float` instead of trapping
    /// (Ruby would switch to a bignum; a float is the closest thing that cannot crash).
    case int(Int)
    case float(Double)
    case string(String)
    /// A string that is already HTML and must not be escaped again when auto-escaping is on
    /// (produced by `escape`, `escape_once`, `safe`/`raw`, `capture` in auto-escape mode, or the host).
    /// Everywhere else it behaves exactly like `.string`.
    case safe(String)
    case array([LiquidValue])
    /// An insertion-ordered hash (JSON object). Order matters: `for` over a hash and `first` follow it.
    case hash(LiquidHash)
    /// An inclusive integer range `(a..b)`; iterated lazily, never materialised unless a filter needs an array.
    case range(Int, Int)
    /// A host object whose properties are resolved on demand (see ``LiquidDrop``).
    case drop(any LiquidDrop)
    /// The special literals `blank` and `empty`, which compare specially and render as "".
    case special(LiquidSpecialLiteral)
}

/// `blank` and `empty` are not values in their own right: they only mean something on one side of `==`.
public enum LiquidSpecialLiteral: Sendable, Equatable {
    case blank
    case empty
}

extension LiquidValue {
    /// Liquid truthiness: only `nil` and `false` are falsy (Ruby semantics; `0`, `""` and `[]` are truthy).
    @inlinable
    public var isTruthy: Bool {
        switch self {
        case .nil: return false
        case .bool(let b): return b
        default: return true
        }
    }

    @inlinable
    public var isNil: Bool {
        if case .nil = self { return true }
        return false
    }

    /// The string payload of `.string` and `.safe`, otherwise `nil`.
    @inlinable
    public var stringValue: String? {
        switch self {
        case .string(let s), .safe(let s): return s
        default: return nil
        }
    }

    /// Builds a hash value from key/value pairs, keeping their order.
    public static func object(_ pairs: KeyValuePairs<String, LiquidValue>) -> LiquidValue {
        .hash(LiquidHash(pairs.map { ($0.key, $0.value) }))
    }

    /// Builds a hash value from a Swift dictionary (keys sorted, since dictionaries have no order).
    public init(_ dictionary: [String: LiquidValue]) {
        self = .hash(LiquidHash(dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
    }

    /// Reads a key of a hash (or a drop). Convenience for hosts and tests; templates use variable lookups.
    public subscript(key: String) -> LiquidValue {
        switch self {
        case .hash(let h): return h[key] ?? .nil
        case .drop(let d): return (try? d.liquidValue(forKey: key)) ?? .nil
        default: return .nil
        }
    }
}

extension LiquidValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .nil }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: LiquidValue...) { self = .array(elements) }
    /// Dictionary literals keep their written order, like a Ruby hash literal.
    public init(dictionaryLiteral elements: (String, LiquidValue)...) { self = .hash(LiquidHash(elements)) }
}

extension LiquidValue: CustomStringConvertible {
    /// What `{{ value }}` renders (Ruby Liquid's `to_s`, with arrays concatenated).
    public var description: String { LiquidValue.renderString(self) }
}

extension LiquidValue: Equatable {
    /// Liquid's `==` (Ruby semantics: `1 == 1.0`, `1 != "1"`, arrays and hashes by content, drops by identity).
    public static func == (lhs: LiquidValue, rhs: LiquidValue) -> Bool {
        liquidEquals(lhs, rhs)
    }
}
