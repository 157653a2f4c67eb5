import Foundation
import SQLKit
import UsherCore

/// Link tickets (`TicketStore`) on SQLite and PostgreSQL, one code path: only token hashes are stored, and redeeming is one conditional UPDATE.
extension SQLUsherStore {
    static let ticketColumns = [
        "token_hash", "kind", "user_id", "client_id", "result_url", "include_email", "mark_email_verified", "origin", "created_at", "expires_at",
        "used_at", "voided_at",
    ]

    static let ticketColumnList = quotedColumns(ticketColumns)

    static func ticketValues(_ t: Ticket) -> [any SQLExpression] {
        [
            SQLBind(t.tokenHash), SQLBind(t.kind.rawValue), SQLBind(t.userID), SQLBind(t.clientID), SQLBind(t.resultURL),
            SQLBind(t.includeEmailInRedirect), SQLBind(t.markEmailVerified), SQLBind(t.origin), SQLBind(Timestamp.milliseconds(t.createdAt)),
            SQLBind(Timestamp.milliseconds(t.expiresAt)), SQLBind(Self.millis(t.usedAt)), SQLBind(Self.millis(t.voidedAt)),
        ]
    }

    public func insertTicket(_ t: Ticket) async throws {
        try await write(conflict: UsherError(.conflict, "Ticket already exists", errorCode: "conflict")) {
            try await db.insert(into: "tickets").columns(Self.ticketColumnList).values(Self.ticketValues(t)).run()
        }
    }

    /// One UPDATE per ticket kind voids the users' older tickets, one multi-row INSERT stores the batch, in one
    /// transaction (the caller's, when there is one).
    public func issueTickets(_ tickets: [Ticket], now: Date) async throws {
        guard !tickets.isEmpty else { return }
        var statements: [any SQLExpression] = []
        for kind in Set(tickets.map(\.kind)).sorted(by: { $0.rawValue < $1.rawValue }) {
            let users = Set(tickets.filter { $0.kind == kind }.map(\.userID)).sorted()
            statements.append(voidingTickets(userIDs: users, kind: kind, now: now).query)
        }
        var insert = db.insert(into: "tickets").columns(Self.ticketColumnList)
        for ticket in Self.supersedingWithinBatch(tickets, now: now) { insert = insert.values(Self.ticketValues(ticket)) }
        statements.append(insert.query)
        let batch = statements
        do {
            try await withWriteTransaction { tx in
                for statement in batch { try await tx.execute(sql: statement) { _ in } }
            }
        } catch let error where Self.isUniqueViolation(error) {
            throw UsherError(.conflict, "Ticket already exists", errorCode: "conflict")
        }
    }

    public func ticket(tokenHash: String) async throws -> Ticket? {
        try await db.select().columns(Self.ticketColumns.map { SQLColumn($0) }).from("tickets").where("token_hash", .equal, SQLBind(tokenHash)).first()
            .map { row in
                Ticket(
                    tokenHash: try row.decode(column: "token_hash", as: String.self),
                    kind: TicketKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .passwordChange,
                    userID: try row.decode(column: "user_id", as: String.self), clientID: try row.decode(column: "client_id", as: String?.self),
                    resultURL: try row.decode(column: "result_url", as: String?.self),
                    includeEmailInRedirect: try row.decode(column: "include_email", as: Bool.self),
                    markEmailVerified: try row.decode(column: "mark_email_verified", as: Bool.self), origin: try row.decode(column: "origin", as: String.self),
                    createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
                    expiresAt: Timestamp.date(milliseconds: try row.decode(column: "expires_at", as: Int64.self)),
                    usedAt: Self.date(try row.decode(column: "used_at", as: Int64?.self)),
                    voidedAt: Self.date(try row.decode(column: "voided_at", as: Int64?.self)))
            }
    }

    public func redeemTicket(tokenHash: String, now: Date) async throws -> Bool {
        let stamp = Timestamp.milliseconds(now)
        // One conditional UPDATE: the database decides which of several racing submissions wins.
        let query = db.update("tickets").set("used_at", to: SQLBind(stamp))
            .where("token_hash", .equal, SQLBind(tokenHash))
            .where("used_at", .is, SQLLiteral.null)
            .where("voided_at", .is, SQLLiteral.null)
            .where("expires_at", .greaterThan, SQLBind(stamp))
            .returning("token_hash")
        return try await write { !(try await query.all()).isEmpty }
    }

    public func voidTickets(userID: String, kind: TicketKind, keeping: String?, now: Date) async throws -> Int {
        var query = voidingTickets(userIDs: [userID], kind: kind, now: now)
        if let keeping { query = query.where("token_hash", .notEqual, SQLBind(keeping)) }
        let finished = query.returning("token_hash")
        return try await write { try await finished.all().count }
    }

    /// The UPDATE that voids the unused, unvoided tickets of `kind` held by `userIDs`.
    func voidingTickets(userIDs: [String], kind: TicketKind, now: Date) -> SQLUpdateBuilder {
        db.update("tickets").set("voided_at", to: SQLBind(Timestamp.milliseconds(now)))
            .where("user_id", .in, SQLGroupExpression(userIDs.map { SQLBind($0) }))
            .where("kind", .equal, SQLBind(kind.rawValue))
            .where("used_at", .is, SQLLiteral.null)
            .where("voided_at", .is, SQLLiteral.null)
    }

    public func deleteExpiredTickets(before: Date) async throws -> Int {
        let query = db.delete(from: "tickets").where("expires_at", .lessThan, SQLBind(Timestamp.milliseconds(before))).returning("token_hash")
        return try await write { try await query.all().count }
    }
}
