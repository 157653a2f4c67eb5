import Testing
import UsherJSON

@testable import UsherCore

// MARK: helpers (file-private so they never clash with other test files in the target)

private func policy(_ level: PasswordPolicy.Level, minLength: Int? = nil) -> PasswordPolicy {
    PasswordPolicy(level: level, minLength: minLength)
}

private func accepts(_ p: PasswordPolicy, _ password: String, user: PasswordUserInfo? = nil) -> Bool {
    do {
        try p.validate(password: password, user: user)
        return true
    } catch {
        return false
    }
}

private func rejection(
    _ p: PasswordPolicy, _ password: String, user: PasswordUserInfo? = nil, isReused: ((String) -> Bool)? = nil
) -> PasswordPolicyError? {
    do {
        try p.validate(password: password, user: user, isReused: isReused)
        return nil
    } catch {
        return error
    }
}

private func options(_ pairs: (String, JSONValue)...) -> JSONObject { JSONObject(pairs) }
private func obj(_ pairs: (String, JSONValue)...) -> JSONValue { .object(JSONObject(pairs)) }

/// Mutable counter for closures (tests run the closure synchronously).
private final class CallCounter: @unchecked Sendable {
    var calls = 0
}

// MARK: levels

@Suite("Password policy: levels")
struct PasswordPolicyLevelTests {
    @Test func none() {
        let p = policy(.none)
        #expect(!accepts(p, ""))
        #expect(accepts(p, "a"))
        #expect(accepts(p, " "))
        #expect(rejection(p, "")?.description == "PasswordStrengthError: Password is too weak")
    }

    @Test func low() {
        let p = policy(.low)
        #expect(!accepts(p, "abcde"))
        #expect(accepts(p, "abcdef"))
        #expect(accepts(p, "123456"))  // no dictionary unless enabled
    }

    @Test func fairNeedsAllThreeClasses() {
        let p = policy(.fair)
        #expect(accepts(p, "Abcdefg1"))
        #expect(!accepts(p, "Abcdef1"))  // 7
        #expect(!accepts(p, "abcdefg1"))  // no upper
        #expect(!accepts(p, "ABCDEFG1"))  // no lower
        #expect(!accepts(p, "Abcdefgh"))  // no digit
        #expect(!accepts(p, "abcdef1!"))  // a special does not replace the upper case letter
        #expect(accepts(p, "aB3" + String(repeating: "!", count: 5)))
    }

    @Test func goodNeedsThreeOfFour() {
        let p = policy(.good)
        #expect(accepts(p, "Abcdefg1"))  // lower upper digit
        #expect(accepts(p, "abcdefg1!"))  // lower digit special
        #expect(accepts(p, "ABCDEFG1!"))  // upper digit special
        #expect(accepts(p, "abc def1"))  // space is special
        #expect(!accepts(p, "ABCDEFG!"))  // 2 of 4
        #expect(!accepts(p, "abcdefgh"))
        #expect(!accepts(p, "12345678"))
        #expect(!accepts(p, "Abcdef1"))  // 7 characters
        #expect(accepts(p, "Abcdefgh1!aaaa"))  // runs are fine below excellent
    }

    @Test func excellentAddsLengthTenAndIdenticalCharacters() {
        let p = policy(.excellent)
        #expect(accepts(p, "Abcdefgh1!"))
        #expect(!accepts(p, "Abcdefg1!"))  // 9
        #expect(accepts(p, "Abbcdefgh1"))  // a run of 2 is fine
        #expect(!accepts(p, "Abbbcdefg1"))  // "bbb"
        #expect(!accepts(p, "Abcdefgh1!!!"))
        #expect(accepts(p, "Aaabcdefg1"))  // "A" and "a" differ
        #expect(!accepts(p, "ABCDEFGHIJ"))  // 1 class
        let results = p.check(password: "Abbbcdefg1")
        #expect(results.first { $0.id == "identicalChars" }?.passed == false)
        #expect(results.first { $0.id == "containsAtLeast" }?.passed == true)
    }

