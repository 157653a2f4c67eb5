import Foundation
import Testing
import UsherJSON

@testable import UsherCore

// MARK: helpers (file-private so they never clash with other test files in the target)

private typealias Q = UserSearchQuery
private typealias X = UserSearchQuery.Expression

private func parsed(_ q: String, options: Q.Options = Q.Options()) -> Q? {
    try? Q.parse(q, options: options)
}

private func failure(_ q: String, options: Q.Options = Q.Options()) -> UserSearchQueryError? {
    do {
        _ = try Q.parse(q, options: options)
        return nil
    } catch {
        return error
    }
}

private func term(_ field: String, _ match: Q.ValueMatch) -> X {
    .term(field: Q.FieldPath(dotted: field), match: match)
}

private func str(_ s: String) -> JSONValue { .string(s) }
private func obj(_ pairs: (String, JSONValue)...) -> JSONValue { .object(JSONObject(pairs)) }

/// A user in Auth0's management JSON shape.
private let jane: JSONObject = JSONObject([
    ("user_id", str("auth0|123")),
    ("email", str("Jane.Doe@Example.com")),
    ("email_verified", .bool(false)),
    ("name", str("Jane Doe")),
    ("nickname", str("jane")),
    ("given_name", str("Jane")),
    ("family_name", str("Doe")),
    ("username", str("jdoe")),
    ("logins_count", .int(7)),
    ("created_at", str("2024-03-05T10:20:30.000Z")),
    ("last_login", str("2024-06-01T00:00:00Z")),
    (
        "app_metadata",
        obj(
            ("needsInvitation", .bool(true)),
            ("roles", .array([str("admin"), str("editor")])),
            ("plan", obj(("tier", str("gold")), ("seats", .int(10)))),
            ("score", .double(4.5)),
            ("empty", .array([])),
            ("nothing", .null),
            ("emptyObject", obj()),
            ("tags", .array([.array([str("a"), str("b")]), str("c")])),
            ("code", str("2024")),
        )
    ),
    (
        "user_metadata",
        obj(
            ("plan", obj(("tier", str("gold")))),
            ("addresses", .array([obj(("city", str("Paris"))), obj(("city", str("Seattle")))])),
            ("favorite_color", str("Blue")),
        )
    ),
    (
        "identities",
        .array([
            obj(
                ("connection", str("Username-Password-Authentication")), ("provider", str("auth0")),
                ("user_id", str("123")), ("isSocial", .bool(false))),
            obj(("connection", str("google-oauth2")), ("provider", str("google-oauth2")), ("isSocial", .bool(true))),
        ])
    ),
])

private func matchesJane(_ q: String, options: Q.Options = Q.Options()) -> Bool? {
    parsed(q, options: options)?.matches(jane)
}

/// Deterministic generator for the fuzz tests.
private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}

// MARK: syntax forms

@Suite("User search query: syntax")
struct UserSearchQuerySyntaxTests {
    @Test func fieldTerm() throws {
        let q = try Q.parse("email:jane@example.com")
        #expect(q.expression == term("email", .exact("jane@example.com")))
        #expect(q.description == "email:jane@example.com")
    }

    @Test func quotedValue() throws {
        let q = try Q.parse(#"name:"Jane Doe""#)
        #expect(q.expression == term("name", .phrase("Jane Doe")))
        #expect(q.description == #"name:"Jane Doe""#)
        #expect(try Q.parse(#"name:"say \"hi\" \\ there""#).expression == term("name", .phrase(#"say "hi" \ there"#)))
    }

    @Test func bareTermSearchesTheDefaultFields() throws {
        let q = try Q.parse("jane")
        #expect(q.expression == .or(Q.defaultFields.map { .term(field: $0, match: .exact("jane")) }))
        #expect(
            q.description
                == "email:jane OR name:jane OR nickname:jane OR given_name:jane OR family_name:jane OR user_id:jane OR username:jane"
        )
        #expect(Q.defaultFields.map(\.description) == ["email", "name", "nickname", "given_name", "family_name", "user_id", "username"])
    }

