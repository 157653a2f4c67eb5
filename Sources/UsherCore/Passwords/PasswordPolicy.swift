import UsherJSON

/// A database connection's password rules: Auth0's legacy policy levels (password-sheriff) plus the history,
/// dictionary and personal-information options.
///
/// ## Levels (password-sheriff, exactly)
/// | level | min length | characters | extra |
/// | --- | --- | --- | --- |
/// | `none` | 1 (non-empty) | — | — |
/// | `low` | 6 | — | — |
/// | `fair` | 8 | all of lower `a-z`, upper `A-Z`, digit `0-9` | — |
/// | `good` | 8 | 3 of 4: lower, upper, digit, special | — |
/// | `excellent` | 10 | 3 of 4 as above | no more than 2 identical characters in a row |
///
/// "Special" is the OWASP set sheriff uses: space and ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~`` (`specialCharacters`).
/// Like sheriff's JavaScript, length counts UTF-16 code units (what a browser's `password.length` says) and the
/// character classes are ASCII only, so `é` or `ß` count towards length but belong to no class. Identical characters
/// are compared as Swift `Character`s (grapheme clusters), so `😀😀😀` is three identical characters in a row
/// (sheriff compares UTF-16 units and would let it through).
///
/// `password_complexity_options.min_length` (1–128) replaces the level's minimum length.
///
/// Passwords longer than 72 UTF-8 bytes are refused (`PasswordPolicyError.Kind.tooLong`): bcrypt only uses the
/// first 72 bytes, and Auth0's legacy policy silently truncates; refusing is the safe behaviour, so that two
/// passwords differing after byte 72 never both log in.
///
/// ## Defaults
/// - `options.passwordPolicy` absent, `null` or an unknown name ⇒ `none`, as password-sheriff falls back for
///   existing connections.
/// - A **new** database connection gets `newDatabaseConnectionDefault` (`good`), as Auth0 creates them; write it
///   with `apply(to:)` when the connection is created.
/// - History, dictionary and personal-information checks are off unless their option says `enable: true`.
public struct PasswordPolicy: Sendable, Hashable {
    public enum Level: String, Sendable, Hashable, CaseIterable {
        case none, low, fair, good, excellent

        /// The level's own minimum length (before `password_complexity_options.min_length`).
        public var minimumLength: Int {
            switch self {
            case .none: return 1
            case .low: return 6
            case .fair, .good: return 8
            case .excellent: return 10
            }
        }
    }

    /// `options.password_history`: refuse the last `size` passwords.
    public struct HistorySettings: Sendable, Hashable {
        public static let maxSize = 24
        /// Size used when `enable` is set without a size (the Auth0 dashboard's default).
        public static let defaultSize = 5

        public var enabled: Bool
        /// 0–24.
        public var size: Int

        public init(enabled: Bool = false, size: Int = HistorySettings.defaultSize) {
            self.enabled = enabled
            self.size = min(max(size, 0), Self.maxSize)
        }

        public static let disabled = HistorySettings()
    }

    /// `options.password_dictionary`: refuse the built-in common passwords plus `entries`, ignoring case.
    public struct DictionarySettings: Sendable, Hashable {
        public static let maxEntries = 200
        public static let maxEntryLength = 50

        public var enabled: Bool
        /// Custom entries (at most 200 of at most 50 characters; others are dropped).
        public var entries: [String]

        public init(enabled: Bool = false, entries: [String] = []) {
            self.enabled = enabled
            self.entries = Array(entries.filter { !$0.isEmpty && $0.count <= Self.maxEntryLength }.prefix(Self.maxEntries))
        }

        public static let disabled = DictionarySettings()
    }

    public var level: Level
    /// `password_complexity_options.min_length`, replacing the level's minimum when set (1–128).
    public var minLength: Int?
    public var history: HistorySettings
    public var dictionary: DictionarySettings
    /// `options.password_no_personal_info.enable`.
    public var noPersonalInfo: Bool