    @Test func specialCharactersAreTheOWASPSet() {
        let set = ##" !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"##
        #expect(PasswordPolicy.specialCharacters == set)
        #expect(set.count == 33)
        for ch in set {
            #expect(PasswordPolicy.has(class: "specialCharacters", in: String(ch)), "\(ch)")
            #expect(accepts(policy(.good), "abcdefg1" + String(ch)), "\(ch)")
        }
        for ch in ["é", "€", "£", "§", "¡", "¿", "\u{3000}", "\t", "\n", "😀", "ß"] {
            #expect(!PasswordPolicy.has(class: "specialCharacters", in: ch), "\(ch)")
            #expect(!accepts(policy(.good), "abcdefg1" + ch), "\(ch)")
        }
        // Character classes are ASCII, like the JavaScript regular expressions.
        #expect(!PasswordPolicy.has(class: "upperCase", in: "ÀÉ"))
        #expect(!PasswordPolicy.has(class: "lowerCase", in: "àé"))
        #expect(!PasswordPolicy.has(class: "numbers", in: "١٢٣"))  // Arabic-Indic digits
    }

    @Test func minLengthOverride() {
        #expect(!accepts(policy(.good, minLength: 12), "Abcdefg1"))
        #expect(accepts(policy(.good, minLength: 12), "Abcdefghij1!"))
        #expect(accepts(policy(.excellent, minLength: 4), "Ab1!"))
        #expect(!accepts(policy(.excellent, minLength: 4), "Ab1"))
        #expect(policy(.low, minLength: 1).strengthRules.first?.id == "nonEmpty")
        #expect(policy(.none, minLength: 10).strengthRules.first?.message == "At least 10 characters in length")
        #expect(policy(.good, minLength: 500).effectiveMinLength == 128)
        #expect(policy(.good, minLength: 0).effectiveMinLength == 1)
        #expect(policy(.excellent).effectiveMinLength == 10)
    }

    @Test func unicodeLengthCountsUTF16CodeUnits() {
        #expect(accepts(policy(.low), "éééééé"))
        #expect(!accepts(policy(.low), "ééééé"))
        #expect(accepts(policy(.low), "😀😀😀"))  // 6 UTF-16 code units, like JavaScript's length
        #expect(!accepts(policy(.low), "😀😀"))
        #expect(accepts(policy(.good), "Pässwörd1"))
        #expect(accepts(policy(.none), "密"))
    }

    @Test func identicalCharactersCompareGraphemes() {
        #expect(PasswordPolicy.longestRun(in: "😀😀😀") == 3)
        #expect(PasswordPolicy.longestRun(in: "e\u{301}e\u{301}e\u{301}") == 3)
        #expect(PasswordPolicy.longestRun(in: "") == 0)
        #expect(PasswordPolicy.longestRun(in: "abcabc") == 1)
        #expect(!accepts(policy(.excellent), "Abcdefg1!😀😀😀"))
    }

    @Test func seventyTwoByteLimit() throws {
        let exactly72 = "Aa1!" + String(repeating: "x", count: 68)
        #expect(exactly72.utf8.count == 72)
        #expect(accepts(policy(.good), exactly72))
        let error = try #require(rejection(policy(.good), exactly72 + "y"))
        #expect(error.kind == .tooLong)
        #expect(error.name == "PasswordStrengthError")
        #expect(error.description == "PasswordStrengthError: Password is too long (at most 72 bytes)")
        #expect(error.failedRules.map(\.id) == ["maxLength"])
        #expect(accepts(policy(.none), String(repeating: "é", count: 36)))
        #expect(rejection(policy(.none), String(repeating: "é", count: 37))?.kind == .tooLong)
        #expect(accepts(policy(.none), String(repeating: "😀", count: 18)))
        #expect(rejection(policy(.none), String(repeating: "😀", count: 19))?.kind == .tooLong)
        // Applies at every level, even when the password is otherwise weak.
        #expect(rejection(policy(.excellent), String(repeating: "a", count: 100))?.kind == .tooLong)
    }
}

// MARK: options