    @Test func nestedPaths() throws {
        #expect(
            try Q.parse("app_metadata.needsInvitation:true").expression
                == .term(field: Q.FieldPath(["app_metadata", "needsInvitation"]), match: .exact("true")))
        #expect(
            try Q.parse("user_metadata.plan.tier:gold").expression
                == .term(field: Q.FieldPath(["user_metadata", "plan", "tier"]), match: .exact("gold")))
        #expect(
            try Q.parse(#"identities.connection:"Username-Password-Authentication""#).expression
                == term("identities.connection", .phrase("Username-Password-Authentication")))
        #expect(try Q.parse(#"email.domain:"example.com""#).expression == term("email.domain", .phrase("example.com")))
        #expect(Q.FieldPath(dotted: "email.domain").isEmailDomain)
        #expect(Q.FieldPath(["a.b"]).description == #"a\.b"#)
        #expect(try Q.parse(#"app_metadata.a\.b:x"#).expression == .term(field: Q.FieldPath(["app_metadata", "a.b"]), match: .exact("x")))
    }

    @Test func existence() throws {
        #expect(try Q.parse("_exists_:app_metadata.plan").expression == .exists(Q.FieldPath(["app_metadata", "plan"])))
        #expect(try Q.parse("_exists_: nickname").expression == .exists("nickname"))
        #expect(try Q.parse("app_metadata.plan:*").expression == .exists("app_metadata.plan"))
        #expect(try Q.parse("logins_count:[* TO *]").expression == .exists("logins_count"))
        #expect(try Q.parse("NOT _exists_:nickname").description == "NOT _exists_:nickname")
    }

    @Test func wildcards() throws {
        let prefix = try Q.parse("email:jane*")
        guard case .term(_, .wildcard(let p)) = prefix.expression else {
            Issue.record("not a wildcard: \(prefix.expression)")
            return
        }
        #expect(p.prefix == "jane")
        #expect(p.elements == [.literal("jane"), .anyCharacters])
        #expect(prefix.description == "email:jane*")

        #expect(parsed("name:*doe") != nil)
        #expect(parsed("name:*usa*") != nil)
        #expect(parsed("name:j*") != nil)
        #expect(parsed("user_id:auth0?123") != nil)
        #expect(parsed("name:?ane") != nil)  // 3 literals after a leading '?'
        #expect(failure("name:*sa") == UserSearchQueryError(.wildcardTooShort("*sa"), at: 5))
        #expect(failure("name:*ab*") == UserSearchQueryError(.wildcardTooShort("*ab*"), at: 5))
        #expect(failure("name:??a")?.problem == .wildcardTooShort("??a"))
        #expect(failure("*sa")?.problem == .wildcardTooShort("*sa"))
        #expect(
            failure("name:*sa")?.message
                == "Invalid query: wildcard term '*sa' needs at least 3 literal characters when it starts with a wildcard at position 5"
        )
        // Escaped wildcard characters are literal.
        #expect(try Q.parse(#"email:a\*b@x.io"#).expression == term("email", .exact("a*b@x.io")))
        #expect(try Q.parse(#"name:"jane*""#).expression == term("name", .phrase("jane*")))
    }

    @Test func wildcardPatternHelpers() {
        let p = Q.WildcardPattern([.literal("a"), .literal("b"), .anyCharacters, .anyCharacters, .literal("50%_"), .anyCharacter])
        #expect(p.elements == [.literal("ab"), .anyCharacters, .literal("50%_"), .anyCharacter])
        #expect(p.sqlLikePattern() == #"ab%50\%\__"#)
        #expect(p.matches("abXX50%_z", caseInsensitive: false))
        #expect(p.matches("ab50%_z", caseInsensitive: false))
        #expect(!p.matches("ab50%_", caseInsensitive: false))
        #expect(!p.matches("AB50%_z", caseInsensitive: false))
        #expect(p.matches("AB50%_z", caseInsensitive: true))
        let many = Q.WildcardPattern([.anyCharacters, .literal("a"), .anyCharacters, .literal("a"), .anyCharacters, .literal("b")])
        #expect(!many.matches(String(repeating: "a", count: 2_000), caseInsensitive: false))
        #expect(many.matches(String(repeating: "a", count: 2_000) + "b", caseInsensitive: false))
        #expect(Q.WildcardPattern([.anyCharacter]).matches("é", caseInsensitive: false))
    }

    @Test func ranges() throws {
        #expect(
            try Q.parse("logins_count:[1 TO 10]").expression
                == .range(field: "logins_count", lower: .init("1", inclusive: true), upper: .init("10", inclusive: true)))
        #expect(
            try Q.parse("name:{a TO b}").expression
                == .range(field: "name", lower: .init("a", inclusive: false), upper: .init("b", inclusive: false)))
        #expect(
            try Q.parse("logins_count:[100 TO 200}").expression
                == .range(field: "logins_count", lower: .init("100", inclusive: true), upper: .init("200", inclusive: false)))
        #expect(
            try Q.parse("created_at:[2024-01-01 TO *]").expression
                == .range(field: "created_at", lower: .init("2024-01-01", inclusive: true), upper: nil))
        #expect(try Q.parse("logins_count:{100 TO *]").description == "logins_count:{100 TO *]")
        #expect(try Q.parse("updated_at:[* TO 2018-01-15}").description == "updated_at:[* TO 2018-01-15}")
        #expect(
            try Q.parse(#"name:["a b" TO "*"]"#).expression
                == .range(field: "name", lower: .init("a b", inclusive: true), upper: .init("*", inclusive: true)))
        #expect(try Q.parse(#"name:["a b" TO "*"]"#).description == #"name:["a b" TO "*"]"#)
        #expect(try Q.parse("logins_count:[ 1   TO   10 ]").description == "logins_count:[1 TO 10]")
        // Ranges are fine on app_metadata (Auth0 forbids them only on user_metadata).
        #expect(parsed("app_metadata.seats:[1 TO 5]") != nil)
    }

    @Test func booleanOperators() throws {
        let a = term("name", .exact("a"))
        let b = term("name", .exact("b"))
        #expect(try Q.parse("name:a AND name:b").expression == .and([a, b]))
        #expect(try Q.parse("name:a && name:b").expression == .and([a, b]))
        #expect(try Q.parse("name:a OR name:b").expression == .or([a, b]))
        #expect(try Q.parse("name:a || name:b").expression == .or([a, b]))
        #expect(try Q.parse("NOT name:a").expression == .not(a))
        #expect(try Q.parse("!name:a").expression == .not(a))
        #expect(try Q.parse("-name:a").expression == .not(a))
        #expect(try Q.parse("+name:a").expression == a)
        #expect(try Q.parse("NOT NOT name:a").expression == a)
        #expect(try Q.parse("name:a AND name:b AND name:a").expression == .and([a, b, a]))
        #expect(try Q.parse("name:a AND (name:b AND name:a)").expression == .and([a, b, a]))
    }

    @Test func precedenceIsNotThenAndThenOr() throws {
        let a = term("name", .exact("a"))
        let b = term("name", .exact("b"))
        let c = term("name", .exact("c"))
        #expect(try Q.parse("name:a OR name:b AND name:c").expression == .or([a, .and([b, c])]))
        #expect(try Q.parse("name:a AND name:b OR name:c").expression == .or([.and([a, b]), c]))
        #expect(try Q.parse("NOT name:a AND name:b").expression == .and([.not(a), b]))
        #expect(try Q.parse("name:a OR NOT name:b AND name:c").expression == .or([a, .and([.not(b), c])]))
        #expect(try Q.parse("(name:a OR name:b) AND name:c").expression == .and([.or([a, b]), c]))
        #expect(try Q.parse("NOT (name:a OR name:b)").expression == .not(.or([a, b])))
        #expect(try Q.parse("name:a OR name:b AND name:c").description == "name:a OR (name:b AND name:c)")
        #expect(try Q.parse("NOT (name:a OR name:b) AND name:c").description == "NOT (name:a OR name:b) AND name:c")
    }

    @Test func implicitOperatorFollowsLuceneClauseSemantics() throws {
        let a = term("name", .exact("a"))
        let b = term("name", .exact("b"))
        let c = term("name", .exact("c"))
        #expect(try Q.parse("name:a name:b").expression == .or([a, b]))
        #expect(try Q.parse("name:a -name:b").expression == .and([a, .not(b)]))
        #expect(try Q.parse("name:a NOT name:b").expression == .and([a, .not(b)]))
        #expect(try Q.parse("name:a !name:b").expression == .and([a, .not(b)]))
        #expect(try Q.parse("+name:a name:b").expression == a)
        #expect(try Q.parse("+name:a +name:b -name:c").expression == .and([a, b, .not(c)]))
        #expect(try Q.parse("name:a name:b -name:c").expression == .and([.or([a, b]), .not(c)]))
        #expect(try Q.parse("-name:a -name:b").expression == .and([.not(a), .not(b)]))
        #expect(try Q.parse("name:a OR name:b name:c").expression == .or([a, b, c]))
        #expect(try Q.parse("name:a AND name:b name:c").expression == .or([.and([a, b]), c]))
        // Explicit operators are plain boolean algebra.
        #expect(try Q.parse("name:a OR -name:b").expression == .or([a, .not(b)]))
    }

    @Test func fieldGroups() throws {
        #expect(
            try Q.parse("name:(jane OR john)").expression == .or([term("name", .exact("jane")), term("name", .exact("john"))]))
        #expect(
            try Q.parse("name:(jane john) AND email:x").expression
                == .and([.or([term("name", .exact("jane")), term("name", .exact("john"))]), term("email", .exact("x"))]))
        #expect(try Q.parse(#"name:("jane doe" OR j*)"#).description == #"name:"jane doe" OR name:j*"#)
        #expect(try Q.parse("name:(email:x)").expression == term("email", .exact("x")))
        #expect(try Q.parse("name:(*)").expression == .exists("name"))
    }

    @Test func escapesAndValueCharacters() throws {
        #expect(try Q.parse(#"name:Jane\ Doe"#).expression == term("name", .exact("Jane Doe")))
        #expect(try Q.parse(#"user_id:auth0|123"#).expression == term("user_id", .exact("auth0|123")))
        #expect(try Q.parse(#"name:a\(b\)"#).expression == term("name", .exact("a(b)")))
        #expect(try Q.parse("created_at:2024-01-01T10:00:00Z").expression == term("created_at", .exact("2024-01-01T10:00:00Z")))
        #expect(try Q.parse("logins_count:-5").expression == term("logins_count", .exact("-5")))
        #expect(try Q.parse(#"name:"jane""#).expression == term("name", .phrase("jane")))
        #expect(try Q.parse(#"name: "jane""#).expression == term("name", .phrase("jane")))
        #expect(try Q.parse("name:jane^2").expression == term("name", .exact("jane")))
        #expect(try Q.parse("name:AND").expression == term("name", .exact("AND")))
        #expect(try Q.parse(#"name:Jane\ Doe"#).description == #"name:Jane\ Doe"#)
    }

    @Test func operatorsMustBeCapitalised() throws {
        // `and` is a search term, as Auth0 documents ("Operators should always be capitalized").
        let q = try Q.parse("name:a and name:b")
        guard case .or(let children) = q.expression else {
            Issue.record("expected OR, got \(q.expression)")
            return
        }
        #expect(children.count == 2 + Q.defaultFields.count)
        #expect(children.contains(term("username", .exact("and"))))
    }

    @Test func matchAll() throws {
        for q in ["", "   ", "\n\t", "*", "*:*", "(*:*)"] {
            #expect(try Q.parse(q).expression == .matchAll, "\(q)")
        }
        #expect(try Q.parse("*:* AND name:a").description == "*:* AND name:a")
    }

    @Test func literalInterpretations() {
        #expect(Q.Literal("true").bool == true && Q.Literal("true").kind == .bool)
        #expect(Q.Literal("false").bool == false)
        #expect(Q.Literal("True").bool == nil)
        #expect(Q.Literal("42").integer == 42 && Q.Literal("42").kind == .integer && Q.Literal("42").number == 42)
        #expect(Q.Literal("-3").integer == -3)
        #expect(Q.Literal("1.5").integer == nil && Q.Literal("1.5").number == 1.5 && Q.Literal("1.5").kind == .number)
        #expect(Q.Literal("1e3").number == 1000)
        #expect(Q.Literal("99999999999999999999").integer == nil)  // overflow is not a trap
        #expect(Q.Literal("99999999999999999999").number != nil)
        #expect(Q.Literal("nan").number == nil && Q.Literal("inf").number == nil && Q.Literal("0x10").number == nil)
        #expect(Q.Literal("1e999").number == nil)
        #expect(Q.Literal("2024-01-15").kind == .date)
        #expect(Q.Literal("gold").kind == .string)
        #expect(Q.ValueMatch.exact("7").literal?.integer == 7)
        #expect(Q.ValueMatch.wildcard(Q.WildcardPattern([.anyCharacters, .literal("abc")])).literal == nil)
    }

    @Test func dates() throws {
        let day = try #require(Q.SearchDate(iso8601: "2024-03-05"))
        #expect(day.precision == .day)
        #expect(day.start == 1_709_596_800 * 1_000_000)
        #expect(day.end - day.start == 86_400 * 1_000_000)
        let year = try #require(Q.SearchDate(iso8601: "2024"))
        #expect(year.end - year.start == 366 * 86_400 * 1_000_000)
        let month = try #require(Q.SearchDate(iso8601: "2024-02"))
        #expect(month.end - month.start == 29 * 86_400 * 1_000_000)
        let instant = try #require(Q.SearchDate(iso8601: "2024-03-05T10:20:30.123Z"))
        #expect(instant.precision == .fraction && instant.end - instant.start == 1_000)
        let zoned = try #require(Q.SearchDate(iso8601: "2024-03-05T11:20:30.123+01:00"))
        #expect(zoned.start == instant.start)
        #expect(Q.SearchDate(iso8601: "2024-03-05T11:20:30.123+0100")?.start == instant.start)
        #expect(Q.SearchDate(iso8601: "2024-03-05T10:20:30.123456789Z")?.start == instant.start + 456)
        #expect(Q.SearchDate(iso8601: "1969-12-31T23:59:59Z")?.start == -1_000_000)
        #expect(abs((day.startDate.timeIntervalSince1970) - 1_709_596_800) < 0.001)
        for bad in ["2023-02-29", "2024-13", "2024-1-1", "24-01-01", "2024-01-01T25", "2024-01-01T10:61", "2024-01-01X", "", "20x4", "2024-01-01T10:00:00.Z"] {
            #expect(Q.SearchDate(iso8601: bad) == nil, "\(bad)")
        }
        #expect(Q.SearchDate(iso8601: "2024-02-29") != nil)
    }

    @Test func descriptionRoundTrips() throws {
        let queries = [
            "email:jane@example.com", #"name:"Jane Doe""#, "jane", "app_metadata.needsInvitation:true",
            #"identities.connection:"Username-Password-Authentication" AND email.domain:"example.com""#,
            "_exists_:app_metadata.plan", "email:jane*", "name:*doe", "logins_count:[1 TO 10]", "name:{a TO b}",
            "created_at:[2024-01-01 TO *]", "a AND b OR NOT c", "(a OR b) AND -c", "+a b -c", #"name:a\ b\*c\(\)"#,
            #"name:"quote \" and \\ backslash""#, "user_id:auth0|123", "created_at:2024-01-01T10:00:00Z",
            #"name:["a b" TO "TO"]"#, "NOT NOT NOT a", "*:* OR name:x", #"app_metadata.a\.b:c"#, #"name:\/x"#,
            "name:(jane OR john) AND NOT (app_metadata.roles:admin OR app_metadata.roles:editor)",
        ]
        for q in queries {
            let first = try Q.parse(q)
            let again = try Q.parse(first.description)
            #expect(again == first, "\(q) → \(first.description)")
            #expect(again.description == first.description)
        }
    }

    @Test func referencedFields() throws {
        let q = try Q.parse("name:a AND (email:b OR name:c) AND _exists_:app_metadata.x AND logins_count:[1 TO 2]")
        #expect(q.expression.referencedFields.map(\.description) == ["name", "email", "app_metadata.x", "logins_count"])
    }
}

