import UsherJSON

extension UserSearchQuery {
    /// Whether a user document (Auth0's JSON shape: `user_id`, `email`, `name`, `app_metadata`, `identities`, …)
    /// satisfies the query. See `UserSearchQuery` for the matching rules.
    public func matches(_ document: JSONObject) -> Bool {
        expression.matches(document)
    }
}

extension UserSearchQuery.Expression {
    /// Evaluates the tree against a user document. Recursion follows the tree, whose depth the parser bounds.
    public func matches(_ document: JSONObject) -> Bool {
        switch self {
        case .matchAll:
            return true
        case .term(let field, let match):
            let ignoreCase = field.isCaseInsensitive
            return UserSearchDocument.values(at: field, in: document).contains {
                UserSearchDocument.value($0, matches: match, ignoreCase: ignoreCase)
            }
        case .exists(let field):
            return UserSearchDocument.values(at: field, in: document).contains { UserSearchDocument.isIndexed($0, depth: 0) }
        case .range(let field, let lower, let upper):
            let ignoreCase = field.isCaseInsensitive
            return UserSearchDocument.values(at: field, in: document).contains {
                UserSearchDocument.value($0, lower: lower, upper: upper, ignoreCase: ignoreCase)
            }
        case .and(let children):
            return children.allSatisfy { $0.matches(document) }
        case .or(let children):
            return children.contains { $0.matches(document) }
        case .not(let child):
            return !child.matches(document)
        }
    }
}

/// Reading values out of a user document the way Auth0's index sees them.
enum UserSearchDocument {
    /// Deepest JSON nesting (arrays inside arrays, objects inside objects) the evaluator follows.
    static let maxDepth = 32

    /// The values at `path`, with arrays flattened at every level (arrays are transparent). Objects at the end of the
    /// path are returned as they are (for `_exists_`).
    static func values(at path: UserSearchQuery.FieldPath, in document: JSONObject) -> [JSONValue] {
        if path.isEmailDomain {
            guard case .string(let email)? = document["email"], let at = email.lastIndex(of: "@") else { return [] }
            return [.string(String(email[email.index(after: at)...]))]
        }
        guard let first = path.components.first, let root = document[first] else { return [] }
        var out: [JSONValue] = []
        collect(root, path.components.dropFirst(), depth: 0, into: &out)
        return out
    }

    private static func collect(_ value: JSONValue, _ rest: ArraySlice<String>, depth: Int, into out: inout [JSONValue]) {
        guard depth < maxDepth else { return }
        switch value {
        case .array(let items):
            for item in items { collect(item, rest, depth: depth + 1, into: &out) }
        case .object(let object):
            if let key = rest.first {
                if let next = object[key] { collect(next, rest.dropFirst(), depth: depth + 1, into: &out) }
            } else {
                out.append(value)
            }
        default:
            if rest.isEmpty { out.append(value) }
        }
    }

    /// Auth0 does not index `null`, empty arrays or empty objects.
    static func isIndexed(_ value: JSONValue, depth: Int) -> Bool {
        guard depth < maxDepth else { return false }
        switch value {
        case .null: return false
        case .array(let items): return items.contains { isIndexed($0, depth: depth + 1) }
        case .object(let object): return object.contains { isIndexed($0.value, depth: depth + 1) }
        default: return true
        }
    }

    static func value(_ value: JSONValue, matches match: UserSearchQuery.ValueMatch, ignoreCase: Bool) -> Bool {
        switch match {
        case .wildcard(let pattern):
            guard case .string(let text) = value else { return false }
            return pattern.matches(text, caseInsensitive: ignoreCase)
        case .exact(let text), .phrase(let text):
            return self.value(value, equals: UserSearchQuery.Literal(text), ignoreCase: ignoreCase)
        }
    }

    static func value(_ value: JSONValue, equals literal: UserSearchQuery.Literal, ignoreCase: Bool) -> Bool {
        switch value {
        case .string(let text):
            if ignoreCase ? text.lowercased() == literal.text.lowercased() : text == literal.text { return true }
            // A date value matches a date literal naming the period it falls in (`created_at:2024-05-01`).
            if let period = literal.date, let instant = UserSearchQuery.SearchDate(iso8601: text), instant.precision >= .day {
                return period.start <= instant.start && instant.start < period.end
            }
            return false
        case .bool(let flag):
            return literal.bool == flag
        case .int(let number):
            if let integer = literal.integer { return integer == number }
            if let double = literal.number { return Double(number) == double }
            return false
        case .double(let number):
            return literal.number == number
        case .null, .array, .object:
            return false
        }
    }

    static func value(
        _ value: JSONValue, lower: UserSearchQuery.RangeBound?, upper: UserSearchQuery.RangeBound?, ignoreCase: Bool
    ) -> Bool {
        switch value {
        case .int(let number):
            // Exact integer comparison when every bound is an integer; otherwise as doubles.
            if lower.map({ $0.value.integer != nil }) ?? true, upper.map({ $0.value.integer != nil }) ?? true {
                return within(
                    number, lower.flatMap { b in b.value.integer.map { ($0, b.inclusive) } },
                    upper.flatMap { b in b.value.integer.map { ($0, b.inclusive) } })
            }
            return doubleWithin(Double(number), lower, upper)
        case .double(let number):
            return doubleWithin(number, lower, upper)
        case .string(let text):
            if lower.map({ $0.value.date != nil }) ?? true, upper.map({ $0.value.date != nil }) ?? true,
                let instant = UserSearchQuery.SearchDate(iso8601: text)
            {
                let x = instant.start
                if let lower, let date = lower.value.date {
                    guard x >= (lower.inclusive ? date.start : date.end) else { return false }
                }
                if let upper, let date = upper.value.date {
                    guard x < (upper.inclusive ? date.end : date.start) else { return false }
                }
                return true
            }
            let fold: (String) -> String = ignoreCase ? { $0.lowercased() } : { $0 }
            let x = fold(text)
            if let lower {
                let order = compareBytes(x, fold(lower.value.text))
                guard order > 0 || (order == 0 && lower.inclusive) else { return false }
            }
            if let upper {
                let order = compareBytes(x, fold(upper.value.text))
                guard order < 0 || (order == 0 && upper.inclusive) else { return false }
            }
            return true
        case .bool, .null, .array, .object:
            return false
        }
    }

    private static func doubleWithin(
        _ x: Double, _ lower: UserSearchQuery.RangeBound?, _ upper: UserSearchQuery.RangeBound?
    ) -> Bool {
        var lo: (Double, Bool)?
        var hi: (Double, Bool)?
        if let lower {
            guard let n = lower.value.number else { return false }
            lo = (n, lower.inclusive)
        }
        if let upper {
            guard let n = upper.value.number else { return false }
            hi = (n, upper.inclusive)
        }
        return within(x, lo, hi)
    }

    private static func within<T: Comparable>(_ x: T, _ lower: (T, Bool)?, _ upper: (T, Bool)?) -> Bool {
        if let lower, !(x > lower.0 || (lower.1 && x == lower.0)) { return false }
        if let upper, !(x < upper.0 || (upper.1 && x == upper.0)) { return false }
        return true
    }

    /// Byte-wise UTF-8 order (what SQL's binary collation does): -1, 0 or 1.
    private static func compareBytes(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
    }
}
