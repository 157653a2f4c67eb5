import UsherJSON

/// A field of a PATCH-style body: absent, explicitly `null`, or a value.
public enum PatchField<Value: Sendable>: Sendable {
    case absent
    case null
    case value(Value)

    /// The value if present and not null.
    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }

    public var isAbsent: Bool {
        if case .absent = self { return true }
        return false
    }
}

/// Reads typed fields out of a JSON request body, producing Auth0's validation messages.
///
/// Every body is checked against an allow-list first, because Auth0's schemas set `additionalProperties: false`
/// and silently ignoring a misspelt field would hide a client bug.
public struct PayloadReader: Sendable {
    public let body: JSONObject

    public init(_ body: JSONObject, allowed: Set<String>) throws(UsherError) {
        self.body = body
        let unknown = body.keys.filter { !allowed.contains($0) }
        if !unknown.isEmpty {
            throw .invalidBody("'Additional properties not allowed: \(unknown.joined(separator: ","))'.")
        }
    }

    public func has(_ key: String) -> Bool { body[key] != nil }

    static func typeError(_ key: String, expected: String, found: JSONValue) -> UsherError {
        .invalidBody("'Expected type \(expected) but found type \(found.typeName)' on property \(key).")
    }

    /// A string field, length-checked. `nullable` lets `null` through as `.null`.
    public func string(_ key: String, minLength: Int = 0, maxLength: Int = 10_000, nullable: Bool = false) throws(UsherError) -> PatchField<String> {
        guard let raw = body[key] else { return .absent }
        switch raw {
        case .null where nullable: return .null
        case .string(let s):
            let length = s.count
            if length < minLength {
                throw .invalidBody("'String is too short (\(length) chars), minimum \(minLength)' on property \(key).")
            }
            if length > maxLength {
                throw .invalidBody("'String is too long (\(length) chars), maximum \(maxLength)' on property \(key).")
            }
            return .value(s)
        default:
            throw Self.typeError(key, expected: "string", found: raw)
        }
    }

    public func bool(_ key: String, nullable: Bool = false) throws(UsherError) -> PatchField<Bool> {
        guard let raw = body[key] else { return .absent }
        switch raw {
        case .null where nullable: return .null
        case .bool(let b): return .value(b)
        default: throw Self.typeError(key, expected: "boolean", found: raw)
        }
    }

    public func integer(_ key: String, range: ClosedRange<Int64>? = nil) throws(UsherError) -> PatchField<Int64> {
        guard let raw = body[key] else { return .absent }
        guard case .int(let i) = raw else { throw Self.typeError(key, expected: "integer", found: raw) }
        if let range, !range.contains(i) {
            throw .invalidBody("'Value \(i) is out of range \(range.lowerBound)..\(range.upperBound)' on property \(key).")
        }
        return .value(i)
    }

    public func object(_ key: String, nullable: Bool = false) throws(UsherError) -> PatchField<JSONObject> {
        guard let raw = body[key] else { return .absent }
        switch raw {
        case .null where nullable: return .null
        case .object(let o): return .value(o)
        default: throw Self.typeError(key, expected: "object", found: raw)
        }
    }

    public func stringArray(_ key: String, maxCount: Int = 1_000, maxLength: Int = 2_048) throws(UsherError) -> PatchField<[String]> {
        guard let raw = body[key] else { return .absent }
        guard case .array(let items) = raw else { throw Self.typeError(key, expected: "array", found: raw) }
        if items.count > maxCount {
            throw .invalidBody("'Array is too long (\(items.count)), maximum \(maxCount)' on property \(key).")
        }
        var strings: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw Self.typeError("\(key)[]", expected: "string", found: item) }
            if s.count > maxLength { throw .invalidBody("'String is too long' on property \(key)[].") }
            strings.append(s)
        }
        return .value(strings)
    }

    /// Like `string`, but absent and null are both "no value".
    public func optionalString(_ key: String, minLength: Int = 0, maxLength: Int = 10_000) throws(UsherError) -> String? {
        try string(key, minLength: minLength, maxLength: maxLength, nullable: true).value
    }
}