// MARK: errors

@Suite("User search query: errors")
struct UserSearchQueryErrorTests {
    @Test func unbalancedParentheses() {
        #expect(failure("(name:a OR name:b") == UserSearchQueryError(.unbalancedParenthesis, at: 0))
        #expect(failure("name:a)") == UserSearchQueryError(.unbalancedParenthesis, at: 6))
        let q = "name:jane AND ((email:x OR name:y)"
        #expect(failure(q) == UserSearchQueryError(.unbalancedParenthesis, at: 14))
        #expect(failure("name:jane AND email:x OR name:y)")?.message == "Invalid query: unbalanced parenthesis at position 31")
        #expect(failure("(") == UserSearchQueryError(.unbalancedParenthesis, at: 0))
        #expect(failure(")") == UserSearchQueryError(.unbalancedParenthesis, at: 0))
        #expect(failure("()") == UserSearchQueryError(.emptyGroup, at: 0))
        #expect(failure("name:()") == UserSearchQueryError(.emptyGroup, at: 5))
    }

    @Test func operatorsWithoutOperands() {
        #expect(failure("AND name:a") == UserSearchQueryError(.unexpected("AND"), at: 0))
        #expect(failure("OR") == UserSearchQueryError(.unexpected("OR"), at: 0))
        #expect(failure("name:a AND") == UserSearchQueryError(.missingOperand(after: "AND"), at: 7))
        #expect(failure("name:a OR   ") == UserSearchQueryError(.missingOperand(after: "OR"), at: 7))
        #expect(failure("name:a && ") == UserSearchQueryError(.missingOperand(after: "&&"), at: 7))
        #expect(failure("NOT") == UserSearchQueryError(.missingOperand(after: "NOT"), at: 0))
        #expect(failure("name:a -") == UserSearchQueryError(.missingOperand(after: "-"), at: 7))
        #expect(failure("(name:a AND)") == UserSearchQueryError(.missingOperand(after: "AND"), at: 8))
        #expect(failure("name:a AND OR name:b") == UserSearchQueryError(.unexpected("OR"), at: 11))
        #expect(failure("&& a") == UserSearchQueryError(.unexpected("&&"), at: 0))
        #expect(failure("name:a AND NOT") == UserSearchQueryError(.missingOperand(after: "NOT"), at: 11))
    }

