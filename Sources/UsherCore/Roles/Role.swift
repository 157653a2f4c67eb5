import Foundation
import UsherJSON

/// A role, as Auth0's Roles API has it: a name (unique in the tenant) and a description, given to users directly
/// or by an invitation when it is accepted. Post-login Actions see a user's role names as
/// `event.authorization.roles`.
public struct Role: Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String?
    public var createdAt: Date

    public init(id: String, name: String, description: String?, createdAt: Date) {
        self.id = id
        self.name = name
        self.description = description
        self.createdAt = createdAt
    }

    /// `rol_` and 16 alphanumerics, as Auth0's ids look.
    public static func generateID() -> String { "rol_" + SecureRandom.alphanumeric(16) }

    /// Auth0's shape (`id`, `name`, `description`).
    public var managementJSON: JSONObject {
        var object: JSONObject = ["id": .string(id), "name": .string(name)]
        if let description { object["description"] = .string(description) }
        return object
    }
}

extension UsherError {
    /// Auth0's answer for an unknown role (it has no `errorCode`).
    public static let roleNotFound = UsherError(.notFound, "The role does not exist.")
    public static let roleNameTaken = UsherError(.conflict, "A role with this name already exists.", errorCode: "role_exists")
}

/// Persistence of roles and of which users hold them.
public protocol RoleStore: Sendable {
    /// Throws `UsherError` 409 when the name is taken.
    func insertRole(_ role: Role) async throws
    func role(id: String) async throws -> Role?
    /// The roles among `ids` that exist, in no particular order.
    func roles(ids: [String]) async throws -> [Role]
    /// Replaces name and description; 404 when missing, 409 when the name is taken.
    func updateRole(_ role: Role) async throws
    /// Deletes the role and every assignment of it; returns whether it existed.
    func deleteRole(id: String) async throws -> Bool
    /// Roles by name, optionally only those whose name contains `nameFilter` (case-insensitive), and the total.
    func listRoles(nameFilter: String?, offset: Int, limit: Int) async throws -> (roles: [Role], total: Int)
    /// The user's roles by name.
    func userRoles(userID: String) async throws -> [Role]
    /// Gives the roles to the user; roles it already holds are kept once.
    func assignRoles(userID: String, roleIDs: [String]) async throws
    func removeRoles(userID: String, roleIDs: [String]) async throws
    /// The ids of the users holding the role, in id order, and their count.
    func roleUserIDs(roleID: String, offset: Int, limit: Int) async throws -> (userIDs: [String], total: Int)
}
