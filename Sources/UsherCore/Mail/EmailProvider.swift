import Foundation
import UsherJSON

/// The tenant's email provider, in Auth0's shape (`/api/v2/emails/provider`). Usher delivers through `smtp` only.
///
/// `credentials` holds `smtp_host`, `smtp_port`, `smtp_user` and `smtp_pass`; the password is stored so the
/// courier can log in, and `managementJSON` never includes it.
public struct EmailProvider: Sendable, Equatable {
    public var name: String
    public var enabled: Bool
    public var defaultFromAddress: String?
    public var credentials: JSONObject
    public var settings: JSONObject
    public var createdAt: Date
    public var updatedAt: Date

    public init(name: String, enabled: Bool, defaultFromAddress: String?, credentials: JSONObject, settings: JSONObject, createdAt: Date, updatedAt: Date) {
        self.name = name
        self.enabled = enabled
        self.defaultFromAddress = defaultFromAddress
        self.credentials = credentials
        self.settings = settings
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Names Auth0 accepts; Usher stores any of them but can only deliver through `smtp`.
    public static let knownNames: Set<String> = ["mailgun", "mandrill", "sendgrid", "resend", "ses", "sparkpost", "smtp", "azure_cs", "ms365", "custom"]

    public var smtpHost: String? { credentials["smtp_host"]?.stringValue }
    public var smtpPort: Int? {
        if case .int(let port)? = credentials["smtp_port"] { return Int(port) }
        return nil
    }
    public var smtpUser: String? { credentials["smtp_user"]?.stringValue }
    public var smtpPassword: String? { credentials["smtp_pass"]?.stringValue }

    /// Auth0's GET shape: `name` and `enabled` only, unless `fields` asks for more. `smtp_pass` is never returned.
    public func managementJSON(fields: [String]? = nil) -> JSONObject {
        var object: JSONObject = ["name": .string(name), "enabled": .bool(enabled)]
        guard let fields else { return object }
        var visibleCredentials = credentials
        visibleCredentials["smtp_pass"] = nil
        for field in fields {
            switch field {
            case "credentials": object["credentials"] = .object(visibleCredentials)
            case "default_from_address": object["default_from_address"] = defaultFromAddress.map(JSONValue.string) ?? .null
            case "settings": object["settings"] = .object(settings)
            default: break
            }
        }
        return object
    }

    /// Everything but the password: the shape POST and PATCH answer with.
    public var fullManagementJSON: JSONObject { managementJSON(fields: ["credentials", "default_from_address", "settings"]) }
}
