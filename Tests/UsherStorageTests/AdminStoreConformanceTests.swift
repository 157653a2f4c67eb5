import Foundation
import Testing
import UsherCore
import UsherStorage
import UsherTesting

/// Dashboard administrators (`AdminStore`) on SQLite, PostgreSQL (with `USHER_TEST_POSTGRES_URL`) and memory.
@Suite("Admin store conformance")
struct AdminStoreConformanceTests {
    @Test(arguments: StoreKind.available)
    func administratorsRoundTripWithUniqueEmails(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var root = AdminAccount(id: "adm_1", email: "Root@Example.com", passwordHash: "h1", scopes: AdminRights.full.scopes, createdAt: epoch)
            try await store.insertAdmin(root)
            root.email = "root@example.com"
            #expect(try await store.admin(id: "adm_1") == root)
            #expect(try await store.admin(email: "ROOT@example.com") == root)
            #expect(try await store.admin(email: "other@example.com") == nil)

            let auditor = AdminAccount(
                id: "adm_2", email: "auditor@example.com", passwordHash: "h2", scopes: AdminRights.readOnly.scopes, createdAt: epoch.addingTimeInterval(1))
            try await store.insertAdmin(auditor)
            await #expect(throws: UsherError.adminExists) {
                try await store.insertAdmin(AdminAccount(id: "adm_3", email: "root@EXAMPLE.com", passwordHash: "h", scopes: [], createdAt: epoch))
            }
            #expect(try await store.listAdmins().map(\.id) == ["adm_1", "adm_2"])

            root.lastLoginAt = epoch.addingTimeInterval(60)
            root.passwordHash = "h1-new"
            try await store.updateAdmin(root)
            #expect(try await store.admin(id: "adm_1") == root)
            var taken = auditor
            taken.email = "root@example.com"
            await #expect(throws: UsherError.adminExists) { try await store.updateAdmin(taken) }
            #expect(AdminRights.readOnly.scopes.allSatisfy { $0.hasPrefix("read:") } && !AdminRights.readOnly.scopes.contains("read:client_keys"))
        }
    }
}