    /// bcrypt's input limit.
    public static let maxPasswordBytes = 72
    /// Bounds of `password_complexity_options.min_length`.
    public static let minLengthRange = 1...128
    /// What Auth0 gives a new database connection.
    public static let newDatabaseConnectionDefault = PasswordPolicy(level: .good)
    /// The OWASP special characters password-sheriff recognises.
    public static let specialCharacters = ##" !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"##
    /// No more than this many identical characters in a row at `excellent`.
    public static let maxIdenticalCharacters = 2

    public init(
        level: Level = .none, minLength: Int? = nil, history: HistorySettings = .disabled,
        dictionary: DictionarySettings = .disabled, noPersonalInfo: Bool = false
    ) {
        self.level = level
        self.minLength = minLength
        self.history = history
        self.dictionary = dictionary
        self.noPersonalInfo = noPersonalInfo
    }

    /// The minimum length in force: `minLength` (clamped to 1–128) or the level's.
    public var effectiveMinLength: Int {
        guard let minLength else { return level.minimumLength }
        return min(max(minLength, Self.minLengthRange.lowerBound), Self.minLengthRange.upperBound)
    }

    // MARK: rules

    static let lowerCaseRule = PasswordRule(id: "lowerCase", template: "lower case letters (a-z)")
    static let upperCaseRule = PasswordRule(id: "upperCase", template: "upper case letters (A-Z)")
    static let numbersRule = PasswordRule(id: "numbers", template: "numbers (i.e. 0-9)")
    static let specialCharactersRule = PasswordRule(id: "specialCharacters", template: "special characters (e.g. !@#$%^&*)")

    /// Ids of the rules whose failure is a `PasswordStrengthError: Password is too weak`.
    public static let strengthRuleIDs: Set<String> = [
        "nonEmpty", "lengthAtLeast", "shouldContain", "containsAtLeast", "identicalChars",
    ]

    /// The strength rules exactly as password-sheriff explains the level (length, characters, identical characters).
    public var strengthRules: [PasswordRule] {
        var rules: [PasswordRule] = []
        let minimum = effectiveMinLength
        if minimum <= 1 {
            rules.append(PasswordRule(id: "nonEmpty", template: "Non-empty password required"))
        } else {
            rules.append(PasswordRule(id: "lengthAtLeast", template: "At least %d characters in length", arguments: [.int(Int64(minimum))]))
        }
        switch level {
        case .none, .low:
            break
        case .fair:
            rules.append(
                PasswordRule(
                    id: "shouldContain", template: "Should contain:",
                    items: [Self.lowerCaseRule, Self.upperCaseRule, Self.numbersRule]))
        case .good, .excellent:
            rules.append(
                PasswordRule(
                    id: "containsAtLeast", template: "Contain at least %d of the following %d types of characters:",
                    arguments: [.int(3), .int(4)],
                    items: [Self.lowerCaseRule, Self.upperCaseRule, Self.numbersRule, Self.specialCharactersRule]))
        }
        if level == .excellent {
            let max = Self.maxIdenticalCharacters
            rules.append(
                PasswordRule(
                    id: "identicalChars", template: "No more than %d identical characters in a row (e.g., \"%s\" not allowed)",
                    arguments: [.int(Int64(max)), .string(String(repeating: "a", count: max + 1))]))
        }
        return rules
    }

    /// Every rule in force, in the order they are checked: strength rules, the 72-byte limit, then the dictionary,
    /// personal-information and history options that are enabled.
    public var rules: [PasswordRule] {
        var rules = strengthRules
        rules.append(PasswordRule(id: "maxLength", template: "At most %d bytes in length", arguments: [.int(Int64(Self.maxPasswordBytes))]))
        if dictionary.enabled {
            rules.append(PasswordRule(id: "dictionary", template: "Not a commonly used password"))
        }
        if noPersonalInfo {
            rules.append(PasswordRule(id: "noPersonalInfo", template: "Does not contain your name, username or email"))
        }
        if history.enabled && history.size > 0 {
            rules.append(PasswordRule(id: "history", template: "Not one of your last %d passwords", arguments: [.int(Int64(history.size))]))
        }
        return rules
    }

