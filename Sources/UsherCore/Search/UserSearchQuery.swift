/// A parsed user-search query (`GET /api/v2/users?q=…`, Auth0 search engine v3).
///
/// Auth0 v3 accepts a subset of the Lucene query syntax. `UserSearchQuery.parse(_:)` turns the `q` string into an
/// immutable tree (`Expression`) that the in-memory evaluator (`matches(_:)`) runs against a user document in
/// Auth0's JSON shape, and that a storage adapter can translate to SQL.
///
/// ## Syntax accepted
/// | form | example | tree |
/// | --- | --- | --- |
/// | field term | `email:jane@example.com` | `.term(field: ["email"], match: .exact("jane@example.com"))` |
/// | quoted value | `name:"Jane Doe"` | `.term(field: ["name"], match: .phrase("Jane Doe"))` |
/// | nested path | `app_metadata.plan.tier:gold`, `identities.connection:"Username-Password-Authentication"` | components split on unescaped `.` |
/// | derived field | `email.domain:"example.com"` | the part of `email` after the last `@` |
/// | bare term | `jane` | `.or` of one `.term` per `UserSearchQuery.defaultFields` |
/// | field group | `name:(jane OR john)` | the group's bare terms search that field only |
/// | existence | `_exists_:app_metadata.plan`, `field:*`, `field:[* TO *]` | `.exists(path)` |
/// | wildcard | `email:jane*`, `name:*doe`, `user_id:auth0?123` | `.term(…, match: .wildcard(pattern))` |
/// | range | `logins_count:[1 TO 10]`, `{a TO b}`, `[1 TO 10}`, `created_at:[2024-01-01 TO *]` | `.range(field:lower:upper:)` |
/// | boolean | `a AND b`, `a && b`, `a OR b`, `a \|\| b`, `NOT a`, `!a` | `.and`, `.or`, `.not` |
/// | modifiers | `-a` (must not), `+a` (must) | see "Implicit operator" |
/// | grouping | `(a OR b) AND c` | |
/// | escapes | `name:Jane\ Doe`, `user_id:auth0\|1`, `email:a\*b@x.io` | a backslash makes the next character literal |
/// | match all | empty or blank `q`, `*`, `*:*` | `.matchAll` |
/// | boost | `name:jane^2` | accepted and ignored (it only changes ranking) |
///
/// Operators are recognised only in capitals (`AND`, `OR`, `NOT`, `TO`), as Auth0 documents; `and` is a search term.
/// Precedence is `NOT` > `AND` > `OR` > juxtaposition. After `field:` a value may contain unescaped `:` (for example
/// `created_at:2024-01-01T10:00:00Z`), and whitespace may follow the colon (`name: "jane"`), as the Auth0 examples do.
///
/// ## Implicit operator (terms separated only by whitespace)
/// Lucene's and Elasticsearch's default operator is `OR`, and Auth0's v2 syntax page says so explicitly
/// (`user_name:(john smith)` is the same as `user_name:(john OR smith)`). Nothing in Auth0's v3 documentation says
/// the default changed, so **juxtaposed clauses are combined with Lucene's clause semantics**: a clause prefixed with
/// `+` is required, one prefixed with `-`, `!` or `NOT` is prohibited, and the others are optional; a document matches
/// when it matches every required clause, no prohibited clause, and — only when there is no required clause — at
/// least one optional clause. So `a b` is `a OR b`, `a -b` and `a NOT b` are `a AND NOT b`, `+a b` is just `a`
/// (the optional `b` only affects ranking in Lucene and is dropped), and a lone `-a` matches everything but `a`
/// (Elasticsearch's behaviour for purely negative queries). Explicit operators (`AND`, `OR`, `NOT`, `&&`, `||`, `!`)
/// follow plain boolean algebra, so `a OR NOT b` is `a ∨ ¬b`.
///
/// ## Matching rules (see `matches(_:)`)
/// - v3 does not tokenize: a term matches the whole value (`user_id:auth0` does not match `auth0|123`).
/// - Values of `email`, `name`, `given_name`, `family_name`, `nickname` (and the derived `email.domain`) compare
///   case-insensitively; every other field, including all metadata, is case-sensitive.
/// - Arrays are transparent: a term matches when any element matches (`app_metadata.roles:admin`,
///   `identities.connection:…`, `user_metadata.addresses.city:Paris`).
/// - `true`/`false` match JSON booleans, numbers match JSON numbers numerically, ISO-8601 dates match date strings
///   by instant (`created_at:2024-05-01` matches any time that day); a string value always matches its exact text.
/// - `null`, empty arrays and empty objects are not indexed by Auth0, so `_exists_` is false for them.
///
/// ## Restrictions enforced (as Auth0 documents them)
/// - Suffix and infix wildcards (a pattern starting with `*` or `?`) need at least 3 literal characters
///   (`name:*usa` is allowed, `name:*sa` and `name:*ab*` are not); prefix patterns (`name:j*`) have no minimum.
/// - Range and wildcard searches are not available on `user_metadata` fields (see `Options`).
/// - Not supported: fuzzy/proximity (`~`), regular expressions (`/…/`), wildcards in field names, ranges without a field.
/// - Limits: `Options.maxLength` (4096 UTF-8 bytes) and `Options.maxDepth` (64 nested groups or unary operators).
///
/// Positions in errors are 0-based offsets in Unicode scalars (the same as characters for ASCII input).
public struct UserSearchQuery: Sendable, Hashable, CustomStringConvertible {
    /// The root of the query tree.
    public let expression: Expression

    /// Wraps a tree built in code (for example by a dashboard filter) so it can be matched or printed.
    public init(expression: Expression) {
        self.expression = expression
    }

    /// Parser limits and switches.
    public struct Options: Sendable, Hashable {
        /// Longest accepted query, in UTF-8 bytes.
        public var maxLength: Int
        /// Deepest accepted nesting of parentheses and unary operators (`NOT`, `!`, `-`, `+`) combined.
        public var maxDepth: Int
        /// Auth0 rejects range and wildcard searches on `user_metadata`; set to `true` to allow them anyway.
        public var allowsUserMetadataRangesAndWildcards: Bool

        public init(maxLength: Int = 4096, maxDepth: Int = 64, allowsUserMetadataRangesAndWildcards: Bool = false) {
            self.maxLength = maxLength
            self.maxDepth = maxDepth
            self.allowsUserMetadataRangesAndWildcards = allowsUserMetadataRangesAndWildcards
        }
    }

    /// Parses a `q` string. Throws a `UserSearchQueryError` whose `message` is suitable for Auth0's
    /// 400 `invalid_query_string` body. A blank query matches every user.
    public static func parse(_ q: String, options: Options = Options()) throws(UserSearchQueryError) -> UserSearchQuery {
        if q.utf8.count > options.maxLength {
            throw UserSearchQueryError(.queryTooLong(limit: options.maxLength), at: nil)
        }
        var parser = UserSearchQueryParser(q, options: options)
        return UserSearchQuery(expression: try parser.parseQuery())
    }

    /// The fields a term without a field name searches, in this order. Auth0 only says that bare terms do not
    /// search metadata; Usher searches the identifying profile fields.
    public static let defaultFields: [FieldPath] = [
        "email", "name", "nickname", "given_name", "family_name", "user_id", "username",
    ].map { FieldPath([$0]) }

    /// Auth0's normalized fields whose values compare case-insensitively (top-level only).
    public static let caseInsensitiveFields: Set<String> = ["email", "name", "given_name", "family_name", "nickname"]

    /// A normalized form of the query that parses back to the same tree (handy in tests and logs).
    public var description: String { expression.description }
}
