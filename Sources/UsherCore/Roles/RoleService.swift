import Foundation
import UsherJSON

/// Auth0's Roles API as far as invitations need it: roles, the users who hold them, and the roles of a user.
public struct RoleService: Sendable {
    let store: any UsherStore
    let clock: any UsherClock

    public init(store: any UsherStore, clock: any UsherClock) {
        self.store = store
        self.clock = clock
    }

    /// `POST /api/v2/roles`.
    public func create(_ body: JSONObject) async throws -> Role {
        let input = try PayloadReader(body, allowed: ["name", "description"])
        guard let name = try input.string("name", minLength: 1, maxLength: 255).value else {
            throw UsherError.invalidBody("'Missing required property: name'.")
        }
        let role = Role(id: Role.generateID(), name: name, description: try input.string("description", maxLength: 1_000).value, createdAt: clock.now)
        try await store.insertRole(role)
        return role
    }

    public func role(id: String) async throws -> Role {
        guard let role = try await store.role(id: id) else { throw UsherError.roleNotFound }
        return role
    }

    /// `PATCH /api/v2/roles/{id}`.
    public func update(id: String, body: JSONObject) async throws -> Role {
        let input = try PayloadReader(body, allowed: ["name", "description"])
        var role = try await role(id: id)
        if let name = try input.string("name", minLength: 1, maxLength: 255).value { role.name = name }
        switch try input.string("description", maxLength: 1_000, nullable: true) {
        case .value(let description): role.description = description
        case .null: role.description = nil
        case .absent: break
        }
        try await store.updateRole(role)
        return role
    }

    public func delete(id: String) async throws {
        guard try await store.deleteRole(id: id) else { throw UsherError.roleNotFound }
    }

    public func list(nameFilter: String?, offset: Int, limit: Int) async throws -> (roles: [Role], total: Int) {
        try await store.listRoles(nameFilter: nameFilter, offset: offset, limit: limit)
    }

    /// Every id in `ids` is a role, or the 400 naming those that are not (Auth0's wording).
    public func requireRoles(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        let found = Set(try await store.roles(ids: ids).map(\.id))
        let missing = ids.filter { !found.contains($0) }
        if !missing.isEmpty { throw UsherError.invalidBody("One or more of the specified roles do not exist: \(missing.joined(separator: ", "))") }
    }

    /// `POST /api/v2/users/{id}/roles`.
    public func assign(userID: String, body: JSONObject) async throws {
        let roleIDs = try Self.ids(body, key: "roles")
        guard try await store.user(id: userID) != nil else { throw UsherError.userNotFound }
        try await requireRoles(roleIDs)
        try await store.assignRoles(userID: userID, roleIDs: roleIDs)
    }

    /// `DELETE /api/v2/users/{id}/roles`.
    public func remove(userID: String, body: JSONObject) async throws {
        let roleIDs = try Self.ids(body, key: "roles")
        guard try await store.user(id: userID) != nil else { throw UsherError.userNotFound }
        try await store.removeRoles(userID: userID, roleIDs: roleIDs)
    }

    public func userRoles(userID: String) async throws -> [Role] {
        guard try await store.user(id: userID) != nil else { throw UsherError.userNotFound }
        return try await store.userRoles(userID: userID)
    }

    /// `POST /api/v2/roles/{id}/users`.
    public func addUsers(roleID: String, body: JSONObject) async throws {
        let userIDs = try Self.ids(body, key: "users")
        _ = try await role(id: roleID)
        for userID in userIDs {
            guard try await store.user(id: userID) != nil else { throw UsherError.invalidBody("The user does not exist: \(userID.prefix(255))") }
        }
        try await store.transaction { tx in
            for userID in userIDs { try await tx.assignRoles(userID: userID, roleIDs: [roleID]) }
        }
    }

    /// `GET /api/v2/roles/{id}/users`: Auth0's short user shape (`user_id`, `email`, `name`, `picture`).
    public func users(roleID: String, offset: Int, limit: Int) async throws -> (users: [JSONObject], total: Int) {
        _ = try await role(id: roleID)
        let (ids, total) = try await store.roleUserIDs(roleID: roleID, offset: offset, limit: limit)
        var users: [JSONObject] = []
        for id in ids {
            guard let user = try await store.user(id: id) else { continue }
            var object: JSONObject = ["user_id": .string(user.userID)]
            if let email = user.email { object["email"] = .string(email) }
            if let name = user.name { object["name"] = .string(name) }
            if let picture = user.picture { object["picture"] = .string(picture) }
            users.append(object)
        }
        return (users, total)
    }

    static func ids(_ body: JSONObject, key: String) throws(UsherError) -> [String] {
        let input = try PayloadReader(body, allowed: [key])
        guard let ids = try input.stringArray(key, maxCount: 100, maxLength: 255).value, !ids.isEmpty else {
            throw UsherError.invalidBody("'Missing required property: \(key)'.")
        }
        return ids
    }
}
