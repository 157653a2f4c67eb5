import Foundation
import UsherJSON

/// An application registered with Usher (Auth0's "client").
public struct Client: Sendable, Equatable {
    /// Application types Auth0 accepts for `app_type`.
    public static let appTypes: Set<String> = ["native", "spa", "regular_web", "non_interactive"]

    public var clientID: String
    public var name: String
    public var description: String?
    public var appType: String?
    /// SHA-256 of the client secret; the secret itself is shown once, on creation.
    public var secretHash: String?
    public var callbacks: [String]
    public var allowedLogoutURLs: [String]
    public var allowedOrigins: [String]
    public var webOrigins: [String]
    public var initiateLoginURI: String?
    public var grantTypes: [String]
    /// `client_secret_post`, `client_secret_basic` or `none` (public clients).
    public var tokenEndpointAuthMethod: String
    public var isFirstParty: Bool
    public var clientMetadata: JSONObject
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        clientID: String, name: String, description: String? = nil, appType: String? = nil, secretHash: String?,
        callbacks: [String] = [], allowedLogoutURLs: [String] = [], allowedOrigins: [String] = [],
        webOrigins: [String] = [], initiateLoginURI: String? = nil, grantTypes: [String],
        tokenEndpointAuthMethod: String = "client_secret_post", isFirstParty: Bool = true,
        clientMetadata: JSONObject = [:], createdAt: Date, updatedAt: Date
    ) {
        self.clientID = clientID
        self.name = name
        self.description = description
        self.appType = appType
        self.secretHash = secretHash
        self.callbacks = callbacks
        self.allowedLogoutURLs = allowedLogoutURLs
        self.allowedOrigins = allowedOrigins
        self.webOrigins = webOrigins
        self.initiateLoginURI = initiateLoginURI
        self.grantTypes = grantTypes
        self.tokenEndpointAuthMethod = tokenEndpointAuthMethod
        self.isFirstParty = isFirstParty
        self.clientMetadata = clientMetadata
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// A new client id: 32 alphanumeric characters, like Auth0's.
    public static func generateID() -> String { SecureRandom.alphanumeric(32) }

    /// A new client secret: 256 random bits, base64url (43 characters).
    public static func generateSecret() -> String { SecureRandom.token(byteCount: 48) }

    /// Whether `secret` is this client's secret (compared by hash, in constant time).
    public func verifySecret(_ secret: String) -> Bool {
        guard let secretHash else { return false }
        return SecureRandom.constantTimeEquals(SecureRandom.secretHash(secret), secretHash)
    }

    /// The client as the Management API returns it. `secret` is included only when it was just generated.
    public func managementJSON(secret: String? = nil) -> JSONObject {
        var json = JSONObject()
        json["client_id"] = .string(clientID)
        json["name"] = .string(name)
        if let description { json["description"] = .string(description) }
        if let appType { json["app_type"] = .string(appType) }
        if let secret { json["client_secret"] = .string(secret) }
        json["callbacks"] = .array(callbacks.map(JSONValue.string))
        json["allowed_logout_urls"] = .array(allowedLogoutURLs.map(JSONValue.string))
        json["allowed_origins"] = .array(allowedOrigins.map(JSONValue.string))
        json["web_origins"] = .array(webOrigins.map(JSONValue.string))
        if let initiateLoginURI { json["initiate_login_uri"] = .string(initiateLoginURI) }
        json["grant_types"] = .array(grantTypes.map(JSONValue.string))
        json["token_endpoint_auth_method"] = .string(tokenEndpointAuthMethod)
        json["is_first_party"] = .bool(isFirstParty)
        json["client_metadata"] = .object(clientMetadata)
        return json
    }
}

/// Permission for a client to obtain machine tokens for an API (`audience`) with some scopes (Auth0's client grant).
public struct ClientGrant: Sendable, Equatable {
    public var id: String
    public var clientID: String
    public var audience: String
    public var scope: [String]

    public init(id: String, clientID: String, audience: String, scope: [String]) {
        self.id = id
        self.clientID = clientID
        self.audience = audience
        self.scope = scope
    }

    public static func generateID() -> String { "cgr_" + SecureRandom.alphanumeric(16) }

    public var managementJSON: JSONObject {
        [
            "id": .string(id), "client_id": .string(clientID), "audience": .string(audience),
            "scope": .array(scope.map(JSONValue.string)),
        ]
    }
}
