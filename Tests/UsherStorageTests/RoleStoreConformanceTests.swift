import Foundation
import Testing
import UsherCore
import UsherStorage
import UsherTesting

/// The roles contract (`RoleStore`) on every store: SQLite, PostgreSQL (with `USHER_TEST_POSTGRES_URL`) and memory.
@Suite("Role store conformance")
struct RoleStoreConformanceTests {
    static func role(_ name: String, description: String? = nil) -> Role {
        Role(id: "rol_" + name, name: name, description: description, createdAt: epoch)
    }

    @Test(arguments: StoreKind.available)
    func rolesRoundTripWithUniqueNamesAndFilteredLists(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for name in ["viewer", "Editor", "admin_x", "adminx"] { try await store.insertRole(Self.role(name, description: "d \(name)")) }
            #expect(try await store.role(id: "rol_viewer") == Self.role("viewer", description: "d viewer"))
            #expect(try await store.role(id: "rol_nope") == nil)
            await #expect(throws: UsherError.roleNameTaken) {
                try await store.insertRole(Role(id: "rol_other", name: "viewer", description: nil, createdAt: epoch))
            }
            #expect(Set(try await store.roles(ids: ["rol_viewer", "rol_nope", "rol_viewer"]).map(\.id)) == ["rol_viewer"])

            let (all, total) = try await store.listRoles(nameFilter: nil, offset: 0, limit: 10)
            #expect(total == 4 && Set(all.map(\.name)) == ["viewer", "Editor", "admin_x", "adminx"])
            #expect(try await store.listRoles(nameFilter: "EDIT", offset: 0, limit: 10).roles.map(\.name) == ["Editor"])
            // `_` is a character, not a pattern.
            #expect(try await store.listRoles(nameFilter: "admin_", offset: 0, limit: 10).roles.map(\.name) == ["admin_x"])
            #expect(try await store.listRoles(nameFilter: nil, offset: 3, limit: 10).roles.count == 1)

            var renamed = Self.role("viewer")
            renamed.name = "reader"
            try await store.updateRole(renamed)
            #expect(try await store.role(id: "rol_viewer") == renamed)
            renamed.name = "Editor"
            await #expect(throws: UsherError.roleNameTaken) { try await store.updateRole(renamed) }
            await #expect(throws: UsherError.roleNotFound) { try await store.updateRole(Self.role("ghost")) }
        }
    }

    @Test(arguments: StoreKind.available)
    func assignmentsAreSetsThatFollowRolesAndUsers(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for name in ["a", "b", "c"] { try await store.insertRole(Self.role(name)) }
            for n in 1...3 {
                try await store.insertUser(
                    User(userID: "auth0|\(n)", connection: "Username-Password-Authentication", email: "u\(n)@example.com", createdAt: epoch, updatedAt: epoch))
            }
            try await store.assignRoles(userID: "auth0|1", roleIDs: ["rol_b", "rol_a"])
            try await store.assignRoles(userID: "auth0|1", roleIDs: ["rol_a", "rol_c"])  // a again: kept once
            try await store.assignRoles(userID: "auth0|2", roleIDs: ["rol_a"])
            try await store.assignRoles(userID: "auth0|3", roleIDs: ["rol_a"])
            #expect(try await store.userRoles(userID: "auth0|1").map(\.name) == ["a", "b", "c"])
            #expect(try await store.roleUserIDs(roleID: "rol_a", offset: 0, limit: 10) == (["auth0|1", "auth0|2", "auth0|3"], 3))
            #expect(try await store.roleUserIDs(roleID: "rol_a", offset: 1, limit: 1) == (["auth0|2"], 3))

            try await store.removeRoles(userID: "auth0|1", roleIDs: ["rol_b", "rol_nope"])
            #expect(try await store.userRoles(userID: "auth0|1").map(\.name) == ["a", "c"])
            // Deleting a role or a user deletes their assignments.
            #expect(try await store.deleteRole(id: "rol_c"))
            #expect(try await store.deleteRole(id: "rol_c") == false)
            #expect(try await store.userRoles(userID: "auth0|1").map(\.name) == ["a"])
            #expect(try await store.deleteUser(id: "auth0|2"))
            #expect(try await store.roleUserIDs(roleID: "rol_a", offset: 0, limit: 10) == (["auth0|1", "auth0|3"], 2))
        }
    }
}
