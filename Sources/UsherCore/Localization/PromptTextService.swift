import Foundation
import UsherJSON

/// Persistence of the hosted pages' custom texts: one document of screens per prompt and language.
public protocol PromptTextStore: Sendable {
    /// Every language's custom texts for `prompt`: language → `{screen: {key: text}}`.
    func promptCustomTexts(prompt: String) async throws -> [String: JSONObject]
    /// Replaces the texts of `prompt` in `language`; an empty document removes them.
    func savePromptCustomText(prompt: String, language: String, body: JSONObject) async throws
}

/// The hosted pages' texts: Auth0's custom-text API (`GET/PUT /api/v2/prompts/{prompt}/custom-text/{language}`)
/// and, for a page, its texts in the chosen language (the administrator's over Usher's built-in ones).
public struct PromptTextService: Sendable {
    /// What the service reads and writes: only the custom texts.
    public typealias Store = any PromptTextStore

    let store: Store

    public init(store: Store) { self.store = store }

    /// Auth0's prompt names (the path's enum). Only `BuiltInPromptTexts.prompts` are shown by Usher's pages.
    public static let knownPrompts: Set<String> = [
        "login", "login-id", "login-password", "login-passwordless", "login-email-verification", "signup", "signup-id", "signup-password",
        "phone-identifier-enrollment", "phone-identifier-challenge", "email-identifier-challenge", "reset-password", "custom-form", "consent",
        "customized-consent", "logout", "mfa-push", "mfa-otp", "mfa-voice", "mfa-phone", "mfa-webauthn", "mfa-sms", "mfa-email",
        "mfa-recovery-code", "mfa", "status", "device-flow", "email-verification", "email-otp-challenge", "organizations", "invitation",
        "common", "passkeys", "captcha", "brute-force-protection",
    ]

    /// Bounds that keep one document a page's worth of text.
    static let maxScreens = 50
    static let maxKeysPerScreen = 200
    static let maxTextLength = 5_000

    /// `GET`: the stored texts, `{}` when there are none (as Auth0 answers).
    public func customText(prompt: String, language: String) async throws -> JSONObject {
        let (prompt, language) = try Self.checkPath(prompt: prompt, language: language)
        return try await store.promptCustomTexts(prompt: prompt)[language] ?? [:]
    }

    /// `PUT`: replaces the texts of one prompt in one language (`{}` clears them). Screens are objects of strings.
    public func setCustomText(prompt: String, language: String, body: JSONObject) async throws -> JSONObject {
        let (prompt, language) = try Self.checkPath(prompt: prompt, language: language)
        guard body.count <= Self.maxScreens else { throw UsherError.invalidBody("'Too many screens (max \(Self.maxScreens))'.") }
        for (screen, texts) in body {
            guard case .object(let keys) = texts else {
                throw PayloadReader.typeError(String(screen.prefix(60)), expected: "object", found: texts)
            }
            guard screen.count <= 100, keys.count <= Self.maxKeysPerScreen else {
                throw UsherError.invalidBody("'Too many texts (max \(Self.maxKeysPerScreen) per screen)' on property \(screen.prefix(60)).")
            }
            for (key, text) in keys {
                guard key.count <= 100, let string = text.stringValue else {
                    throw PayloadReader.typeError("\(screen.prefix(60)).\(key.prefix(60))", expected: "string", found: text)
                }
                guard string.count <= Self.maxTextLength else {
                    throw UsherError.invalidBody("'String is too long (max \(Self.maxTextLength))' on property \(screen.prefix(60)).\(key.prefix(60)).")
                }
            }
        }
        try await store.savePromptCustomText(prompt: prompt, language: language, body: body)
        return body
    }

    static func checkPath(prompt: String, language: String) throws(UsherError) -> (String, String) {
        guard knownPrompts.contains(prompt) else {
            throw UsherError(
                .invalidInput, "Path validation error: 'No enum match for: \"\(prompt.prefix(60))\"' on property prompt.", errorCode: "invalid_uri")
        }
        guard let language = LocaleChoice.normalized(language) else {
            throw UsherError(
                .invalidInput, "Path validation error: 'Invalid language tag: \"\(language.prefix(60))\"' on property language.", errorCode: "invalid_uri")
        }
        return (prompt, language)
    }

    // MARK: pages

    /// What a page needs to show `prompt` in the chosen language.
    public struct Texts: Sendable {
        /// The chosen language (the page's `lang`).
        public var language: String
        let custom: [String: JSONObject]
        let common: [String: JSONObject]

        /// One screen's texts: built-in English, then built-in `language`, then the administrator's for `language`.
        public func screen(_ prompt: String, _ screen: String) -> [String: String] {
            var texts = BuiltInPromptTexts.texts(prompt: prompt, screen: screen, language: language)
            let stored = prompt == "common" ? common : custom
            for (key, value) in stored[language]?[screen]?.objectValue ?? [:] {
                if let text = value.stringValue { texts[key] = text }
            }
            return texts
        }
    }

    /// The texts of `prompt` in the first of `choice`'s candidates that has any (built in, or given by the administrator).
    public func texts(prompt: String, choice: LocaleChoice) async throws -> Texts {
        let custom = try await store.promptCustomTexts(prompt: prompt)
        let common = try await store.promptCustomTexts(prompt: "common")
        let language = choice.pick(from: Set(BuiltInPromptTexts.languages).union(custom.keys))
        return Texts(language: language, custom: custom, common: common)
    }

    /// `text` with each `${name}` replaced by `values[name]` (unknown names stay as written).
    public static func fill(_ text: String, _ values: [String: String]) -> String {
        var text = text
        for (name, value) in values { text = text.replacingOccurrences(of: "${\(name)}", with: value) }
        return text
    }
}
