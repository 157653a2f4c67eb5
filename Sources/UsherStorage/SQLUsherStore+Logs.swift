import Foundation
import SQLKit
import UsherCore

/// The tenant log (`LogStore`) on SQLite and PostgreSQL, one code path.
extension SQLUsherStore {
    static let logColumns = [
        "log_id", "date", "type", "description", "client_id", "client_name", "ip", "user_agent", "user_id", "user_name", "connection", "connection_id",
        "details",
    ]

    static let logColumnList = quotedColumns(logColumns)

    public func insertLogs(_ events: [LogEvent]) async throws {
        guard !events.isEmpty else { return }
        var insert = db.insert(into: "logs").columns(Self.logColumnList)
        for e in events {
            insert = insert.values(
                SQLBind(e.logID), SQLBind(Timestamp.milliseconds(e.date)), SQLBind(e.type), SQLBind(e.description), SQLBind(e.clientID),
                SQLBind(e.clientName), SQLBind(e.ip), SQLBind(e.userAgent), SQLBind(e.userID), SQLBind(e.userName), SQLBind(e.connection),
                SQLBind(e.connectionID), SQLBind(Self.encode(e.details)))
        }
        let finished = insert
        try await write { try await finished.run() }
    }

    static func logEvent(from row: any SQLRow) throws -> LogEvent {
        LogEvent(
            logID: try row.decode(column: "log_id", as: String.self), date: Timestamp.date(milliseconds: try row.decode(column: "date", as: Int64.self)),
            rawType: try row.decode(column: "type", as: String.self), description: try row.decode(column: "description", as: String?.self),
            clientID: try row.decode(column: "client_id", as: String?.self), clientName: try row.decode(column: "client_name", as: String?.self),
            ip: try row.decode(column: "ip", as: String?.self), userAgent: try row.decode(column: "user_agent", as: String?.self),
            userID: try row.decode(column: "user_id", as: String?.self), userName: try row.decode(column: "user_name", as: String?.self),
            connection: try row.decode(column: "connection", as: String?.self), connectionID: try row.decode(column: "connection_id", as: String?.self),
            details: Self.decodeObject(try row.decode(column: "details", as: String.self)))
    }

    public func logs(_ query: LogQuery) async throws -> (events: [LogEvent], total: Int) {
        func filtered(_ select: SQLSelectBuilder) -> SQLSelectBuilder {
            var select = select
            for condition in query.conditions where LogQuery.searchableFields.contains(condition.field) {
                select = select.where(SQLColumn(condition.field), .in, SQLGroupExpression(condition.values.map { SQLBind($0) }))
            }
            return select
        }
        let total =
            try await filtered(db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("logs"))
            .first(decodingColumn: "n", as: Int.self) ?? 0
        var page = filtered(db.select().columns(Self.logColumns.map { SQLColumn($0) }).from("logs"))
        if let from = query.fromLogID {
            page = page.where("log_id", query.ascending ? .greaterThan : .lessThan, SQLBind(from))
        }
        let events = try await page.orderBy("log_id", query.ascending ? .ascending : .descending)
            .offset(min(query.offset, Int(Int32.max))).limit(max(0, query.limit)).all().map(Self.logEvent(from:))
        return (events, total)
    }

    public func log(id: String) async throws -> LogEvent? {
        try await db.select().columns(Self.logColumns.map { SQLColumn($0) }).from("logs").where("log_id", .equal, SQLBind(id)).first()
            .map(Self.logEvent(from:))
    }
}