@Suite("Password policy: history, dictionary, personal information")
struct PasswordPolicyOptionTests {
    @Test func history() async {
        var p = policy(.low)
        p.history = .init(enabled: true, size: 3)
        let counter = CallCounter()
        let error = rejection(p, "correct horse") { _ in
            counter.calls += 1
            return true
        }
        #expect(error?.kind == .reused)
        #expect(error?.description == "PasswordHistoryError: Password has previously been used")
        #expect(error?.failedRules.map(\.message) == ["Not one of your last 3 passwords"])
        #expect(rejection(p, "correct horse") { _ in false } == nil)
        #expect(rejection(p, "correct horse") == nil)  // no checker, no history check

        // Not consulted for a password that fails anyway (bcrypt work saved).
        let weak = rejection(p, "abc") { _ in
            counter.calls += 1
            return true
        }
        #expect(weak?.kind == .tooWeak)
        #expect(counter.calls == 1)

        // Off, or size 0: never consulted.
        p.history = .init(enabled: false, size: 3)
        #expect(rejection(p, "correct horse") { _ in true } == nil)
        p.history = .init(enabled: true, size: 0)
        #expect(rejection(p, "correct horse") { _ in true } == nil)

        // The asynchronous variant.
        p.history = .init(enabled: true, size: 24)
        do {
            try await p.validate(password: "correct horse") { password in
                await Task.yield()
                return password == "correct horse"
            }
            Issue.record("expected PasswordHistoryError")
        } catch {
            #expect(error.kind == .reused)
        }
        do {
            try await p.validate(password: "battery staple") { _ in false }
        } catch {
            Issue.record("unexpected \(error)")
        }

        // check() only reports history when it can.
        #expect(!p.check(password: "x").contains { $0.id == "history" })
        #expect(p.check(password: "x", isReused: { _ in true }).first { $0.id == "history" }?.passed == false)
        #expect(PasswordPolicy.HistorySettings(enabled: true, size: 99).size == 24)
        #expect(PasswordPolicy.HistorySettings(enabled: true, size: -1).size == 0)
    }

    @Test func dictionary() throws {
        var p = policy(.none)
        #expect(accepts(p, "password"))
        p.dictionary = .init(enabled: true)
        let error = try #require(rejection(p, "password"))
        #expect(error.kind == .tooCommon)
        #expect(error.description == "PasswordDictionaryError: Password is too common")
        #expect(!accepts(p, "PassWord"))  // case-insensitive
        #expect(!accepts(p, "123456"))
        #expect(!accepts(p, "qwerty"))
        #expect(!accepts(p, "dragon"))
        #expect(accepts(p, "password-but-longer"))  // whole-password match, not a substring search

        p.dictionary = .init(enabled: true, entries: ["AcmeCorp2024!", String(repeating: "x", count: 51)])
        #expect(p.dictionary.entries == ["AcmeCorp2024!"])  // over-long entries are dropped
        #expect(!accepts(p, "acmecorp2024!"))
        #expect(!accepts(p, "ACMECORP2024!"))
        #expect(!accepts(p, "password"))  // built-in list still applies
        // Custom entries are used with any built-in list, even an empty one.
        #expect(rejection(p, "acmecorp2024!").map { _ in true } == true)
        #expect(throws: PasswordPolicyError.self) {
            try p.validate(password: "AcmeCorp2024!", dictionary: CustomPasswordDictionary([]))
        }
        #expect(PasswordPolicy.DictionarySettings(enabled: true, entries: Array(repeating: "a", count: 300)).entries.count == 200)

