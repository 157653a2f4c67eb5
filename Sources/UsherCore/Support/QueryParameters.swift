/// A request's query string, read the way Auth0 validates it: every number is range-checked where it is read.
///
/// Numbers from a query string are attacker-chosen. A value past what `Int` holds, or one that is in range but
/// overflows when multiplied into an offset, would trap the whole server (a Swift overflow is a crash, not an
/// error). So every integer parameter goes through `integer(_:default:range:)`, whose range is the only place a
/// bound is stated, and offsets come from `offset(page:perPage:)`, which cannot overflow. Bad values are Auth0's
/// 400 `invalid_query_string` naming the parameter.
public struct QueryParameters: Sendable {
    /// The decoded parameters; a repeated name keeps its last value.
    public let values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    public subscript(name: String) -> String? { values[name] }

    /// Whether the parameter is present (even with an empty value).
    public func has(_ name: String) -> Bool { values[name] != nil }

    /// The whole number `name` in `range`, or `fallback` when the parameter is absent.
    public func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(UsherError) -> Int {
        guard let raw = values[name] else { return fallback }
        return try Self.integer(raw, name: name, range: range)
    }

    /// `raw` as a whole number in `range`, or the 400 for the parameter `name`.
    public static func integer(_ raw: String, name: String, range: ClosedRange<Int>) throws(UsherError) -> Int {
        // `Int(_:)` refuses anything past Int64 (2^63, 2^64, 1e30) as well as non-numbers: both are out of range.
        guard let number = Int(raw), range.contains(number) else {
            let upper = range.upperBound == Int.max ? "" : " to \(range.upperBound)"
            let bound = range.upperBound == Int.max ? "an integer of at least \(range.lowerBound)" : "an integer from \(range.lowerBound)\(upper)"
            throw .invalidQuery("Query validation error: '\(name)' must be \(bound)")
        }
        return number
    }

    /// `true` or `false` for `name`, or `fallback` when absent; anything else is the parameter's 400.
    public func bool(_ name: String, default fallback: Bool) throws(UsherError) -> Bool {
        guard let raw = values[name] else { return fallback }
        switch raw {
        case "true": return true
        case "false": return false
        default: throw .invalidQuery("Query validation error: '\(name)' must be true or false")
        }
    }

    /// The first item of page `page` (0-based) of `perPage` items, saturating instead of overflowing: a page
    /// beyond any list simply starts past its end.
    public static func offset(page: Int, perPage: Int) -> Int {
        let (product, overflow) = max(0, page).multipliedReportingOverflow(by: max(0, perPage))
        return overflow ? Int.max : product
    }

    /// `start + count`, saturating: the end of a slice that starts at a caller-chosen offset.
    public static func end(start: Int, count: Int) -> Int {
        let (sum, overflow) = start.addingReportingOverflow(count)
        return overflow ? Int.max : sum
    }
}