    @Test func fieldsAndValues() {
        #expect(failure("name:") == UserSearchQueryError(.missingValue(field: "name"), at: 5))
        #expect(failure("name:   ") == UserSearchQueryError(.missingValue(field: "name"), at: 8))
        #expect(failure("(name:)") == UserSearchQueryError(.missingValue(field: "name"), at: 6))
        #expect(failure(":jane") == UserSearchQueryError(.missingFieldName, at: 0))
        #expect(failure("a..b:c") == UserSearchQueryError(.invalidFieldName("a..b"), at: 0))
        #expect(failure("app_metadata.:c") == UserSearchQueryError(.invalidFieldName("app_metadata."), at: 0))
        #expect(failure("na*me:x") == UserSearchQueryError(.unsupported("wildcards in field names"), at: 0))
        #expect(failure("*:x") == UserSearchQueryError(.unsupported("wildcards in field names"), at: 0))
        #expect(failure("_exists_:") == UserSearchQueryError(.missingValue(field: "_exists_"), at: 9))
        #expect(failure("_exists_:(a)") == UserSearchQueryError(.missingValue(field: "_exists_"), at: 9))
        #expect(failure("_exists_:app_*") == UserSearchQueryError(.unsupported("wildcards in field names"), at: 9))
        #expect(failure("name:]") == UserSearchQueryError(.unexpected("]"), at: 5))
        #expect(failure("]") == UserSearchQueryError(.unexpected("]"), at: 0))
    }

