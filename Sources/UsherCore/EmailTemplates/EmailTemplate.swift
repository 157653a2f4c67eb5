import Foundation
import UsherJSON

/// An email template as Auth0's Management API shows it (`/api/v2/email-templates/{templateName}`).
///
/// Field names follow Auth0, including its camelCase ones (`resultUrl`, `urlLifetimeInSeconds`,
/// `includeEmailInRedirect`). `body`, `subject`, `from` and `resultUrl` are Liquid.
public struct EmailTemplate: Sendable, Equatable {
    /// Template names Auth0 accepts in the path and the `template` field.
    public static let knownNames: [String] = [
        "verify_email", "verify_email_by_code", "reset_email", "reset_email_by_code", "welcome_email", "blocked_account",
        "stolen_credentials", "enrollment_email", "mfa_oob_code", "user_invitation", "change_password", "password_reset",
        "async_approval", "auth_email_by_code",
        // Usher's own: the reminder an invitation sends before it expires.
        "user_invitation_reminder",
    ]

    /// Auth0's default link lifetime: five days.
    public static let defaultURLLifetime = 432_000

    public var template: String
    public var body: String?
    public var from: String?
    public var subject: String?
    public var syntax: String
    public var resultURL: String?
    public var urlLifetimeInSeconds: Int?
    public var includeEmailInRedirect: Bool
    public var enabled: Bool
    public var updatedAt: Date
    /// Usher's per-language variants (`translations` in the API: language → `{subject, body, from}`, each Liquid).
    /// A person whose language (`LocaleChoice`) has none gets the template itself, in the tenant's default language.
    public var translations: [String: Translation]

    /// One language's subject, body and sender; a nil field is the template's own.
    public struct Translation: Sendable, Equatable {
        public var subject: String?
        public var body: String?
        public var from: String?

        public init(subject: String? = nil, body: String? = nil, from: String? = nil) {
            self.subject = subject
            self.body = body
            self.from = from
        }

        var json: JSONObject {
            var object: JSONObject = [:]
            object["subject"] = subject.map(JSONValue.string) ?? .null
            object["body"] = body.map(JSONValue.string) ?? .null
            object["from"] = from.map(JSONValue.string) ?? .null
            return object
        }
    }

    public init(
        template: String, body: String?, from: String?, subject: String?, syntax: String = "liquid", resultURL: String? = nil,
        urlLifetimeInSeconds: Int? = nil, includeEmailInRedirect: Bool = true, enabled: Bool = true, updatedAt: Date,
        translations: [String: Translation] = [:]
    ) {
        self.translations = translations
        self.template = template
        self.body = body
        self.from = from
        self.subject = subject
        self.syntax = syntax
        self.resultURL = resultURL
        self.urlLifetimeInSeconds = urlLifetimeInSeconds
        self.includeEmailInRedirect = includeEmailInRedirect
        self.enabled = enabled
        self.updatedAt = updatedAt
    }

    /// The lifetime of links this template sends.
    public var effectiveURLLifetime: Int {
        guard let urlLifetimeInSeconds, urlLifetimeInSeconds > 0 else { return Self.defaultURLLifetime }
        return urlLifetimeInSeconds
    }

    public var managementJSON: JSONObject {
        var object: JSONObject = ["template": .string(template)]
        object["body"] = body.map(JSONValue.string) ?? .null
        object["from"] = from.map(JSONValue.string) ?? .null
        object["subject"] = subject.map(JSONValue.string) ?? .null
        object["syntax"] = .string(syntax)
        object["resultUrl"] = resultURL.map(JSONValue.string) ?? .null
        object["urlLifetimeInSeconds"] = urlLifetimeInSeconds.map { .int(Int64($0)) } ?? .null
        object["includeEmailInRedirect"] = .bool(includeEmailInRedirect)
        object["enabled"] = .bool(enabled)
        // Only when there are some: a template with one language keeps exactly Auth0's shape.
        if !translations.isEmpty {
            object["translations"] = .object(JSONObject(translations.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.object($0.value.json)) }))
        }
        return object
    }

    /// The template in `language`: its translation's fields over its own; itself when it has no such translation.
    public func localized(to language: String) -> EmailTemplate {
        guard let translation = translations[language] else { return self }
        var localized = self
        localized.subject = translation.subject ?? subject
        localized.body = translation.body ?? body
        localized.from = translation.from ?? from
        return localized
    }

    /// Serialised for storage: language → `{subject, body, from}`; nil when there are none.
    public var translationsJSON: JSONObject? {
        translations.isEmpty ? nil : JSONObject(translations.map { ($0.key, JSONValue.object($0.value.json)) })
    }

    /// Reads `translationsJSON` back.
    public static func translations(from json: JSONObject?) -> [String: Translation] {
        var translations: [String: Translation] = [:]
        for (language, value) in json ?? [:] {
            guard let fields = value.objectValue else { continue }
            translations[language] = Translation(
                subject: fields["subject"]?.stringValue, body: fields["body"]?.stringValue, from: fields["from"]?.stringValue)
        }
        return translations
    }
}

/// Persistence of email templates (one row per template name).
public protocol EmailTemplateStore: Sendable {
    func emailTemplate(name: String) async throws -> EmailTemplate?
    /// Throws `UsherError(.conflict)` when a template of that name exists.
    func insertEmailTemplate(_ template: EmailTemplate) async throws
    func updateEmailTemplate(_ template: EmailTemplate) async throws
}