        // Strength is checked first.
        var strong = policy(.good)
        strong.dictionary = .init(enabled: true)
        #expect(rejection(strong, "password")?.kind == .tooWeak)
        #expect(rejection(strong, "Password1")?.kind == (BuiltInPasswordDictionary.shared.contains("password1") ? .tooCommon : nil))
    }

    @Test func builtInDictionary() {
        let d = BuiltInPasswordDictionary.shared
        #expect(d.entries.count == 10_000)
        #expect(d.contains("123456") && d.contains("PASSWORD") && d.contains("letmein") && d.contains("trustno1"))
        #expect(!d.contains("correct horse battery staple"))
        #expect(!d.contains(""))
        #expect(d.entries.allSatisfy { $0 == $0.lowercased() && !$0.isEmpty })
        let combined = CombinedPasswordDictionary([CustomPasswordDictionary(["Zebra"]), d])
        #expect(combined.contains("zEBRA") && combined.contains("qwerty") && !combined.contains("okapi-77"))
    }

    @Test func personalInformation() throws {
        var p = policy(.none)
        p.noPersonalInfo = true
        let user = PasswordUserInfo(
            email: "Jane.Doe@example.com", name: "Jane Doe", username: "jdoe", nickname: "jo",
            metadataName: "Janey", metadataFirst: "Maximilian", metadataLast: "Smith")
        let error = try #require(rejection(p, "xJANE.DOE!9", user: user))
        #expect(error.kind == .containsUserInfo)
        #expect(error.description == "PasswordNoUserInfoError: Password contains user information")
        #expect(!accepts(p, "I am jane doe", user: user))  // name
        #expect(!accepts(p, "JDOE-rules", user: user))  // username
        #expect(!accepts(p, "janey2024", user: user))  // user_metadata.name
        #expect(!accepts(p, "maximilian!", user: user))  // user_metadata.first
        #expect(!accepts(p, "agentsmith", user: user))  // user_metadata.last
        #expect(accepts(p, "Jo-Jo-Jo", user: user))  // values under 3 characters are ignored
        #expect(accepts(p, "correct horse", user: user))
        #expect(accepts(p, "xjane.doe!9"))  // no user, nothing to compare
        p.noPersonalInfo = false
        #expect(accepts(p, "xjane.doe!9", user: user))

        #expect(user.emailLocalPart == "Jane.Doe")
        #expect(PasswordUserInfo(email: "a@b@c.io").emailLocalPart == "a@b")
        #expect(PasswordUserInfo(email: "nobody").emailLocalPart == "nobody")
        #expect(PasswordUserInfo(name: "  ", username: "").blockedValues.isEmpty)
    }

    @Test func userInfoFromAuth0JSON() {
        let json = JSONObject([
            ("email", .string("jane@example.com")), ("name", .string("Jane")), ("username", .string("jdoe")),
            ("nickname", .int(3)),
            ("user_metadata", obj(("name", .string("JJ")), ("first", .string("Janet")), ("last", .string("Doe")))),
        ])
        let info = PasswordUserInfo(userJSON: json)
        #expect(
            info == PasswordUserInfo(email: "jane@example.com", name: "Jane", username: "jdoe", metadataName: "JJ", metadataFirst: "Janet", metadataLast: "Doe")
        )
        #expect(info.blockedValues == ["Jane", "jdoe", "Janet", "Doe", "jane"])
    }

    @Test func errorOrder() {
        var p = policy(.good)
        p.dictionary = .init(enabled: true, entries: ["Troub4dor&3"])
        p.noPersonalInfo = true
        p.history = .init(enabled: true, size: 5)
        let user = PasswordUserInfo(username: "troub")
        #expect(rejection(p, String(repeating: "a", count: 80), user: user) { _ in true }?.kind == .tooLong)
        #expect(rejection(p, "troub", user: user) { _ in true }?.kind == .tooWeak)
        #expect(rejection(p, "Troub4dor&3", user: user) { _ in true }?.kind == .tooCommon)
        #expect(rejection(p, "Troub4dor&4", user: user) { _ in true }?.kind == .containsUserInfo)
        #expect(rejection(p, "Xr0ub4dor&4", user: user) { _ in true }?.kind == .reused)
        #expect(rejection(p, "Xr0ub4dor&4", user: user) { _ in false } == nil)
    }
}

// MARK: descriptions

@Suite("Password policy: rules as text and JSON")
struct PasswordPolicyDescriptionTests {
    @Test func checkGivesRuleByRuleResults() {
        let results = policy(.good).check(password: "abcdefgh")
        #expect(results.map(\.id) == ["lengthAtLeast", "containsAtLeast", "maxLength"])
        #expect(results.map(\.passed) == [true, false, true])
        #expect(results[0].message == "At least 8 characters in length")
        #expect(results[1].message == "Contain at least 3 of the following 4 types of characters:")
        #expect(results[1].items.map(\.id) == ["lowerCase", "upperCase", "numbers", "specialCharacters"])
        #expect(results[1].items.map(\.passed) == [true, false, false, false])
        #expect(
            results[1].items.map(\.message)
                == ["lower case letters (a-z)", "upper case letters (A-Z)", "numbers (i.e. 0-9)", "special characters (e.g. !@#$%^&*)"])

