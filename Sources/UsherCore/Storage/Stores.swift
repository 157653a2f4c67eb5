import Foundation

/// Fields the user list can be sorted by (`sort=field:1|-1`), mapped to stored columns by each store.
public enum UserSortField: String, Sendable, CaseIterable {
    case createdAt = "created_at"
    case updatedAt = "updated_at"
    case email
    case name
    case nickname
    case givenName = "given_name"
    case familyName = "family_name"
    case lastLogin = "last_login"
    case loginsCount = "logins_count"
    case userID = "user_id"
}

/// A page of the user list in a stable order.
public struct UserPageRequest: Sendable, Equatable {
    public var sortField: UserSortField
    public var ascending: Bool
    public var offset: Int
    public var limit: Int

    public init(sortField: UserSortField = .createdAt, ascending: Bool = true, offset: Int, limit: Int) {
        self.sortField = sortField
        self.ascending = ascending
        self.offset = offset
        self.limit = limit
    }
}

/// Persistence of users. Implementations map unique-key violations to `UsherError.userExists`.
public protocol UserStore: Sendable {
    func insertUser(_ user: User) async throws
    func user(id: String) async throws -> User?
    /// Users of every connection whose (lower-cased) e-mail is `email`.
    func users(email: String) async throws -> [User]
    func user(connection: String, email: String) async throws -> User?
    /// Replaces the stored user with the same id; throws `UsherError.userNotFound` if there is none.
    func updateUser(_ user: User) async throws
    /// Returns whether a user was deleted.
    func deleteUser(id: String) async throws -> Bool
    /// One page of all users, and the total count.
    func listUsers(_ page: UserPageRequest) async throws -> (users: [User], total: Int)
    /// Every user, in creation order; the search path filters these in memory (see `UserService`).
    func allUsers() async throws -> [User]
}

/// Persistence of applications and their grants.
public protocol ClientStore: Sendable {
    func insertClient(_ client: Client) async throws
    func client(id: String) async throws -> Client?
    func updateClient(_ client: Client) async throws
    func deleteClient(id: String) async throws -> Bool
    func listClients() async throws -> [Client]
    func insertClientGrant(_ grant: ClientGrant) async throws
    func clientGrants(clientID: String?) async throws -> [ClientGrant]
    func clientGrant(clientID: String, audience: String) async throws -> ClientGrant?
    func updateClientGrant(_ grant: ClientGrant) async throws
    func deleteClientGrant(id: String) async throws -> Bool
}

/// Persistence of database connections.
public protocol ConnectionStore: Sendable {
    func insertConnection(_ connection: Connection) async throws
    func connection(id: String) async throws -> Connection?
    func connection(name: String) async throws -> Connection?
    func updateConnection(_ connection: Connection) async throws
    func listConnections() async throws -> [Connection]
}

/// A token-signing key as stored.
public struct SigningKeyRecord: Sendable, Equatable {
    public var kid: String
    /// PKCS#8 PEM of the RSA private key.
    public var privateKeyPEM: String
    public var createdAt: Date

    public init(kid: String, privateKeyPEM: String, createdAt: Date) {
        self.kid = kid
        self.privateKeyPEM = privateKeyPEM
        self.createdAt = createdAt
    }
}

/// Persistence of signing keys, shared by every Usher instance on one database so tokens verify everywhere.
public protocol SigningKeyStore: Sendable {
    func signingKeys() async throws -> [SigningKeyRecord]
    func insertSigningKey(_ key: SigningKeyRecord) async throws
}

/// Hashes of the passwords a user has had, newest first, for the connection's `password_history` option.
public protocol PasswordHistoryStore: Sendable {
    /// Records `hash` as the user's newest password and keeps at most `PasswordPolicy.HistorySettings.maxSize`.
    func appendPasswordHistory(userID: String, hash: String, at: Date) async throws
    /// The newest `limit` hashes.
    func passwordHistory(userID: String, limit: Int) async throws -> [String]
}

/// Persistence of Actions, their deployed versions and trigger bindings.
public protocol ActionStore: Sendable {
    /// Throws a 409 `UsherError` when another Action has the same name.
    func insertAction(_ action: Action) async throws
    func action(id: String) async throws -> Action?
    func action(name: String) async throws -> Action?
    /// Every Action, oldest first.
    func listActions() async throws -> [Action]
    /// Replaces the draft (name, triggers, code, dependencies, runtime, secrets, flags, updated_at); 404 when missing,
    /// 409 on a duplicate name.
    func updateAction(_ action: Action) async throws
    /// Deletes the Action with its versions and bindings; returns whether it existed.
    func deleteAction(id: String) async throws -> Bool
    /// Snapshots the Action's current draft as its next version (numbered per Action, atomically), makes it the
    /// deployed version and marks all changes deployed. Returns nil when the Action does not exist.
    func deployAction(id: String, versionID: String, at: Date) async throws -> ActionVersion?
    /// The Action's versions, newest first.
    func actionVersions(actionID: String) async throws -> [ActionVersion]
    func actionVersion(id: String) async throws -> ActionVersion?
    /// The trigger's bindings in execution order.
    func triggerBindings(triggerID: String) async throws -> [TriggerBinding]
    /// Replaces all bindings of `triggerID` with `bindings`, in that order, atomically.
    func replaceTriggerBindings(triggerID: String, with bindings: [TriggerBinding]) async throws
    /// The trigger's bindings whose Action has a deployed version, with that version, in execution order.
    func boundActionVersions(triggerID: String) async throws -> [BoundActionVersion]
}

/// The entry point of a database transaction, on its own so a service that writes several things atomically can
/// name it beside the narrow stores it reads (`any UserStore & TransactionalStore`) instead of taking all of `UsherStore`.
///
/// The body still receives the whole store: a transaction's writes may touch any table, and the store behind it is
/// the same one the service was given.
public protocol TransactionalStore: Sendable {
    /// Runs `body` in one database transaction: all its writes land, or none do.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any UsherStore) async throws -> T) async throws -> T
}

/// Everything Usher persists, with transactions.
public protocol UsherStore: UserStore, ClientStore, ConnectionStore, SigningKeyStore, OutboxStore, DevMailboxStore, EmailProviderStore,
    EmailTemplateStore, TicketStore, LogStore, TenantSettingsStore, PasswordHistoryStore, LoginStore, ActionStore, IntakeStore,
    InvitationStore, RoleStore, PromptTextStore, AdminStore,
    TransactionalStore
{
    /// Cheap round trip used by `/health`.
    func ping() async throws
}
