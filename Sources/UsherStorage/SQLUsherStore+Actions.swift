import Foundation
import SQLKit
import Synchronization
import UsherCore
import UsherJSON

/// Actions, their versions and trigger bindings on SQLite and PostgreSQL, one code path.
extension SQLUsherStore {
    // MARK: JSON columns

    static func encode(_ triggers: [ActionTrigger]) -> String {
        JSONValue.array(triggers.map { .object($0.json) }).jsonString
    }

    static func decodeTriggers(_ text: String) -> [ActionTrigger] {
        decodeArray(text).compactMap { item in
            guard let id = item["id"]?.stringValue else { return nil }
            return ActionTrigger(id: id, version: item["version"]?.stringValue ?? ActionTrigger.defaultPostLoginVersion)
        }
    }

    static func encode(_ dependencies: [ActionDependency]) -> String {
        JSONValue.array(dependencies.map { .object($0.json) }).jsonString
    }

    static func decodeDependencies(_ text: String) -> [ActionDependency] {
        decodeArray(text).compactMap { item in
            guard let name = item["name"]?.stringValue, let version = item["version"]?.stringValue else { return nil }
            return ActionDependency(name: name, version: version, registryURL: item["registry_url"]?.stringValue)
        }
    }

    /// Secrets with their values (the database is the only place values live).
    static func encode(_ secrets: [ActionSecret]) -> String {
        JSONValue.array(
            secrets.map {
                .object(["name": .string($0.name), "value": .string($0.value), "updated_at": .int(Timestamp.milliseconds($0.updatedAt))])
            }
        ).jsonString
    }

    static func decodeSecrets(_ text: String) -> [ActionSecret] {
        decodeArray(text).compactMap { item in
            guard let name = item["name"]?.stringValue, let value = item["value"]?.stringValue else { return nil }
            var millis: Int64 = 0
            if case .int(let m)? = item["updated_at"] { millis = m }
            return ActionSecret(name: name, value: value, updatedAt: Timestamp.date(milliseconds: millis))
        }
    }

    private static func decodeArray(_ text: String) -> [JSONValue] {
        (try? JSONParser.parse(text))?.arrayValue ?? []
    }

    // MARK: actions

    static let actionColumns = [
        "id", "name", "supported_triggers", "code", "dependencies", "runtime", "secrets", "deployed_version_id", "all_changes_deployed",
        "created_at", "updated_at",
    ]

    static func actionValues(_ a: Action) -> [any SQLExpression] {
        [
            SQLBind(a.id), SQLBind(a.name), SQLBind(encode(a.supportedTriggers)), SQLBind(a.code), SQLBind(encode(a.dependencies)),
            SQLBind(a.runtime), SQLBind(encode(a.secrets)), SQLBind(a.deployedVersionID), SQLBind(a.allChangesDeployed),
            SQLBind(Timestamp.milliseconds(a.createdAt)), SQLBind(Timestamp.milliseconds(a.updatedAt)),
        ]
    }

