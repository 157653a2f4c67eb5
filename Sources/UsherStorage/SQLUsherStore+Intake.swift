import Foundation
import SQLKit
import UsherCore
import UsherJSON

/// Accepted requests (`IntakeStore`) on SQLite and PostgreSQL, one code path.
extension SQLUsherStore {
    public func insertIntake(_ requests: [IntakeRequest], worker: String?, leaseUntil: Date) async throws {
        guard !requests.isEmpty else { return }
        let leaseEnd = worker == nil ? 0 : Timestamp.milliseconds(leaseUntil)
        if let intakeWriter, !inTransaction {
            // Under the write gate: no other write of this process runs, so the direct commit never waits.
            if try await exclusive({ try intakeWriter.insert(requests, worker: worker, leaseEnd: leaseEnd) }) { return }
        }
        var insert = db.insert(into: "intake").columns("id", "kind", "payload", "received_at", "lease_owner", "lease_expires_at")
        for request in requests {
            insert = insert.values(
                SQLBind(request.id), SQLBind(request.kind.rawValue), SQLBind(Self.encode(request.payload)),
                SQLBind(Timestamp.milliseconds(request.receivedAt)), SQLBind(worker), SQLBind(leaseEnd))
        }
        let query = insert
        try await write { try await query.run() }
    }

    public func claimIntake(kind: IntakeKind, worker: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [IntakeRequest] {
        guard limit > 0 else { return [] }
        // One statement, atomic on both databases; on PostgreSQL rows another instance is claiming right now are
        // skipped, not waited for.
        let locking = db.dialect.name == "postgresql" ? " FOR UPDATE SKIP LOCKED" : ""
        let query: SQLQueryString = """
            UPDATE "intake" SET "lease_owner" = \(bind: worker), "lease_expires_at" = \(bind: Timestamp.milliseconds(leaseUntil)) \
            WHERE "id" IN (SELECT "id" FROM "intake" WHERE "kind" = \(bind: kind.rawValue) \
            AND "lease_expires_at" <= \(bind: Timestamp.milliseconds(now)) \
            ORDER BY "lease_expires_at", "received_at" LIMIT \(literal: limit)\(unsafeRaw: locking)) \
            RETURNING "id", "kind", "payload", "received_at"
            """
        let rows = try await write { try await db.raw(query).all() }
        return try rows.map { row in
            IntakeRequest(
                id: try row.decode(column: "id", as: String.self), kind: IntakeKind(rawValue: try row.decode(column: "kind", as: String.self)),
                payload: Self.decodeObject(try row.decode(column: "payload", as: String.self)),
                receivedAt: Timestamp.date(milliseconds: try row.decode(column: "received_at", as: Int64.self)))
        }.sorted { ($0.receivedAt, $0.id) < ($1.receivedAt, $1.id) }
    }

    public func completeIntake(ids: [String], worker: String) async throws -> Set<String> {
        var completed = Set<String>()
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
            let query = db.delete(from: "intake")
                .where(SQLColumn("id"), .in, SQLGroupExpression(chunk.map { SQLBind($0) }))
                .where("lease_owner", .equal, SQLBind(worker))
                .returning("id")
            let rows = try await write { try await query.all() }
            for row in rows { completed.insert(try row.decode(column: "id", as: String.self)) }
        }
        return completed
    }

    public func intakeCount(kind: IntakeKind) async throws -> Int {
        let row = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "count").from("intake")
            .where("kind", .equal, SQLBind(kind.rawValue)).first()
        return try row?.decode(column: "count", as: Int.self) ?? 0
    }
}