    @Test func phrasesRangesAndEscapes() {
        #expect(failure(#"name:"jane"#) == UserSearchQueryError(.unterminatedPhrase, at: 5))
        #expect(failure(#"name:"jane\"#) == UserSearchQueryError(.unterminatedPhrase, at: 5))
        #expect(failure("logins_count:[1 TO 10") == UserSearchQueryError(.unterminatedRange, at: 13))
        #expect(failure("logins_count:[1 TO") == UserSearchQueryError(.unterminatedRange, at: 13))
        #expect(failure("logins_count:[1") == UserSearchQueryError(.unterminatedRange, at: 13))
        #expect(failure("logins_count:[1 10]") == UserSearchQueryError(.expectedTo, at: 16))
        #expect(failure("logins_count:[1 TO 10 20]") == UserSearchQueryError(.unexpected("2"), at: 22))
        #expect(failure("logins_count:[TO 10]") == UserSearchQueryError(.invalidRangeBound("missing lower bound"), at: 14))
        #expect(failure("logins_count:[1 TO ]") == UserSearchQueryError(.invalidRangeBound("missing upper bound"), at: 19))
        #expect(failure("name:[a* TO b]")?.problem == .invalidRangeBound("wildcards are only allowed as a lone '*'"))
        #expect(failure("[1 TO 2]") == UserSearchQueryError(.rangeWithoutField, at: 0))
        #expect(failure(#"name:jane\"#) == UserSearchQueryError(.danglingEscape, at: 9))
        #expect(failure("name:jane~") == UserSearchQueryError(.unsupported("fuzzy and proximity searches (~)"), at: 9))
        #expect(failure(#""a b"~2"#)?.problem == .unsupported("fuzzy and proximity searches (~)"))
        #expect(failure("name:/ja.e/") == UserSearchQueryError(.unsupported("regular expressions (/…/)"), at: 5))
        #expect(failure("name:jane^") == UserSearchQueryError(.unexpected("^"), at: 9))
        #expect(failure("name:jane~")?.message == "Invalid query: fuzzy and proximity searches (~) are not supported at position 9")
    }

    @Test func userMetadataRestrictions() {
        #expect(failure("user_metadata.plan:gold*") == UserSearchQueryError(.notAvailableOnUserMetadata("wildcard searches"), at: 19))
        #expect(failure("user_metadata.age:[1 TO 5]") == UserSearchQueryError(.notAvailableOnUserMetadata("range searches"), at: 0))
        #expect(
            failure("user_metadata.age:[1 TO 5]")?.message
                == "Invalid query: range searches are not available on user_metadata fields at position 0")
        #expect(failure("user_metadata.plan:(gold OR silver*)")?.problem == .notAvailableOnUserMetadata("wildcard searches"))
        let relaxed = Q.Options(allowsUserMetadataRangesAndWildcards: true)
        #expect(parsed("user_metadata.plan:gold*", options: relaxed) != nil)
        #expect(parsed("user_metadata.age:[1 TO 5]", options: relaxed) != nil)
        // Exact matches and existence are fine on user_metadata.
        #expect(parsed("user_metadata.plan.tier:gold") != nil)
        #expect(parsed("_exists_:user_metadata.fav_color") != nil)
        #expect(parsed("user_metadata.fav_color:*") != nil)
    }

    @Test func sizeAndDepthLimits() {
        let long = "name:" + String(repeating: "a", count: 4_092)
        #expect(long.utf8.count == 4_097)
        #expect(failure(long) == UserSearchQueryError(.queryTooLong(limit: 4_096), at: nil))
        #expect(failure(long)?.message == "Invalid query: query is longer than 4096 bytes")
        #expect(parsed(String(long.dropLast())) != nil)
        #expect(failure("name:" + String(repeating: "é", count: 2_046))?.problem == .queryTooLong(limit: 4_096))  // bytes, not characters

        let ok = String(repeating: "(", count: 64) + "a" + String(repeating: ")", count: 64)
        #expect(parsed(ok) != nil)
        let deep = String(repeating: "(", count: 65) + "a" + String(repeating: ")", count: 65)
        #expect(failure(deep) == UserSearchQueryError(.nestingTooDeep(limit: 64), at: 64))
        #expect(failure(String(repeating: "NOT ", count: 65) + "a")?.problem == .nestingTooDeep(limit: 64))
        #expect(failure(String(repeating: "-", count: 200) + "a")?.problem == .nestingTooDeep(limit: 64))
        #expect(failure(String(repeating: "(", count: 2_000))?.problem == .nestingTooDeep(limit: 64))
        #expect(parsed(String(repeating: "-", count: 64) + "a") != nil)
        #expect(failure(deep, options: Q.Options(maxDepth: 100)) == nil)

        // Long flat queries are fine (no recursion per clause).
        let flat = (0..<600).map { "name:n\($0)" }.joined(separator: " OR ")
        #expect(flat.utf8.count < 8_192)
        #expect(parsed(flat, options: Q.Options(maxLength: 8_192)) != nil)
    }

    @Test func errorShape() {
        let error = UserSearchQueryError(.unbalancedParenthesis, at: 17)
        #expect(error.message == "Invalid query: unbalanced parenthesis at position 17")
        #expect(String(describing: error) == error.message)
        #expect(UserSearchQueryError.errorCode == "invalid_query_string")
    }
}