    static func action(from row: any SQLRow) throws -> Action {
        Action(
            id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self),
            supportedTriggers: decodeTriggers(try row.decode(column: "supported_triggers", as: String.self)),
            code: try row.decode(column: "code", as: String.self),
            dependencies: decodeDependencies(try row.decode(column: "dependencies", as: String.self)),
            runtime: try row.decode(column: "runtime", as: String.self), secrets: decodeSecrets(try row.decode(column: "secrets", as: String.self)),
            deployedVersionID: try row.decode(column: "deployed_version_id", as: String?.self),
            allChangesDeployed: try row.decode(column: "all_changes_deployed", as: Bool.self),
            createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Timestamp.date(milliseconds: try row.decode(column: "updated_at", as: Int64.self)))
    }

    static func actionNameConflict(_ name: String) -> UsherError {
        UsherError(.conflict, "An action with the name '\(name)' already exists.", errorCode: "action_conflict")
    }

    public func insertAction(_ action: Action) async throws {
        try await write(conflict: Self.actionNameConflict(action.name)) {
            try await db.insert(into: "actions").columns(Self.actionColumns).values(Self.actionValues(action)).run()
        }
    }

    public func action(id: String) async throws -> Action? {
        try await db.select().columns(Self.actionColumns.map { SQLColumn($0) }).from("actions").where("id", .equal, SQLBind(id)).first()
            .map(Self.action(from:))
    }

    public func action(name: String) async throws -> Action? {
        try await db.select().columns(Self.actionColumns.map { SQLColumn($0) }).from("actions").where("name", .equal, SQLBind(name)).first()
            .map(Self.action(from:))
    }

    public func listActions() async throws -> [Action] {
        try await db.select().columns(Self.actionColumns.map { SQLColumn($0) }).from("actions").orderBy("created_at").orderBy("id").all()
            .map(Self.action(from:))
    }

    public func updateAction(_ action: Action) async throws {
        let query = zip(Self.actionColumns, Self.actionValues(action)).dropFirst()
            .reduce(db.update("actions")) { $0.set(SQLColumn($1.0), to: $1.1) }
            .where("id", .equal, SQLBind(action.id)).returning("id")
        let updated = try await write(conflict: Self.actionNameConflict(action.name)) { try await query.all() }
        if updated.isEmpty { throw ActionService.actionNotFound }
    }

    public func deleteAction(id: String) async throws -> Bool {
        try await withWriteTransaction { tx in
            try await tx.delete(from: "trigger_bindings").where("action_id", .equal, SQLBind(id)).run()
            try await tx.delete(from: "action_versions").where("action_id", .equal, SQLBind(id)).run()
            return !(try await tx.delete(from: "actions").where("id", .equal, SQLBind(id)).returning("id").all()).isEmpty
        }
    }

    // MARK: versions

    static let versionColumns = ["id", "action_id", "number", "code", "dependencies", "runtime", "secrets", "supported_triggers", "created_at"]

    static func version(from row: any SQLRow, prefix: String = "") throws -> ActionVersion {
        ActionVersion(
            id: try row.decode(column: prefix + "id", as: String.self), actionID: try row.decode(column: prefix + "action_id", as: String.self),
            number: Int(try row.decode(column: prefix + "number", as: Int64.self)), code: try row.decode(column: prefix + "code", as: String.self),
            dependencies: decodeDependencies(try row.decode(column: prefix + "dependencies", as: String.self)),
            runtime: try row.decode(column: prefix + "runtime", as: String.self),
            secrets: decodeSecrets(try row.decode(column: prefix + "secrets", as: String.self)),
            supportedTriggers: decodeTriggers(try row.decode(column: prefix + "supported_triggers", as: String.self)),
            createdAt: Timestamp.date(milliseconds: try row.decode(column: prefix + "created_at", as: Int64.self)))
    }

    public func deployAction(id: String, versionID: String, at: Date) async throws -> ActionVersion? {
        try await withWriteTransaction { tx in
            var select = tx.select().columns(Self.actionColumns.map { SQLColumn($0) }).from("actions").where("id", .equal, SQLBind(id))
            // Two instances deploying the same Action at once take turns (SQLite has one writer anyway).
            if tx.dialect.name == "postgresql" { select = select.lockingClause(SQLRaw("FOR UPDATE")) }
            guard let draft = try await select.first().map(Self.action(from:)) else { return nil }
            let last =
                try await tx.select().column(SQLFunction("MAX", args: SQLColumn("number")), as: "n").from("action_versions")
                .where("action_id", .equal, SQLBind(id)).first(decodingColumn: "n", as: Int64?.self) ?? nil
            let version = ActionVersion(
                id: versionID, actionID: id, number: Int(last ?? 0) + 1, code: draft.code, dependencies: draft.dependencies, runtime: draft.runtime,
                secrets: draft.secrets, supportedTriggers: draft.supportedTriggers, createdAt: at)
            try await tx.insert(into: "action_versions").columns(Self.versionColumns)
                .values(
                    SQLBind(version.id), SQLBind(version.actionID), SQLBind(Int64(version.number)), SQLBind(version.code),
                    SQLBind(Self.encode(version.dependencies)), SQLBind(version.runtime), SQLBind(Self.encode(version.secrets)),
                    SQLBind(Self.encode(version.supportedTriggers)), SQLBind(Timestamp.milliseconds(at))
                )
                .run()
            try await tx.update("actions").set("deployed_version_id", to: SQLBind(version.id)).set("all_changes_deployed", to: SQLBind(true))
                .where("id", .equal, SQLBind(id)).run()
            return version
        }
    }

    public func actionVersions(actionID: String) async throws -> [ActionVersion] {
        try await db.select().columns(Self.versionColumns.map { SQLColumn($0) }).from("action_versions").where("action_id", .equal, SQLBind(actionID))
            .orderBy("number", .descending).all().map { try Self.version(from: $0) }
    }

    public func actionVersion(id: String) async throws -> ActionVersion? {
        try await db.select().columns(Self.versionColumns.map { SQLColumn($0) }).from("action_versions").where("id", .equal, SQLBind(id))
            .first().map { try Self.version(from: $0) }
    }

    // MARK: bindings

    static let bindingColumns = ["id", "trigger_id", "action_id", "display_name", "secrets", "created_at", "updated_at"]

    static func binding(from row: any SQLRow, prefix: String = "") throws -> TriggerBinding {
        TriggerBinding(
            id: try row.decode(column: prefix + "id", as: String.self), triggerID: try row.decode(column: prefix + "trigger_id", as: String.self),
            actionID: try row.decode(column: prefix + "action_id", as: String.self),
            displayName: try row.decode(column: prefix + "display_name", as: String.self),
            secrets: decodeSecrets(try row.decode(column: prefix + "secrets", as: String.self)),
            createdAt: Timestamp.date(milliseconds: try row.decode(column: prefix + "created_at", as: Int64.self)),
            updatedAt: Timestamp.date(milliseconds: try row.decode(column: prefix + "updated_at", as: Int64.self)))
    }

    public func triggerBindings(triggerID: String) async throws -> [TriggerBinding] {
        try await db.select().columns(Self.bindingColumns.map { SQLColumn($0) }).from("trigger_bindings")
            .where("trigger_id", .equal, SQLBind(triggerID)).orderBy("position").all().map { try Self.binding(from: $0) }
    }

    public func replaceTriggerBindings(triggerID: String, with bindings: [TriggerBinding]) async throws {
        try await withWriteTransaction { tx in
            try await tx.delete(from: "trigger_bindings").where("trigger_id", .equal, SQLBind(triggerID)).run()
            guard !bindings.isEmpty else { return }
            var insert = tx.insert(into: "trigger_bindings")
                .columns("id", "trigger_id", "position", "action_id", "display_name", "secrets", "created_at", "updated_at")
            for (position, b) in bindings.enumerated() {
                insert = insert.values(
                    SQLBind(b.id), SQLBind(triggerID), SQLBind(Int64(position)), SQLBind(b.actionID), SQLBind(b.displayName),
                    SQLBind(Self.encode(b.secrets)), SQLBind(Timestamp.milliseconds(b.createdAt)), SQLBind(Timestamp.milliseconds(b.updatedAt)))
            }
            try await insert.run()
        }
    }

    public func boundActionVersions(triggerID: String) async throws -> [BoundActionVersion] {
        // One query per login: bindings joined to their Action and its deployed version, in execution order.
        // On SQLite the synchronous reader runs it (the same SQL, serialised once per process).
        if let reader, !inTransaction, let rows = try reader.sqlRows(sqliteBoundActionVersionsSQL, [triggerID]) {
            return try rows.map(Self.boundActionVersion(from:))
        }
        return try await boundActionVersionsQuery(triggerID: triggerID).all().map(Self.boundActionVersion(from:))
    }

    static func boundActionVersion(from row: any SQLRow) throws -> BoundActionVersion {
        BoundActionVersion(
            binding: try Self.binding(from: row, prefix: "b_"), actionName: try row.decode(column: "a_name", as: String.self),
            version: try Self.version(from: row, prefix: "v_"))
    }

    /// The query's SQLite text, serialised on first use (only the SQLite reader uses it, and it does not depend on
    /// the trigger, which is bound).
    var sqliteBoundActionVersionsSQL: String {
        if let cached = sqliteBoundActionVersionsText.withLock({ $0 }) { return cached }
        let text = db.serialize(boundActionVersionsQuery(triggerID: "").query).sql
        sqliteBoundActionVersionsText.withLock { $0 = text }
        return text
    }

    func boundActionVersionsQuery(triggerID: String) -> SQLSelectBuilder {
        var select = db.select()
        for column in Self.bindingColumns { select = select.column(SQLColumn(column, table: "b"), as: "b_" + column) }
        for column in Self.versionColumns { select = select.column(SQLColumn(column, table: "v"), as: "v_" + column) }
        return select.column(SQLColumn("name", table: "a"), as: "a_name")
            .from(SQLAlias(SQLIdentifier("trigger_bindings"), as: SQLIdentifier("b")))
            .join(SQLAlias(SQLIdentifier("actions"), as: SQLIdentifier("a")), on: SQLColumn("action_id", table: "b"), .equal, SQLColumn("id", table: "a"))
            .join(
                SQLAlias(SQLIdentifier("action_versions"), as: SQLIdentifier("v")),
                on: SQLColumn("deployed_version_id", table: "a"), .equal, SQLColumn("id", table: "v")
            )
            .where(SQLColumn("trigger_id", table: "b"), .equal, SQLBind(triggerID))
            .orderBy(SQLColumn("position", table: "b"), SQLDirection.ascending)
    }
}

/// See `SQLUsherStore.sqliteBoundActionVersionsSQL`.
private let sqliteBoundActionVersionsText = Mutex<String?>(nil)
