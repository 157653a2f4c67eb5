import Foundation
import UsherJSON
import UsherLiquid

/// `GET/PATCH /api/v2/tenants/settings`: the names, support contacts and custom reset page templates read.
public struct TenantService: Sendable {
    /// What the service reads and writes: only the tenant settings.
    public typealias Store = any TenantSettingsStore

    let store: Store
    /// The tenant's raw name (`{{ tenant }}` in templates).
    public let name: String

    public init(store: Store, name: String) {
        self.store = store
        self.name = name
    }

    public func settings() async throws -> TenantSettings { try await store.tenantSettings() }

    /// Merges the given fields (one level deep, as Auth0 does for objects such as `change_password`).
    /// A custom reset page that does not parse as Liquid is refused with its line and column.
    public func update(_ body: JSONObject) async throws -> TenantSettings {
        let reader = try PayloadReader(body, allowed: TenantSettings.patchableFields)
        for key in ["friendly_name", "support_email", "support_url", "picture_url", "default_redirection_uri"] {
            _ = try reader.string(key, maxLength: 2_048, nullable: true)
        }
        for key in ["support_url", "picture_url", "default_redirection_uri"] {
            if let url = body[key]?.stringValue, !url.isEmpty {
                guard let scheme = URLComponents(string: url)?.scheme?.lowercased(), ["http", "https"].contains(scheme) else {
                    throw UsherError.invalidBody("'Object didn't pass validation for format absolute-uri: \(url.prefix(100))' on property \(key).")
                }
            }
        }
        if let email = body["support_email"]?.stringValue, !email.isEmpty { try MailService.validateAddress(email, field: "support_email") }
        if let locales = body["enabled_locales"], locales != .null {
            // The first is the default language of emails and pages (`LocaleChoice`).
            guard let items = locales.arrayValue, items.count <= 100,
                items.allSatisfy({ $0.stringValue.flatMap(LocaleChoice.normalized) != nil })
            else {
                throw UsherError.invalidBody("'enabled_locales must be an array of at most 100 language tags' on property enabled_locales.")
            }
        }
        var settings = try await store.tenantSettings()
        for (key, value) in body {
            if key == "change_password" {
                guard case .object(let given) = value else { throw UsherError.invalidBody("'Expected type object' on property change_password.") }
                if let unknown = given.keys.first(where: { !["enabled", "html"].contains($0) }) {
                    throw UsherError.invalidBody("'Additional properties not allowed: \(unknown.prefix(40))' on property change_password.")
                }
                if let html = given["html"]?.stringValue {
                    guard html.utf8.count <= 102_400 else {
                        throw UsherError.invalidBody("'String is too long (max 102400)' on property change_password.html.")
                    }
                    do { _ = try LiquidTemplate.parse(html) } catch {
                        throw UsherError.invalidBody("'Invalid Liquid template: \(error.description)' on property change_password.html.")
                    }
                }
                var merged = settings.object["change_password"]?.objectValue ?? [:]
                for (k, v) in given { merged[k] = v }
                settings.object[key] = .object(merged)
            } else if value == .null {
                settings.object[key] = nil
            } else {
                settings.object[key] = value
            }
        }
        try await store.saveTenantSettings(settings)
        return settings
    }

    // MARK: Universal Login page template (`/api/v2/branding/templates/universal-login`)

    public func universalLoginTemplate() async throws -> String {
        guard let template = try await store.tenantSettings().object["universal_login_template"]?.stringValue else {
            throw UsherError(.notFound, "The Universal Login template has not been set.", errorCode: "inexistent_template")
        }
        return template
    }

    /// Stores the page template; returns whether it was created (201) rather than replaced (204). It must parse
    /// and contain Auth0's `auth0:head` and `auth0:widget` tags.
    public func setUniversalLoginTemplate(_ template: String) async throws -> Bool {
        guard !template.isEmpty, template.utf8.count <= 102_400 else {
            throw UsherError.invalidBody("'template must be 1 to 102400 characters' on property template.")
        }
        let parsed: LiquidTemplate
        do { parsed = try LiquidTemplate.parse(template) } catch {
            throw UsherError.invalidBody("'Invalid Liquid template: \(error.description)' on property template.")
        }
        for tag in ["auth0:head", "auth0:widget"] where !parsed.usedTags.contains(tag) {
            throw UsherError.invalidBody("'The template must contain {%- \(tag) -%}' on property template.")
        }
        var settings = try await store.tenantSettings()
        let created = settings.object["universal_login_template"] == nil
        settings.object["universal_login_template"] = .string(template)
        try await store.saveTenantSettings(settings)
        return created
    }

    public func deleteUniversalLoginTemplate() async throws {
        var settings = try await store.tenantSettings()
        settings.object["universal_login_template"] = nil
        try await store.saveTenantSettings(settings)
    }
}
