import Foundation
import UsherJSON

/// A database connection: where users live and the rules for their passwords and sign-ups.
public struct Connection: Sendable, Equatable {
    /// The connection every Usher starts with, named as Auth0 names its default.
    public static let defaultDatabaseName = "Username-Password-Authentication"

    /// `con_` + 16 alphanumerics.
    public var id: String
    public var name: String
    /// Always `auth0` (a database connection) for now.
    public var strategy: String
    /// Auth0's `options` object: `passwordPolicy`, `password_complexity_options`, `disable_signup`, `brute_force_protection` …
    public var options: JSONObject
    /// Client ids allowed to use this connection.
    public var enabledClients: [String]
    public var createdAt: Date

    public init(id: String, name: String, strategy: String = "auth0", options: JSONObject, enabledClients: [String], createdAt: Date) {
        self.id = id
        self.name = name
        self.strategy = strategy
        self.options = options
        self.enabledClients = enabledClients
        self.createdAt = createdAt
    }

    public static func generateID() -> String { "con_" + SecureRandom.alphanumeric(16) }

    /// Options a new database connection gets: Auth0's defaults for new tenants.
    public static var defaultOptions: JSONObject {
        [
            "passwordPolicy": "good",
            "password_complexity_options": ["min_length": 8],
            "brute_force_protection": true,
            "disable_signup": false,
            "requires_username": false,
        ]
    }

    /// Whether self-service sign-up is switched off (`options.disable_signup`).
    public var signupDisabled: Bool { options["disable_signup"]?.boolValue ?? false }

    public var managementJSON: JSONObject {
        [
            "id": .string(id),
            "name": .string(name),
            "strategy": .string(strategy),
            "options": .object(options),
            "enabled_clients": .array(enabledClients.map(JSONValue.string)),
            "is_domain_connection": false,
            "realms": [.string(name)],
        ]
    }
}
