import Foundation
import SQLKit
import UsherCore

/// Dashboard administrators (`AdminStore`) on SQLite and PostgreSQL, one code path.
extension SQLUsherStore {
    static let adminColumns = ["id", "email", "password_hash", "scopes", "created_at", "last_login_at"]

    public func insertAdmin(_ admin: AdminAccount) async throws {
        try await write(conflict: UsherError.adminExists) {
            try await db.insert(into: "admin_accounts").columns(Self.adminColumns.map { SQLColumn($0) })
                .values(
                    SQLBind(admin.id), SQLBind(admin.email.lowercased()), SQLBind(admin.passwordHash), SQLBind(Self.encode(admin.scopes)),
                    SQLBind(Timestamp.milliseconds(admin.createdAt)), SQLBind(Self.millis(admin.lastLoginAt))
                ).run()
        }
    }

    public func admin(id: String) async throws -> AdminAccount? {
        try await db.select().columns(Self.adminColumns.map { SQLColumn($0) }).from("admin_accounts").where("id", .equal, SQLBind(id)).first()
            .map(Self.admin(from:))
    }

    public func admin(email: String) async throws -> AdminAccount? {
        try await db.select().columns(Self.adminColumns.map { SQLColumn($0) }).from("admin_accounts")
            .where("email", .equal, SQLBind(email.lowercased())).first().map(Self.admin(from:))
    }

    public func listAdmins() async throws -> [AdminAccount] {
        try await db.select().columns(Self.adminColumns.map { SQLColumn($0) }).from("admin_accounts").orderBy("created_at").orderBy("id").all()
            .map(Self.admin(from:))
    }

    public func updateAdmin(_ admin: AdminAccount) async throws {
        let query = db.update("admin_accounts").set("email", to: SQLBind(admin.email.lowercased())).set("password_hash", to: SQLBind(admin.passwordHash))
            .set("scopes", to: SQLBind(Self.encode(admin.scopes))).set("last_login_at", to: SQLBind(Self.millis(admin.lastLoginAt)))
            .where("id", .equal, SQLBind(admin.id))
        try await write(conflict: UsherError.adminExists) { try await query.run() }
    }

    static func admin(from row: any SQLRow) throws -> AdminAccount {
        AdminAccount(
            id: try row.decode(column: "id", as: String.self), email: try row.decode(column: "email", as: String.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self),
            scopes: decodeStrings(try row.decode(column: "scopes", as: String.self)),
            createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            lastLoginAt: date(try row.decode(column: "last_login_at", as: Int64?.self)))
    }
}