        let fair = policy(.fair).check(password: "Ab")
        #expect(fair.map(\.id) == ["lengthAtLeast", "shouldContain", "maxLength"])
        #expect(fair[1].message == "Should contain:")
        #expect(fair[1].items.map(\.passed) == [true, true, false])

        let excellent = policy(.excellent).check(password: "")
        #expect(excellent.map(\.id) == ["lengthAtLeast", "containsAtLeast", "identicalChars", "maxLength"])
        #expect(excellent[2].message == #"No more than 2 identical characters in a row (e.g., "aaa" not allowed)"#)
        #expect(excellent[2].rule.template == #"No more than %d identical characters in a row (e.g., "%s" not allowed)"#)
        #expect(excellent.filter { !$0.passed }.map(\.id) == ["lengthAtLeast", "containsAtLeast", "identicalChars"])

        #expect(policy(.none).check(password: "").map(\.message) == ["Non-empty password required", "At most 72 bytes in length"])
    }

    @Test func describeListsEveryRule() {
        var p = policy(.good)
        #expect(
            p.describe() == [
                "At least 8 characters in length",
                "Contain at least 3 of the following 4 types of characters: lower case letters (a-z), upper case letters (A-Z), numbers (i.e. 0-9), special characters (e.g. !@#$%^&*)",
                "At most 72 bytes in length",
            ])
        p.dictionary = .init(enabled: true)
        p.noPersonalInfo = true
        p.history = .init(enabled: true, size: 4)
        #expect(
            p.describe().suffix(3) == [
                "Not a commonly used password", "Does not contain your name, username or email", "Not one of your last 4 passwords",
            ])
    }

    @Test func policyTextMatchesPasswordSheriff() {
        #expect(
            policy(.good).policyText == """
                * At least 8 characters in length
                * Contain at least 3 of the following 4 types of characters:
                 * lower case letters (a-z)
                 * upper case letters (A-Z)
                 * numbers (i.e. 0-9)
                 * special characters (e.g. !@#$%^&*)
                """)
        #expect(policy(.none).policyText == "* Non-empty password required")
        #expect(policy(.low).policyText == "* At least 6 characters in length")
        #expect(
            policy(.excellent).policyText.hasSuffix(
                "\n* No more than 2 identical characters in a row (e.g., \"aaa\" not allowed)"))
    }

    @Test func rulesJSONForTheHostedPage() throws {
        let json = policy(.excellent, minLength: 12).rulesJSON
        #expect(json["policy"] == .string("excellent"))
        #expect(json["min_length"] == .int(12))
        #expect(json["max_bytes"] == .int(72))
        #expect(json["max_identical_characters"] == .int(2))
        #expect(json["special_characters"] == .string(PasswordPolicy.specialCharacters))
        guard case .array(let rules)? = json["rules"] else {
            Issue.record("no rules")
            return
        }
        #expect(rules.count == 4)
        #expect(
            rules[0]
                == .object(
                    JSONObject([("code", .string("lengthAtLeast")), ("message", .string("At least %d characters in length")), ("format", .array([.int(12)]))])))
        #expect(rules[1]["code"] == .string("containsAtLeast"))
        #expect(rules[1]["format"] == .array([.int(3), .int(4)]))
        guard case .array(let items)? = rules[1]["items"] else {
            Issue.record("no items")
            return
        }
        #expect(items.first == .object(JSONObject([("code", .string("lowerCase")), ("message", .string("lower case letters (a-z)"))])))
        #expect(rules[2]["format"] == .array([.int(2), .string("aaa")]))

        let result = policy(.good).check(password: "abc")[1].json
        #expect(result["verified"] == .bool(false))
        guard case .array(let resultItems)? = result["items"] else {
            Issue.record("no result items")
            return
        }
        #expect(resultItems.map { $0["verified"] } == [.bool(true), .bool(false), .bool(false), .bool(false)])
    }

    @Test func formatting() {
        #expect(PasswordRule.format("%d of %d: %s", [.int(3), .int(4), .string("x")]) == "3 of 4: x")
        #expect(PasswordRule.format("100%% %d", [.int(1)]) == "100% 1")
        #expect(PasswordRule.format("%d %d", [.int(1)]) == "1 %d")
        #expect(PasswordRule.format("trailing %", []) == "trailing %")
        #expect(PasswordRule.format("%x", []) == "%x")
    }
}