// MARK: matching

@Suite("User search query: matching")
struct UserSearchQueryMatchingTests {
    @Test func normalizedFieldsIgnoreCase() {
        #expect(matchesJane("email:jane.doe@example.com") == true)
        #expect(matchesJane("email:JANE.DOE@EXAMPLE.COM") == true)
        #expect(matchesJane(#"name:"jane doe""#) == true)
        #expect(matchesJane("given_name:JANE") == true)
        #expect(matchesJane("family_name:doe") == true)
        #expect(matchesJane("nickname:Jane") == true)
        #expect(matchesJane("name:JANE*") == true)
        #expect(matchesJane("name:*DOE") == true)
        #expect(matchesJane("name:j?ne*") == true)
        // Other fields are case-sensitive.
        #expect(matchesJane("username:JDOE") == false)
        #expect(matchesJane("username:jdoe") == true)
        #expect(matchesJane("user_id:AUTH0*") == false)
        #expect(matchesJane("user_metadata.favorite_color:blue") == false)
        #expect(matchesJane("user_metadata.favorite_color:Blue") == true)
    }

    @Test func wholeValueMatchingWithoutTokenizing() {
        #expect(matchesJane("name:jane") == false)
        #expect(matchesJane("user_id:auth0") == false)
        #expect(matchesJane("user_id:auth0*") == true)
        #expect(matchesJane(#"user_id:"auth0|123""#) == true)
        #expect(matchesJane("user_id:auth0|123") == true)
        #expect(matchesJane("name:*ane*") == true)
    }

    @Test func metadataAndArrays() {
        #expect(matchesJane("app_metadata.needsInvitation:true") == true)
        #expect(matchesJane("app_metadata.needsInvitation:false") == false)
        #expect(matchesJane(#"app_metadata.needsInvitation:"true""#) == true)
        #expect(matchesJane("app_metadata.roles:admin") == true)
        #expect(matchesJane("app_metadata.roles:editor") == true)
        #expect(matchesJane("app_metadata.roles:Admin") == false)
        #expect(matchesJane("app_metadata.roles:adm*") == true)
        #expect(matchesJane("app_metadata.plan.tier:gold") == true)
        #expect(matchesJane("app_metadata.plan.seats:10") == true)
        #expect(matchesJane("app_metadata.plan.seats:[5 TO 10]") == true)
        #expect(matchesJane("app_metadata.plan:gold") == false)  // an object is not a value
        #expect(matchesJane("app_metadata.tags:a") == true)  // arrays inside arrays
        #expect(matchesJane("app_metadata.tags:c") == true)
        #expect(matchesJane("user_metadata.plan.tier:gold") == true)
        #expect(matchesJane("user_metadata.addresses.city:Paris") == true)
        #expect(matchesJane(#"user_metadata.addresses.city:"Seattle""#) == true)
        #expect(matchesJane("user_metadata.addresses.city:paris") == false)
        #expect(matchesJane(#"identities.connection:"Username-Password-Authentication""#) == true)
        #expect(matchesJane("identities.connection:google-oauth2") == true)
        #expect(matchesJane("identities.connection:github") == false)
        #expect(matchesJane("identities.isSocial:true") == true)
        #expect(matchesJane("identities.provider:auth0 AND identities.isSocial:false") == true)
        #expect(matchesJane("app_metadata.missing.deeper:x") == false)
        #expect(matchesJane("user_id.x:y") == false)
    }

    @Test func emailDomain() {
        #expect(matchesJane(#"email.domain:"example.com""#) == true)
        #expect(matchesJane("email.domain:EXAMPLE.COM") == true)
        #expect(matchesJane("email.domain:example.org") == false)
        #expect(matchesJane("email.domain:*ample.com") == true)
        #expect(matchesJane("_exists_:email.domain") == true)
        let noEmail = JSONObject([("user_id", str("x"))])
        #expect(parsed("email.domain:example.com")?.matches(noEmail) == false)
        let odd = JSONObject([("email", str("a@b@c.io"))])
        #expect(parsed("email.domain:c.io")?.matches(odd) == true)
    }