    /// The rules as human text, one line per rule (character classes listed on the same line).
    public func describe() -> [String] {
        rules.map(\.summary)
    }

    /// password-sheriff's `toString()` of the strength rules: the `policy` text of Auth0's sign-up error, e.g.
    /// ```
    /// * At least 8 characters in length
    /// * Contain at least 3 of the following 4 types of characters:
    ///  * lower case letters (a-z)
    ///  …
    /// ```
    public var policyText: String {
        Self.flatten(strengthRules, indent: 0)
    }

    private static func flatten(_ rules: [PasswordRule], indent: Int) -> String {
        let spaces = String(repeating: " ", count: indent)
        return rules.map { rule in
            var line = spaces + "* " + rule.message
            if !rule.items.isEmpty { line += "\n" + spaces + flatten(rule.items, indent: indent + 1) }
            return line
        }.joined(separator: "\n")
    }

    /// Everything a hosted page's script needs to show and check the rules live:
    /// `{"policy", "min_length", "max_bytes", "special_characters", "max_identical_characters"?, "rules": [explain()]}`.
    /// Rule entries have password-sheriff's `explain()` shape (`code`, `message`, `format`, `items`).
    public var rulesJSON: JSONValue {
        var object = JSONObject()
        object["policy"] = .string(level.rawValue)
        object["min_length"] = .int(Int64(effectiveMinLength))
        object["max_bytes"] = .int(Int64(Self.maxPasswordBytes))
        object["special_characters"] = .string(Self.specialCharacters)
        if level == .excellent { object["max_identical_characters"] = .int(Int64(Self.maxIdenticalCharacters)) }
        object["rules"] = .array(rules.map(\.json))
        return .object(object)
    }

    // MARK: checking

    /// Checks `password` rule by rule (for showing progress). The history rule is only reported when `isReused` is
    /// given; the personal-information rule passes when `user` is nil. `dictionary` is the built-in list; the
    /// policy's custom entries are always added.
    public func check(
        password: String, user: PasswordUserInfo? = nil, isReused: ((String) -> Bool)? = nil,
        dictionary builtIn: any PasswordDictionary = BuiltInPasswordDictionary.shared
    ) -> [PasswordRuleResult] {
        rules.compactMap { rule in
            switch rule.id {
            case "history":
                guard let isReused else { return nil }
                return PasswordRuleResult(rule: rule, passed: !isReused(password))
            default:
                return evaluate(rule, password: password, user: user, dictionary: builtIn)
            }
        }
    }

    /// Throws the first failure, in this order: too long, too weak, too common, contains user information,
    /// previously used (history last, since checking it means bcrypt work). `isReused` says whether the password
    /// matches one of the last `history.size` hashes; it is only called when history is enabled and everything else
    /// passed.
    public func validate(
        password: String, user: PasswordUserInfo? = nil, isReused: ((String) -> Bool)? = nil,
        dictionary builtIn: any PasswordDictionary = BuiltInPasswordDictionary.shared
    ) throws(PasswordPolicyError) {
        try validateWithoutHistory(password: password, user: user, dictionary: builtIn)
        if history.enabled && history.size > 0, let isReused, isReused(password) {
            throw PasswordPolicyError(.reused, failedRules: historyFailure)
        }
    }