// MARK: connection options

@Suite("Password policy: connection options")
struct PasswordPolicyOptionsTests {
    @Test func decodesAuth0Options() {
        let o = options(
            ("passwordPolicy", .string("excellent")),
            ("password_complexity_options", obj(("min_length", .int(12)))),
            ("password_history", obj(("enable", .bool(true)), ("size", .int(10)))),
            ("password_dictionary", obj(("enable", .bool(true)), ("dictionary", .array([.string("acme"), .int(5)])))),
            ("password_no_personal_info", obj(("enable", .bool(true)))),
            ("brute_force_protection", .bool(true)))
        let p = PasswordPolicy(connectionOptions: o)
        #expect(p.level == .excellent)
        #expect(p.minLength == 12)
        #expect(p.history == .init(enabled: true, size: 10))
        #expect(p.dictionary == .init(enabled: true, entries: ["acme"]))
        #expect(p.noPersonalInfo)
    }

    @Test func defaults() {
        #expect(PasswordPolicy(connectionOptions: JSONObject()) == PasswordPolicy())
        #expect(PasswordPolicy(connectionOptions: JSONObject()).level == .none)
        #expect(PasswordPolicy(connectionOptions: options(("passwordPolicy", .null))).level == .none)
        #expect(PasswordPolicy(connectionOptions: options(("passwordPolicy", .string("bogus")))).level == .none)
        #expect(PasswordPolicy(connectionOptions: options(("passwordPolicy", .string("GOOD")))).level == .none)
        #expect(PasswordPolicy.newDatabaseConnectionDefault.level == .good)
        #expect(PasswordPolicy.newDatabaseConnectionDefault.effectiveMinLength == 8)
        for bad: JSONValue in [.int(0), .int(129), .string("8"), .double(8.5), .null, .bool(true)] {
            let o = options(("passwordPolicy", .string("good")), ("password_complexity_options", obj(("min_length", bad))))
            #expect(PasswordPolicy(connectionOptions: o).minLength == nil, "\(bad)")
        }
        let integral = options(("password_complexity_options", obj(("min_length", .double(9)))))
        #expect(PasswordPolicy(connectionOptions: integral).minLength == 9)
        let sizeless = options(("password_history", obj(("enable", .bool(true)))))
        #expect(PasswordPolicy(connectionOptions: sizeless).history == .init(enabled: true, size: 5))
        let huge = options(("password_history", obj(("enable", .bool(true)), ("size", .int(1 << 40)))))
        #expect(PasswordPolicy(connectionOptions: huge).history.size == 24)
        let notBool = options(("password_no_personal_info", obj(("enable", .string("true")))))
        #expect(!PasswordPolicy(connectionOptions: notBool).noPersonalInfo)
    }

    @Test func appliesAndRoundTrips() {
        let p = PasswordPolicy(
            level: .fair, minLength: 10, history: .init(enabled: true, size: 7),
            dictionary: .init(enabled: true, entries: ["acme", "Acme2024"]), noPersonalInfo: true)
        var o = options(
            ("brute_force_protection", .bool(true)),
            ("password_complexity_options", obj(("other", .string("kept")))),
            ("password_history", obj(("note", .int(1)))))
        p.apply(to: &o)
        #expect(o["brute_force_protection"] == .bool(true))
        #expect(o["passwordPolicy"] == .string("fair"))
        #expect(o["password_complexity_options"] == obj(("other", .string("kept")), ("min_length", .int(10))))
        #expect(o["password_history"] == obj(("note", .int(1)), ("enable", .bool(true)), ("size", .int(7))))
        #expect(o["password_dictionary"] == obj(("enable", .bool(true)), ("dictionary", .array([.string("acme"), .string("Acme2024")]))))
        #expect(o["password_no_personal_info"] == obj(("enable", .bool(true))))
        #expect(PasswordPolicy(connectionOptions: o) == p)
        #expect(PasswordPolicy.problems(inConnectionOptions: o).isEmpty)

        // Clearing the override removes min_length (and an emptied object).
        var cleared = p
        cleared.minLength = nil
        var fresh = p.connectionOptions
        cleared.apply(to: &fresh)
        #expect(fresh["password_complexity_options"] == nil)
        #expect(PasswordPolicy(connectionOptions: fresh) == cleared)

        for level in PasswordPolicy.Level.allCases {
            let q = PasswordPolicy(level: level)
            #expect(PasswordPolicy(connectionOptions: q.connectionOptions) == q)
        }
    }

