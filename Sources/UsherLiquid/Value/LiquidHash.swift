/// An immutable, insertion-ordered hash from string keys to ``LiquidValue``s (a Ruby Hash / JSON object).
///
/// It is a final class so that `LiquidValue` stays small and copying a value never copies the table.
/// Small hashes (the common case in templates) are searched linearly, which beats hashing short keys;
/// a dictionary index is built only for larger ones. Liquid never mutates a hash, so no locking is needed.
public final class LiquidHash: Sendable {
    public let keys: [String]
    public let values: [LiquidValue]
    private let index: [String: Int]?

    private static let indexThreshold = 12

    /// Creates a hash from pairs. A repeated key keeps its first position and its last value, like Ruby.
    public init(_ pairs: [(String, LiquidValue)]) {
        var keys: [String] = []
        var values: [LiquidValue] = []
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        var seen: [String: Int] = [:]
        let needsDedup = pairs.count > 1
        for (k, v) in pairs {
            if needsDedup, let existing = seen[k] {
                values[existing] = v
                continue
            }
            if needsDedup { seen[k] = keys.count }
            keys.append(k)
            values.append(v)
        }
        self.keys = keys
        self.values = values
        self.index = keys.count > LiquidHash.indexThreshold ? seen : nil
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// The value for `key`, or `nil` when the key is absent (a present key may still hold `.nil`).
    @inline(__always)
    public subscript(key: String) -> LiquidValue? {
        if let index {
            guard let i = index[key] else { return nil }
            return values[i]
        }
        // Comparing UTF-8 lengths first (stored in the string) skips most full comparisons.
        let length = key.utf8.count
        var i = 0
        let n = keys.count
        while i < n {
            let k = keys[i]
            if k.utf8.count == length && k == key { return values[i] }
            i += 1
        }
        return nil
    }

    public func hasKey(_ key: String) -> Bool { self[key] != nil }

    /// Key/value pairs in insertion order.
    public var pairs: [(key: String, value: LiquidValue)] {
        var out: [(key: String, value: LiquidValue)] = []
        out.reserveCapacity(keys.count)
        for i in 0..<keys.count { out.append((keys[i], values[i])) }
        return out
    }
}
