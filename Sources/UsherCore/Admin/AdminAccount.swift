import Foundation

/// A person who signs in to the dashboard at `/admin`.
///
/// Kept apart from the tenant's users: no sign-up, Management API call or Action can make a user an administrator,
/// and an administrator is not a user of any application.
public struct AdminAccount: Sendable, Equatable {
    /// `adm_` and 16 random characters.
    public var id: String
    /// Lower-cased, unique among administrators.
    public var email: String
    public var passwordHash: String
    /// The Management API scopes the dashboard checks this administrator's actions against: a page or button
    /// needs the scope its API endpoint needs.
    public var scopes: [String]
    public var createdAt: Date
    public var lastLoginAt: Date?

    public init(id: String, email: String, passwordHash: String, scopes: [String], createdAt: Date, lastLoginAt: Date? = nil) {
        self.id = id
        self.email = email
        self.passwordHash = passwordHash
        self.scopes = scopes
        self.createdAt = createdAt
        self.lastLoginAt = lastLoginAt
    }

    public func may(_ scope: String) -> Bool { scopes.contains(scope) }
}

/// The kinds of administrator `usher admin create` and the bootstrap make, as sets of Management API scopes.
public enum AdminRights: String, Sendable, CaseIterable {
    /// Every scope: invites, edits, deletes.
    case full
    /// Every `read:` scope except applications' secrets: sees everything, changes nothing.
    case readOnly = "read-only"

    public var scopes: [String] {
        switch self {
        case .full: ManagementScope.all
        case .readOnly: ManagementScope.all.filter { $0.hasPrefix("read:") && $0 != "read:client_keys" }
        }
    }
}

/// Persistence of administrators. Their sessions are `LoginStore` sessions (same table, same hashing and
/// expiry columns) whose `userID` is the administrator's `adm_` id, which no user id can take.
public protocol AdminStore: Sendable {
    /// Throws `UsherError.adminExists` when the email is taken.
    func insertAdmin(_ admin: AdminAccount) async throws
    func admin(id: String) async throws -> AdminAccount?
    func admin(email: String) async throws -> AdminAccount?
    /// Every administrator, oldest first.
    func listAdmins() async throws -> [AdminAccount]
    /// Replaces the stored administrator with the same id.
    func updateAdmin(_ admin: AdminAccount) async throws
}