    @Test func validatesManagementAPIBodies() {
        #expect(PasswordPolicy.problems(inConnectionOptions: JSONObject()).isEmpty)
        #expect(PasswordPolicy.problems(inConnectionOptions: options(("passwordPolicy", .null))).isEmpty)
        #expect(PasswordPolicy.problems(inConnectionOptions: PasswordPolicy.newDatabaseConnectionDefault.connectionOptions).isEmpty)
        #expect(
            PasswordPolicy.problems(inConnectionOptions: options(("passwordPolicy", .string("strong"))))
                == [#"Payload validation error: 'No enum match for: "strong"' on property options.passwordPolicy."#])
        let bad = options(
            ("passwordPolicy", .int(3)),
            ("password_complexity_options", obj(("min_length", .int(200)))),
            ("password_history", obj(("size", .string("5")))),
            ("password_dictionary", obj(("enable", .bool(true)), ("dictionary", .array([.string(String(repeating: "x", count: 51)), .int(1)])))),
            ("password_no_personal_info", .bool(true)))
        #expect(
            PasswordPolicy.problems(inConnectionOptions: bad) == [
                "Payload validation error: 'Expected type string but found type number' on property options.passwordPolicy.",
                "Payload validation error: 'Value 200 is out of range 1-128' on property options.password_complexity_options.min_length.",
                "Payload validation error: 'Missing required property: enable' on property options.password_history.",
                "Payload validation error: 'Expected type integer but found type string' on property options.password_history.size.",
                "Payload validation error: 'String is too long (51 chars), maximum 50' on property options.password_dictionary.dictionary[0].",
                "Payload validation error: 'Expected type string but found type number' on property options.password_dictionary.dictionary[1].",
                "Payload validation error: 'Expected type object but found type boolean' on property options.password_no_personal_info.",
            ])
        let tooMany = options(("password_dictionary", obj(("enable", .bool(true)), ("dictionary", .array(Array(repeating: .string("a"), count: 201))))))
        #expect(
            PasswordPolicy.problems(inConnectionOptions: tooMany)
                == ["Payload validation error: 'Array is too long (201), maximum 200' on property options.password_dictionary.dictionary."])
    }
}

// MARK: robustness

@Suite("Password policy: robustness")
struct PasswordPolicyFuzzTests {
    @Test func arbitraryPasswordsNeverTrap() {
        var state: UInt64 = 0xC0FFEE
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        var everyOption = PasswordPolicy(level: .excellent, minLength: 3)
        everyOption.dictionary = .init(enabled: true, entries: ["x"])
        everyOption.noPersonalInfo = true
        everyOption.history = .init(enabled: true, size: 24)
        let user = PasswordUserInfo(email: "é@x", name: "😀😀😀", username: "\u{0}\u{0}\u{0}")
        let policies = PasswordPolicy.Level.allCases.map { PasswordPolicy(level: $0) } + [everyOption]
        for _ in 0..<2_000 {
            var view = String.UnicodeScalarView()
            for _ in 0..<Int(next() % 90) {
                let raw = next() % 3 == 0 ? UInt32(next() % 0x11_0000) : UInt32(32 + next() % 95)
                if let scalar = Unicode.Scalar(raw) { view.append(scalar) }
            }
            let password = String(view)
            for p in policies {
                let results = p.check(password: password, user: user, isReused: { _ in false })
                let accepted = (try? p.validate(password: password, user: user, isReused: { _ in false })) != nil
                #expect(accepted == results.allSatisfy(\.passed), "\(password.debugDescription) at \(p.level)")
            }
        }
    }
}