    @Test func existsFollowsAuth0Indexing() {
        #expect(matchesJane("_exists_:app_metadata.plan") == true)
        #expect(matchesJane("_exists_:app_metadata.plan.tier") == true)
        #expect(matchesJane("_exists_:app_metadata.empty") == false)
        #expect(matchesJane("_exists_:app_metadata.nothing") == false)
        #expect(matchesJane("_exists_:app_metadata.emptyObject") == false)
        #expect(matchesJane("_exists_:app_metadata.missing") == false)
        #expect(matchesJane("_exists_:user_metadata") == true)
        #expect(matchesJane("_exists_:user_metadata.addresses.city") == true)
        #expect(matchesJane("app_metadata.plan:*") == true)
        #expect(matchesJane("NOT _exists_:blocked") == true)
        #expect(matchesJane("logins_count:[* TO *]") == true)
        #expect(matchesJane("_exists_:email_verified") == true)
    }

    @Test func typedValues() {
        #expect(matchesJane("email_verified:false") == true)
        #expect(matchesJane("email_verified:true") == false)
        #expect(matchesJane("logins_count:7") == true)
        #expect(matchesJane("logins_count:7.0") == true)
        #expect(matchesJane("logins_count:8") == false)
        #expect(matchesJane("logins_count:seven") == false)
        #expect(matchesJane("logins_count:7*") == false)  // wildcards only match strings
        #expect(matchesJane("app_metadata.score:4.5") == true)
        #expect(matchesJane("app_metadata.score:4.50") == true)
        #expect(matchesJane("app_metadata.code:2024") == true)  // a string compares as text
        #expect(matchesJane("app_metadata.code:\"2024\"") == true)
    }

    @Test func numericRanges() {
        #expect(matchesJane("logins_count:[1 TO 10]") == true)
        #expect(matchesJane("logins_count:[7 TO 7]") == true)
        #expect(matchesJane("logins_count:{7 TO 10]") == false)
        #expect(matchesJane("logins_count:[1 TO 7}") == false)
        #expect(matchesJane("logins_count:[8 TO *]") == false)
        #expect(matchesJane("logins_count:[* TO 7]") == true)
        #expect(matchesJane("logins_count:{6.5 TO 7.5}") == true)
        #expect(matchesJane("logins_count:[a TO z]") == false)
        #expect(matchesJane("app_metadata.score:[4 TO 5]") == true)
        #expect(matchesJane("app_metadata.score:{4.5 TO 5]") == false)
        #expect(matchesJane("app_metadata.needsInvitation:[a TO z]") == false)
    }

    @Test func dateRangesAndDateTerms() {
        #expect(matchesJane("created_at:[2024-01-01 TO *]") == true)
        #expect(matchesJane("created_at:[2024-03-06 TO *]") == false)
        #expect(matchesJane("created_at:[* TO 2024-03-05]") == true)  // inclusive upper covers the whole day
        #expect(matchesJane("created_at:[* TO 2024-03-05}") == false)
        #expect(matchesJane("created_at:{2024-03-05 TO *]") == false)  // exclusive lower starts after the day
        #expect(matchesJane("created_at:{2024-03-04 TO *]") == true)
        #expect(matchesJane("created_at:[2024-03 TO 2024-03]") == true)
        #expect(matchesJane("created_at:[2023 TO 2024]") == true)
        #expect(matchesJane("created_at:[2024-03-05T10:20:30Z TO 2024-03-05T10:20:30Z]") == true)
        #expect(matchesJane(#"created_at:["2024-03-05T11:20:30+01:00" TO "2024-03-05T11:20:30+01:00"]"#) == true)
        #expect(matchesJane("created_at:[2024-03-05T10:20:31Z TO *]") == false)
        #expect(matchesJane("last_login:[* TO 2024-06-01T00:00:00Z}") == false)
        #expect(matchesJane("created_at:2024-03-05") == true)
        #expect(matchesJane("created_at:2024-03") == true)
        #expect(matchesJane("created_at:2024") == true)
        #expect(matchesJane("created_at:2023") == false)
        #expect(matchesJane("created_at:2024-03-05T10\\:20\\:30.000Z") == true)
        #expect(matchesJane("created_at:2024-03*") == true)  // wildcard on the stored text
    }

    @Test func stringRanges() {
        #expect(matchesJane("name:[a TO k]") == true)  // "jane doe", case-folded
        #expect(matchesJane("name:[A TO K]") == true)
        #expect(matchesJane("family_name:[e TO z]") == false)
        #expect(matchesJane("username:[jdoe TO jdoe]") == true)
        #expect(matchesJane("username:{jdoe TO *]") == false)
        #expect(matchesJane("username:[JDOE TO JDOE]") == false)  // case-sensitive field
    }

    @Test func booleanCombinations() {
        #expect(matchesJane(#"app_metadata.needsInvitation:true AND identities.connection:"Username-Password-Authentication""#) == true)
        #expect(matchesJane("name:nobody OR email:jane.doe@example.com") == true)
        #expect(matchesJane("email.domain:example.com -app_metadata.roles:admin") == false)
        #expect(matchesJane("email.domain:example.com NOT app_metadata.roles:viewer") == true)
        #expect(matchesJane("email.domain:example.com && !app_metadata.roles:admin") == false)
        #expect(matchesJane("NOT blocked:true") == true)
        #expect(matchesJane("-name:nobody") == true)
        #expect(matchesJane("+username:jdoe name:nobody") == true)  // optional clause does not filter
        #expect(matchesJane("username:nobody name:nobody") == false)
        #expect(matchesJane("(name:nobody OR nickname:jane) AND logins_count:[5 TO *]") == true)
        #expect(matchesJane("*:*") == true)
        #expect(matchesJane("") == true)
    }

