import Foundation

/// First-start set-up: the default database connection and an administrator application.
public enum Bootstrap {
    /// What bootstrap did, so the caller can tell the operator.
    public enum Outcome: Sendable, Equatable {
        /// Nothing to do: applications already exist and no bootstrap credentials were given.
        case alreadyInitialised
        /// The application named by `USHER_BOOTSTRAP_CLIENT_ID` exists (created now or before).
        case configuredClient(clientID: String, created: Bool)
        /// No credentials were configured and none existed: these were generated and must be shown once.
        case generated(clientID: String, clientSecret: String)
    }

    public static let adminClientName = "Usher Management (bootstrap)"

    /// What bootstrap reads and writes: the default connection, the administrator application and its grant.
    public typealias Store = any ClientStore & ConnectionStore

    /// Idempotent; safe to run on every start of every instance.
    public static func run(
        store: Store, clock: any UsherClock, managementAudience: String,
        clientID: String?, clientSecret: String?
    ) async throws -> Outcome {
        let now = clock.now
        if try await store.connection(name: Connection.defaultDatabaseName) == nil {
            let connection = Connection(
                id: Connection.generateID(), name: Connection.defaultDatabaseName, options: Connection.defaultOptions,
                enabledClients: [], createdAt: now)
            do { try await store.insertConnection(connection) } catch let error as UsherError where error.kind == .conflict {
                // Another instance created it first.
            }
        }

        if let clientID, let clientSecret, !clientID.isEmpty, !clientSecret.isEmpty {
            if var existing = try await store.client(id: clientID) {
                // Keep the operator's configured secret authoritative, so rotating it in the environment works.
                if !existing.verifySecret(clientSecret) {
                    existing.secretHash = SecureRandom.secretHash(clientSecret)
                    existing.updatedAt = now
                    try await store.updateClient(existing)
                }
                try await ensureGrant(store: store, clientID: clientID, audience: managementAudience)
                return .configuredClient(clientID: clientID, created: false)
            }
            try await createAdminClient(store: store, clientID: clientID, secret: clientSecret, now: now, audience: managementAudience)
            return .configuredClient(clientID: clientID, created: true)
        }

        guard try await store.listClients().isEmpty else { return .alreadyInitialised }
        let id = Client.generateID()
        let secret = Client.generateSecret()
        try await createAdminClient(store: store, clientID: id, secret: secret, now: now, audience: managementAudience)
        return .generated(clientID: id, clientSecret: secret)
    }

    private static func createAdminClient(store: Store, clientID: String, secret: String, now: Date, audience: String) async throws {
        let client = Client(
            clientID: clientID, name: adminClientName, appType: "non_interactive",
            secretHash: SecureRandom.secretHash(secret), grantTypes: ["client_credentials"], createdAt: now, updatedAt: now)
        try await store.insertClient(client)
        try await ensureGrant(store: store, clientID: clientID, audience: audience)
    }

    private static func ensureGrant(store: Store, clientID: String, audience: String) async throws {
        if var grant = try await store.clientGrant(clientID: clientID, audience: audience) {
            if Set(grant.scope) != Set(ManagementScope.all) {
                grant.scope = ManagementScope.all
                try await store.updateClientGrant(grant)
            }
            return
        }
        try await store.insertClientGrant(ClientGrant(id: ClientGrant.generateID(), clientID: clientID, audience: audience, scope: ManagementScope.all))
    }
}
