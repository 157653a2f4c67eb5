/// Why a user-search query was rejected.
///
/// `message` reads like `Invalid query: unbalanced parenthesis at position 17` and is meant for the `message` of
/// Auth0's 400 body, whose `errorCode` is `UserSearchQueryError.errorCode` (`invalid_query_string`).
/// Positions are 0-based offsets in Unicode scalars (characters, for ASCII queries).
public struct UserSearchQueryError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Problem: Sendable, Hashable {
        /// A `(` without its `)`, or a `)` without its `(`.
        case unbalancedParenthesis
        /// `()`.
        case emptyGroup
        /// A character or operator that cannot appear here, e.g. `]`, `AND` at the start.
        case unexpected(String)
        /// An operator with nothing after it: `a AND`, `NOT`, `-`.
        case missingOperand(after: String)
        /// `name:` with no value.
        case missingValue(field: String)
        /// `:value` with no field name.
        case missingFieldName
        /// A field name with an empty component (`a..b`) or a wildcard.
        case invalidFieldName(String)
        /// A `"` without its closing `"`.
        case unterminatedPhrase
        /// A `[` or `{` range without its closing `]` or `}`.
        case unterminatedRange
        /// A range without `TO` between its bounds.
        case expectedTo
        /// A range bound that is missing or holds a wildcard.
        case invalidRangeBound(String)
        /// A range with no field name.
        case rangeWithoutField
        /// A `\` at the very end.
        case danglingEscape
        /// A suffix/infix wildcard with fewer than 3 literal characters.
        case wildcardTooShort(String)
        /// Range or wildcard on a `user_metadata` field ("range searches" / "wildcard searches").
        case notAvailableOnUserMetadata(String)
        /// Lucene syntax outside Auth0's subset ("fuzzy and proximity searches (~)", "regular expressions", …).
        case unsupported(String)
        /// The query exceeds `Options.maxLength` bytes.
        case queryTooLong(limit: Int)
        /// Groups and unary operators nest deeper than `Options.maxDepth`.
        case nestingTooDeep(limit: Int)
    }

    /// Auth0's `errorCode` for a rejected `q`.
    public static let errorCode = "invalid_query_string"

    public let problem: Problem
    /// 0-based offset in Unicode scalars, when the problem has a place.
    public let position: Int?

    public init(_ problem: Problem, at position: Int?) {
        self.problem = problem
        self.position = position
    }

    /// `Invalid query: <problem>[ at position N]`.
    public var message: String {
        let detail: String
        switch problem {
        case .unbalancedParenthesis: detail = "unbalanced parenthesis"
        case .emptyGroup: detail = "empty parentheses"
        case .unexpected(let what): detail = "unexpected '\(what)'"
        case .missingOperand(let op): detail = "missing term after '\(op)'"
        case .missingValue(let field): detail = "missing value after '\(field):'"
        case .missingFieldName: detail = "missing field name before ':'"
        case .invalidFieldName(let name): detail = "invalid field name '\(name)'"
        case .unterminatedPhrase: detail = "unterminated quoted value"
        case .unterminatedRange: detail = "unterminated range (expected ']' or '}')"
        case .expectedTo: detail = "expected 'TO' between range bounds"
        case .invalidRangeBound(let why): detail = "invalid range bound: \(why)"
        case .rangeWithoutField: detail = "range needs a field name (field:[a TO b])"
        case .danglingEscape: detail = "'\\' at the end of the query escapes nothing"
        case .wildcardTooShort(let term):
            detail = "wildcard term '\(term)' needs at least 3 literal characters when it starts with a wildcard"
        case .notAvailableOnUserMetadata(let feature): detail = "\(feature) are not available on user_metadata fields"
        case .unsupported(let feature): detail = "\(feature) are not supported"
        case .queryTooLong(let limit): detail = "query is longer than \(limit) bytes"
        case .nestingTooDeep(let limit): detail = "query nests deeper than \(limit) levels"
        }
        if let position { return "Invalid query: \(detail) at position \(position)" }
        return "Invalid query: \(detail)"
    }

    public var description: String { message }
}
