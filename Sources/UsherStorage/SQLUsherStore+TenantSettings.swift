import Foundation
import SQLKit
import UsherCore
import UsherJSON

/// Tenant settings (`TenantSettingsStore`) on SQLite and PostgreSQL, one code path: one JSON document in one row.
extension SQLUsherStore {
    public func tenantSettings() async throws -> TenantSettings {
        let text = try await db.select().column("settings").from("tenant_settings").where("id", .equal, SQLBind("default"))
            .first(decodingColumn: "settings", as: String.self)
        return TenantSettings(text.map(Self.decodeObject) ?? [:])
    }

    public func saveTenantSettings(_ settings: TenantSettings) async throws {
        let encoded = Self.encode(settings.object)
        try await withWriteTransaction { tx in
            let updated = try await tx.update("tenant_settings").set("settings", to: SQLBind(encoded)).where("id", .equal, SQLBind("default"))
                .returning("id").all()
            if updated.isEmpty {
                try await tx.insert(into: "tenant_settings").columns("id", "settings").values(SQLBind("default"), SQLBind(encoded)).run()
            }
        }
    }
}
