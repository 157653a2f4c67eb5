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

    public init(
        template: String, body: String?, from: String?, subject: String?, syntax: String = "liquid", resultURL: String? = nil,
        urlLifetimeInSeconds: Int? = nil, includeEmailInRedirect: Bool = true, enabled: Bool = true, updatedAt: Date
    ) {
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
        return object
    }
}

/// Persistence of email templates (one row per template name).
public protocol EmailTemplateStore: Sendable {
    func emailTemplate(name: String) async throws -> EmailTemplate?
    /// Throws `UsherError(.conflict)` when a template of that name exists.
    func insertEmailTemplate(_ template: EmailTemplate) async throws
    func updateEmailTemplate(_ template: EmailTemplate) async throws
}