    /// `validate` with an asynchronous history check (for a bcrypt verifier that runs off the event loop).
    public func validate(
        password: String, user: PasswordUserInfo? = nil,
        dictionary builtIn: any PasswordDictionary = BuiltInPasswordDictionary.shared,
        isReused: (String) async -> Bool
    ) async throws(PasswordPolicyError) {
        try validateWithoutHistory(password: password, user: user, dictionary: builtIn)
        if history.enabled && history.size > 0, await isReused(password) {
            throw PasswordPolicyError(.reused, failedRules: historyFailure)
        }
    }

    private var historyFailure: [PasswordRuleResult] {
        rules.filter { $0.id == "history" }.map { PasswordRuleResult(rule: $0, passed: false) }
    }

    private func validateWithoutHistory(
        password: String, user: PasswordUserInfo?, dictionary builtIn: any PasswordDictionary
    ) throws(PasswordPolicyError) {
        let results = check(password: password, user: user, isReused: nil, dictionary: builtIn)
        let failed = results.filter { !$0.passed }
        if let tooLong = failed.first(where: { $0.id == "maxLength" }) {
            throw PasswordPolicyError(.tooLong, failedRules: [tooLong])
        }
        let weak = failed.filter { Self.strengthRuleIDs.contains($0.id) }
        if !weak.isEmpty { throw PasswordPolicyError(.tooWeak, failedRules: weak) }
        if let common = failed.first(where: { $0.id == "dictionary" }) {
            throw PasswordPolicyError(.tooCommon, failedRules: [common])
        }
        if let personal = failed.first(where: { $0.id == "noPersonalInfo" }) {
            throw PasswordPolicyError(.containsUserInfo, failedRules: [personal])
        }
    }

    private func evaluate(
        _ rule: PasswordRule, password: String, user: PasswordUserInfo?, dictionary builtIn: any PasswordDictionary
    ) -> PasswordRuleResult {
        switch rule.id {
        case "nonEmpty":
            return PasswordRuleResult(rule: rule, passed: !password.isEmpty)
        case "lengthAtLeast":
            return PasswordRuleResult(rule: rule, passed: !password.isEmpty && password.utf16.count >= effectiveMinLength)
        case "shouldContain", "containsAtLeast":
            let items = rule.items.map { PasswordRuleResult(rule: $0, passed: Self.has(class: $0.id, in: password)) }
            let count = items.filter(\.passed).count
            let needed = rule.id == "shouldContain" ? items.count : 3
            return PasswordRuleResult(rule: rule, passed: count >= needed, items: items)
        case "identicalChars":
            return PasswordRuleResult(
                rule: rule, passed: !password.isEmpty && Self.longestRun(in: password) <= Self.maxIdenticalCharacters)
        case "maxLength":
            return PasswordRuleResult(rule: rule, passed: password.utf8.count <= Self.maxPasswordBytes)
        case "dictionary":
            let blocked = builtIn.contains(password) || CustomPasswordDictionary(dictionary.entries).contains(password)
            return PasswordRuleResult(rule: rule, passed: !blocked)
        case "noPersonalInfo":
            return PasswordRuleResult(rule: rule, passed: !(user?.isContained(in: password) ?? false))
        default:
            return PasswordRuleResult(rule: rule, passed: true)
        }
    }

    static func has(class id: String, in password: String) -> Bool {
        switch id {
        case "lowerCase": return password.unicodeScalars.contains { ("a"..."z").contains($0) }
        case "upperCase": return password.unicodeScalars.contains { ("A"..."Z").contains($0) }
        case "numbers": return password.unicodeScalars.contains { ("0"..."9").contains($0) }
        case "specialCharacters": return password.unicodeScalars.contains { specialScalars.contains($0) }
        default: return false
        }
    }

    private static let specialScalars = Set(specialCharacters.unicodeScalars)

    /// Longest run of identical `Character`s.
    static func longestRun(in password: String) -> Int {
        var longest = 0
        var run = 0
        var previous: Character?
        for ch in password {
            run = ch == previous ? run + 1 : 1
            previous = ch
            longest = max(longest, run)
        }
        return longest
    }
}
