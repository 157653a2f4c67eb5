import Foundation
import UsherJSON

/// Applications, their grants and database connections, with Auth0's validation rules.
public struct ClientService: Sendable {
    /// What the service reads and writes: applications, their grants and the connections they may use.
    public typealias Store = any ClientStore & ConnectionStore

    let store: Store
    let clock: any UsherClock

    public init(store: Store, clock: any UsherClock) {
        self.store = store
        self.clock = clock
    }

    static let clientFields: Set<String> = [
        "name", "description", "app_type", "callbacks", "allowed_logout_urls", "allowed_origins", "web_origins",
        "initiate_login_uri", "grant_types", "token_endpoint_auth_method", "is_first_party", "client_metadata",
        "logo_uri", "oidc_conformant", "jwt_configuration", "sso", "cross_origin_auth",
    ]

    static let grantTypes: Set<String> = [
        "authorization_code", "implicit", "refresh_token", "client_credentials", "password",
        "http://auth0.com/oauth/grant-type/password-realm",
    ]

    /// Creates an application; the generated secret is returned once, with it.
    public func createClient(_ body: JSONObject) async throws -> (client: Client, secret: String?) {
        let input = try PayloadReader(body, allowed: Self.clientFields)
        guard let name = try input.string("name", minLength: 1, maxLength: 256).value else {
            throw UsherError.invalidBody("'Missing required property: name'.")
        }
        let now = clock.now
        var client = Client(clientID: Client.generateID(), name: name, secretHash: nil, grantTypes: [], createdAt: now, updatedAt: now)
        try apply(input, to: &client)
        if !input.has("grant_types") {
            client.grantTypes =
                client.appType == "non_interactive"
                ? ["client_credentials"] : ["authorization_code", "implicit", "refresh_token", "client_credentials"]
        }
        if !input.has("token_endpoint_auth_method") {
            client.tokenEndpointAuthMethod = ["spa", "native"].contains(client.appType ?? "") ? "none" : "client_secret_post"
        }
        var secret: String?
        if client.tokenEndpointAuthMethod != "none" {
            let generated = Client.generateSecret()
            secret = generated
            client.secretHash = SecureRandom.secretHash(generated)
        }
        try await store.insertClient(client)
        return (client, secret)
    }

    private func apply(_ input: PayloadReader, to client: inout Client) throws(UsherError) {
        if let name = try input.string("name", minLength: 1, maxLength: 256).value { client.name = name }
        switch try input.string("description", maxLength: 140, nullable: true) {
        case .absent: break
        case .null: client.description = nil
        case .value(let d): client.description = d
        }
        if let appType = try input.string("app_type", nullable: true).value {
            guard Client.appTypes.contains(appType) else {
                throw .invalidBody("'No enum match for: \(appType)' on property app_type.")
            }
            client.appType = appType
        }
        if let urls = try input.stringArray("callbacks").value { client.callbacks = try Self.validURLs(urls, property: "callbacks") }
        if let urls = try input.stringArray("allowed_logout_urls").value {
            client.allowedLogoutURLs = try Self.validURLs(urls, property: "allowed_logout_urls")
        }
        if let urls = try input.stringArray("allowed_origins").value { client.allowedOrigins = try Self.validURLs(urls, property: "allowed_origins") }
        if let urls = try input.stringArray("web_origins").value { client.webOrigins = try Self.validURLs(urls, property: "web_origins") }
        switch try input.string("initiate_login_uri", maxLength: 2_048, nullable: true) {
        case .absent: break
        case .null: client.initiateLoginURI = nil
        case .value(let uri):
            // Auth0 requires https here; plain http is allowed for localhost so development works.
            client.initiateLoginURI = uri.isEmpty ? nil : try Self.validURLs([uri], property: "initiate_login_uri", httpsOnly: true).first
        }
        if let grants = try input.stringArray("grant_types").value {
            for grant in grants where !Self.grantTypes.contains(grant) {
                throw .invalidBody("'No enum match for: \(grant)' on property grant_types.")
            }
            client.grantTypes = grants
        }
        if let method = try input.string("token_endpoint_auth_method", nullable: true).value {
            guard ["none", "client_secret_post", "client_secret_basic"].contains(method) else {
                throw .invalidBody("'No enum match for: \(method)' on property token_endpoint_auth_method.")
            }
            client.tokenEndpointAuthMethod = method
        }
        if let firstParty = try input.bool("is_first_party").value { client.isFirstParty = firstParty }
        if let metadata = try input.object("client_metadata").value { client.clientMetadata = metadata }
        // Accepted for SDK compatibility; Usher always behaves as these settings' safe values.
        _ = try input.string("logo_uri", nullable: true)
        _ = try input.bool("oidc_conformant")
        _ = try input.object("jwt_configuration")
        _ = try input.bool("sso")
        _ = try input.bool("cross_origin_auth")
    }

