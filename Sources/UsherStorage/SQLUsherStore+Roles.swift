import Foundation
import SQLKit
import Synchronization
import UsherCore

/// Roles and their holders (`RoleStore`) on SQLite and PostgreSQL, one code path.
extension SQLUsherStore {
    static let roleColumns = ["id", "name", "description", "created_at"]

    public func insertRole(_ role: Role) async throws {
        try await write(conflict: UsherError.roleNameTaken) {
            try await db.insert(into: "roles").columns(Self.roleColumns.map { SQLColumn($0) })
                .values(SQLBind(role.id), SQLBind(role.name), SQLBind(role.description), SQLBind(Timestamp.milliseconds(role.createdAt))).run()
        }
    }

    public func role(id: String) async throws -> Role? {
        try await db.select().columns(Self.roleColumns.map { SQLColumn($0) }).from("roles").where("id", .equal, SQLBind(id)).first()
            .map(Self.role(from:))
    }

    public func roles(ids: [String]) async throws -> [Role] {
        guard !ids.isEmpty else { return [] }
        return try await db.select().columns(Self.roleColumns.map { SQLColumn($0) }).from("roles")
            .where("id", .in, SQLGroupExpression(Set(ids).sorted().map { SQLBind($0) })).all().map(Self.role(from:))
    }

    public func updateRole(_ role: Role) async throws {
        let query = db.update("roles").set("name", to: SQLBind(role.name)).set("description", to: SQLBind(role.description))
            .where("id", .equal, SQLBind(role.id)).returning("id")
        let found = try await write(conflict: UsherError.roleNameTaken) { !(try await query.all()).isEmpty }
        if !found { throw UsherError.roleNotFound }
    }

    public func deleteRole(id: String) async throws -> Bool {
        let (assignments, role) = (
            db.delete(from: "user_roles").where("role_id", .equal, SQLBind(id)).query,
            db.delete(from: "roles").where("id", .equal, SQLBind(id)).returning("id").query
        )
        return try await withWriteTransaction { tx in
            try await tx.execute(sql: assignments) { _ in }
            let deleted = Mutex(false)
            try await tx.execute(sql: role) { _ in deleted.withLock { $0 = true } }
            return deleted.withLock { $0 }
        }
    }

    public func listRoles(nameFilter: String?, offset: Int, limit: Int) async throws -> (roles: [Role], total: Int) {
        func narrowed(_ select: SQLSelectBuilder) -> SQLSelectBuilder {
            guard let nameFilter, !nameFilter.isEmpty else { return select }
            return select.where(Self.like(SQLQueryString("LOWER(\(ident: "name"))"), nameFilter, anywhere: true))
        }
        let total =
            try await narrowed(db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("roles"))
            .first(decodingColumn: "n", as: Int.self) ?? 0
        let roles = try await narrowed(db.select().columns(Self.roleColumns.map { SQLColumn($0) }).from("roles"))
            .orderBy("name").orderBy("id").offset(min(offset, Int(Int32.max))).limit(max(0, limit)).all().map(Self.role(from:))
        return (roles, total)
    }

    public func userRoles(userID: String) async throws -> [Role] {
        var select = db.select()
        for column in Self.roleColumns { select = select.column(SQLColumn(column, table: "roles")) }
        return try await select.from("roles")
            .join("user_roles", on: SQLColumn("role_id", table: "user_roles"), .equal, SQLColumn("id", table: "roles"))
            .where(SQLColumn("user_id", table: "user_roles"), .equal, SQLBind(userID))
            .orderBy(SQLColumn("name", table: "roles")).all().map(Self.role(from:))
    }

    public func assignRoles(userID: String, roleIDs: [String]) async throws {
        let held = Set(try await userRoles(userID: userID).map(\.id))
        let new = Set(roleIDs).subtracting(held).sorted()
        guard !new.isEmpty else { return }
        var insert = db.insert(into: "user_roles").columns("user_id", "role_id")
        for roleID in new { insert = insert.values(SQLBind(userID), SQLBind(roleID)) }
        // Two racing assignments of the same role: the primary key keeps one, and either way the user holds it.
        let statement = insert.ignoringConflicts()
        try await write { try await statement.run() }
    }

    public func removeRoles(userID: String, roleIDs: [String]) async throws {
        guard !roleIDs.isEmpty else { return }
        let query = db.delete(from: "user_roles").where("user_id", .equal, SQLBind(userID))
            .where("role_id", .in, SQLGroupExpression(roleIDs.map { SQLBind($0) }))
        try await write { try await query.run() }
    }

    public func roleUserIDs(roleID: String, offset: Int, limit: Int) async throws -> (userIDs: [String], total: Int) {
        let total =
            try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("user_roles")
            .where("role_id", .equal, SQLBind(roleID)).first(decodingColumn: "n", as: Int.self) ?? 0
        let ids = try await db.select().column("user_id").from("user_roles").where("role_id", .equal, SQLBind(roleID))
            .orderBy("user_id").offset(min(offset, Int(Int32.max))).limit(max(0, limit)).all(decodingColumn: "user_id", as: String.self)
        return (ids, total)
    }

    static func role(from row: any SQLRow) throws -> Role {
        Role(
            id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self),
            description: try row.decode(column: "description", as: String?.self),
            createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)))
    }
}
