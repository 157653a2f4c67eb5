import Foundation
import UsherJSON

/// The tenant-wide settings templates and hosted pages read (`/api/v2/tenants/settings`, Auth0's shape).
///
/// Stored as Auth0's JSON object so fields Usher does not interpret yet survive a round trip.
public struct TenantSettings: Sendable, Equatable {
    public var object: JSONObject

    public init(_ object: JSONObject = [:]) { self.object = object }

    public var friendlyName: String? { object["friendly_name"]?.stringValue }
    public var pictureURL: String? { object["picture_url"]?.stringValue }
    public var supportEmail: String? { object["support_email"]?.stringValue }
    public var supportURL: String? { object["support_url"]?.stringValue }
    public var defaultRedirectionURI: String? { object["default_redirection_uri"]?.stringValue }

    /// The custom password-reset page (`change_password.html`), when enabled.
    public var customResetPage: String? {
        guard let settings = object["change_password"]?.objectValue, settings["enabled"]?.boolValue == true,
            let html = settings["html"]?.stringValue, !html.isEmpty
        else { return nil }
        return html
    }

    /// Fields `PATCH /api/v2/tenants/settings` accepts (a subset of Auth0's; others are refused, not ignored).
    public static let patchableFields: Set<String> = [
        "friendly_name", "picture_url", "support_email", "support_url", "default_redirection_uri", "change_password",
        "enabled_locales", "session_lifetime", "idle_session_lifetime",
    ]
}

/// Persistence of the tenant settings (a single document).
public protocol TenantSettingsStore: Sendable {
    func tenantSettings() async throws -> TenantSettings
    func saveTenantSettings(_ settings: TenantSettings) async throws
}