    /// URLs must be absolute http(s) without fragments; http only for loopback hosts when `httpsOnly`.
    static func validURLs(_ urls: [String], property: String, httpsOnly: Bool = false) throws(UsherError) -> [String] {
        for raw in urls {
            guard let components = URLComponents(string: raw), let scheme = components.scheme?.lowercased(),
                let host = components.host, !host.isEmpty, components.fragment == nil
            else {
                throw .invalidBody("'Object didn't pass validation for format absolute-uri-or-empty: \(raw)' on property \(property).")
            }
            let isLoopback = host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host == "::1"
            let allowed = scheme == "https" || (scheme == "http" && (!httpsOnly || isLoopback))
            if !allowed && !(property == "callbacks" && scheme.contains(".")) {
                throw .invalidBody("'Object didn't pass validation for format absolute-uri-or-empty: \(raw)' on property \(property).")
            }
        }
        return urls
    }

    public func client(id: String) async throws -> Client {
        guard let client = try await store.client(id: id) else { throw UsherError.clientNotFound }
        return client
    }

    public func listClients() async throws -> [Client] { try await store.listClients() }

    public func updateClient(id: String, body: JSONObject) async throws -> Client {
        let input = try PayloadReader(body, allowed: Self.clientFields)
        var client = try await client(id: id)
        try apply(input, to: &client)
        client.updatedAt = clock.now
        try await store.updateClient(client)
        return client
    }

    public func deleteClient(id: String) async throws {
        for grant in try await store.clientGrants(clientID: id) { _ = try await store.deleteClientGrant(id: grant.id) }
        _ = try await store.deleteClient(id: id)
    }

    // MARK: grants

    /// `POST /api/v2/client-grants`: lets a client get machine tokens for `audience` with `scope`.
    public func createGrant(_ body: JSONObject, managementAudience: String) async throws -> ClientGrant {
        let input = try PayloadReader(body, allowed: ["client_id", "audience", "scope"])
        guard let clientID = try input.string("client_id", minLength: 1).value else {
            throw UsherError.invalidBody("'Missing required property: client_id'.")
        }
        guard let audience = try input.string("audience", minLength: 1).value else {
            throw UsherError.invalidBody("'Missing required property: audience'.")
        }
        let scope = try input.stringArray("scope").value ?? []
        guard audience == managementAudience else {
            throw UsherError(.notFound, "No resource server found by specified identifier", errorCode: "inexistent_resource_server")
        }
        for s in scope where !ManagementScope.all.contains(s) {
            throw UsherError.invalidBody("'Unknown scope: \(s)' on property scope.")
        }
        _ = try await client(id: clientID)
        if try await store.clientGrant(clientID: clientID, audience: audience) != nil {
            throw UsherError(.conflict, "A client grant for this client and audience already exists", errorCode: "conflict")
        }
        let grant = ClientGrant(id: ClientGrant.generateID(), clientID: clientID, audience: audience, scope: scope)
        try await store.insertClientGrant(grant)
        return grant
    }

    public func grants(clientID: String?) async throws -> [ClientGrant] { try await store.clientGrants(clientID: clientID) }

    public func deleteGrant(id: String) async throws { _ = try await store.deleteClientGrant(id: id) }

    // MARK: connections

    public func connections(name: String?) async throws -> [Connection] {
        let all = try await store.listConnections()
        guard let name else { return all }
        return all.filter { $0.name == name }
    }

    public func connection(id: String) async throws -> Connection {
        guard let connection = try await store.connection(id: id) else { throw UsherError.connectionNotFound }
        return connection
    }

    /// `PATCH /api/v2/connections/{id}`. As in Auth0, `options` replaces the whole options object.
    public func updateConnection(id: String, body: JSONObject) async throws -> Connection {
        let input = try PayloadReader(body, allowed: ["options", "enabled_clients", "display_name", "metadata", "is_domain_connection", "realms"])
        var connection = try await connection(id: id)
        if let options = try input.object("options").value {
            try Self.validateConnectionOptions(options)
            connection.options = options
        }
        if let clients = try input.stringArray("enabled_clients").value { connection.enabledClients = clients }
        _ = try input.string("display_name", nullable: true)
        _ = try input.object("metadata")
        _ = try input.bool("is_domain_connection")
        _ = try input.stringArray("realms")
        try await store.updateConnection(connection)
        return connection
    }

    static func validateConnectionOptions(_ options: JSONObject) throws(UsherError) {
        if let policy = options["passwordPolicy"] {
            switch policy {
            case .null: break
            case .string(let level) where ["none", "low", "fair", "good", "excellent"].contains(level): break
            default: throw .invalidBody("'No enum match for: \(policy.jsonString)' on property options.passwordPolicy.")
            }
        }
        for flag in ["disable_signup", "brute_force_protection", "requires_username", "disable_self_service_change_password"] {
            if let value = options[flag], value.boolValue == nil {
                throw PayloadReader.typeError("options.\(flag)", expected: "boolean", found: value)
            }
        }
        if let complexity = options["password_complexity_options"] {
            guard let minLength = complexity["min_length"] else { return }
            guard case .int(let n) = minLength, (1...128).contains(n) else {
                throw .invalidBody("'min_length must be an integer from 1 to 128' on property options.password_complexity_options.")
            }
        }
    }
}