    @Test func bareTerms() {
        #expect(matchesJane("jane") == true)  // nickname
        #expect(matchesJane("jdoe") == true)  // username
        #expect(matchesJane("JDOE") == false)  // username is case-sensitive
        #expect(matchesJane("auth0|123") == true)  // user_id
        #expect(matchesJane(#""jane doe""#) == true)  // name, case-insensitive
        #expect(matchesJane("Paris") == false)  // bare terms never search metadata
        #expect(matchesJane("gold") == false)
        #expect(matchesJane("jan*") == true)
    }

    @Test func programmaticQueries() {
        let q = UserSearchQuery(expression: .and([.exists("app_metadata.plan"), .not(.term(field: "name", match: .exact("x")))]))
        #expect(q.matches(jane))
        #expect(q.description == "_exists_:app_metadata.plan AND NOT name:x")
    }

    @Test func deeplyNestedDocumentsDoNotTrap() {
        var value = JSONValue.string("deep")
        for _ in 0..<1_000 { value = .array([value]) }
        let doc = JSONObject([("app_metadata", obj(("x", value)))])
        #expect(parsed("app_metadata.x:deep")?.matches(doc) == false)  // beyond the depth cap: not searched
        #expect(parsed("_exists_:app_metadata.x")?.matches(doc) == false)
        var shallow = JSONValue.string("deep")
        for _ in 0..<5 { shallow = .array([shallow]) }
        #expect(parsed("app_metadata.x:deep")?.matches(JSONObject([("app_metadata", obj(("x", shallow)))])) == true)
    }
}

// MARK: robustness

@Suite("User search query: robustness")
struct UserSearchQueryFuzzTests {
    static let alphabet: [String] = [
        "a", "b", "Z", "0", "7", " ", " ", "\t", "\n", ":", ".", "*", "?", "\\", "\"", "(", ")", "[", "]", "{", "}",
        "^", "~", "/", "+", "-", "!", "&", "|", "&&", "||", "AND", "OR", "NOT", "TO", " AND ", " OR ", " TO ",
        "name", "app_metadata", "user_metadata", "_exists_", "email.domain", "é", "😀", "\u{301}", "\u{0}", "\u{3000}",
        "2024-01-01", "[1 TO 5]", "{* TO *}", "\"a b\"",
    ]

    @Test func randomQueriesNeverTrap() {
        var rng = SplitMix64(state: 0x5EED)
        var parsedCount = 0
        for _ in 0..<6_000 {
            let length = rng.below(24)
            var q = ""
            for _ in 0..<length { q += Self.alphabet[rng.below(Self.alphabet.count)] }
            check(q, &parsedCount)
        }
        #expect(parsedCount > 300)  // the generator does reach the parser's success paths
    }

    @Test func randomScalarsNeverTrap() {
        var rng = SplitMix64(state: 42)
        var parsedCount = 0
        for _ in 0..<3_000 {
            var view = String.UnicodeScalarView()
            for _ in 0..<rng.below(30) {
                let raw = rng.below(4) == 0 ? UInt32(rng.below(0x11_0000)) : UInt32(32 + rng.below(95))
                if let scalar = Unicode.Scalar(raw) { view.append(scalar) }
            }
            check(String(view), &parsedCount)
        }
    }

    @Test func mutatedValidQueriesNeverTrap() {
        let seeds = [
            #"app_metadata.needsInvitation:true AND identities.connection:"Username-Password-Authentication""#,
            "(name:jane* OR email:*@example.com) AND -logins_count:[1 TO 10} NOT _exists_:blocked",
            #"user_metadata.plan.tier:gold && created_at:[2024-01-01 TO *] || name:Jane\ Doe^2"#,
        ]
        var rng = SplitMix64(state: 7)
        var parsedCount = 0
        for _ in 0..<4_000 {
            var scalars = Array(seeds[rng.below(seeds.count)].unicodeScalars)
            for _ in 0..<(1 + rng.below(4)) {
                let position = rng.below(scalars.count + 1)
                switch rng.below(3) {
                case 0 where position < scalars.count: scalars.remove(at: position)
                case 1:
                    let pick = Array(Self.alphabet[rng.below(Self.alphabet.count)].unicodeScalars)
                    scalars.insert(contentsOf: pick, at: position)
                default:
                    if position < scalars.count, let other = scalars.indices.randomElement(using: &rng) {
                        scalars.swapAt(position, other)
                    }
                }
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            check(String(view), &parsedCount)
        }
        #expect(parsedCount > 100)
    }

    /// Parses, and for accepted queries checks that the printed form parses back to the same tree and that
    /// matching runs.
    private func check(_ q: String, _ parsedCount: inout Int) {
        do {
            let query = try UserSearchQuery.parse(q)
            parsedCount += 1
            let printed = query.description
            do {
                let again = try UserSearchQuery.parse(printed, options: Q.Options(maxLength: 1 << 20))
                #expect(again == query, "round trip of \(q.debugDescription) via \(printed.debugDescription)")
            } catch {
                Issue.record("printed form \(printed.debugDescription) of \(q.debugDescription) failed: \(error)")
            }
            _ = query.matches(jane)
        } catch {
            #expect(error.message.hasPrefix("Invalid query: "))
            if let position = error.position {
                #expect(position >= 0 && position <= q.unicodeScalars.count, "\(q.debugDescription): \(error)")
            }
        }
    }
}

extension SplitMix64: RandomNumberGenerator {}
