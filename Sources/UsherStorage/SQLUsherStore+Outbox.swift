import Foundation
import SQLKit
import Synchronization
import UsherCore

/// The outbox, development mailbox and email provider on SQLite and PostgreSQL, one code path.
///
/// Claiming is the one place the databases differ: PostgreSQL locks the chosen rows with
/// `FOR UPDATE SKIP LOCKED` so several Usher instances claim disjoint batches without waiting on each other;
/// SQLite has one writer at a time (write gate + `BEGIN IMMEDIATE`), which serialises claimers already.
///
/// A message's bodies live in `outbox_body` (migration 6), written once at enqueue, sealed (`OutboxBodySeal`), and
/// replaced by their redacted copy in the write that marks the message sent or abandoned (migration 9): the live
/// link never sits in the database in clear, and not even sealed once it has been delivered. The claims and outcome
/// marks rewrite `outbox` rows, which stay small. Claims read the bodies of what they took after the claiming write,
/// outside SQLite's write lock.
extension SQLUsherStore {
    /// `outbox`'s columns (the bodies are in `outbox_body`).
    static let outboxColumns = [
        "id", "recipient", "sender", "reply_to", "subject", "message_id", "purpose", "status", "attempts",
        "last_error", "next_attempt_at", "lease_owner", "lease_expires_at", "created_at", "sent_at", "user_id",
    ]

    static func outboxValues(_ m: OutboxMessage) -> [any SQLExpression] {
        [
            SQLBind(m.id), SQLBind(m.to), SQLBind(m.from), SQLBind(m.replyTo), SQLBind(m.subject), SQLBind(m.messageID), SQLBind(m.purpose),
            SQLBind(m.status.rawValue), SQLBind(Int64(m.attempts)), SQLBind(m.lastError),
            SQLBind(Timestamp.milliseconds(m.nextAttemptAt)), SQLBind(m.leaseOwner), SQLBind(millis(m.leaseExpiresAt)),
            SQLBind(Timestamp.milliseconds(m.createdAt)), SQLBind(millis(m.sentAt)), SQLBind(m.userID),
        ]
    }

    /// A message from an `outbox` row and its bodies.
    static func outboxMessage(from row: any SQLRow, html: String, text: String?) throws -> OutboxMessage {
        let status = try row.decode(column: "status", as: String.self)
        return OutboxMessage(
            id: try row.decode(column: "id", as: String.self),
            to: try row.decode(column: "recipient", as: String.self),
            from: try row.decode(column: "sender", as: String?.self),
            replyTo: try row.decode(column: "reply_to", as: String?.self),
            subject: try row.decode(column: "subject", as: String.self),
            html: html,
            text: text,
            messageID: try row.decode(column: "message_id", as: String.self),
            purpose: try row.decode(column: "purpose", as: String.self),
            status: OutboxStatus(rawValue: status) ?? .failed,
            attempts: Int(try row.decode(column: "attempts", as: Int64.self)),
            lastError: try row.decode(column: "last_error", as: String?.self),
            nextAttemptAt: Timestamp.date(milliseconds: try row.decode(column: "next_attempt_at", as: Int64.self)),
            leaseOwner: try row.decode(column: "lease_owner", as: String?.self),
            leaseExpiresAt: date(try row.decode(column: "lease_expires_at", as: Int64?.self)),
            createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            sentAt: date(try row.decode(column: "sent_at", as: Int64?.self)),
            userID: try row.decode(column: "user_id", as: String?.self))
    }

    /// `outbox_body`'s columns as `selectOutboxWithBodies` and `fillingBodies` read them.
    static let bodyColumns = ["html", "text_body", "redacted_html", "redacted_text", "body_redacted"]

    /// A message from a row of `outbox` LEFT JOIN `outbox_body` (see `selectOutboxWithBodies`).
    func outboxMessageWithBodies(from row: any SQLRow) throws -> OutboxMessage {
        var message = try Self.outboxMessage(from: row, html: "", text: nil)
        try openBodies(from: row, into: &message)
        return message
    }

    /// Opens the sealed bodies of `row` into `message`; a body this instance cannot open leaves `bodyUnreadable`.
    func openBodies(from row: any SQLRow, into message: inout OutboxMessage) throws {
        message.bodyRedacted = try row.decode(column: "body_redacted", as: Bool?.self) ?? false
        do {
            message.html = try outboxSeal.open(try row.decode(column: "html", as: String?.self)) ?? ""
            message.text = try outboxSeal.open(try row.decode(column: "text_body", as: String?.self))
            message.redactedHTML = try outboxSeal.open(try row.decode(column: "redacted_html", as: String?.self))
            message.redactedText = try outboxSeal.open(try row.decode(column: "redacted_text", as: String?.self))
        } catch let error as UsherError {
            message.bodyUnreadable = error.message
        }
    }

    static let outboxColumnList = outboxColumns.map { "\"\($0)\"" }.joined(separator: ", ")

    var outboxColumnExpressions: [any SQLExpression] { Self.outboxColumns.map { SQLColumn($0) } }

    /// `SELECT outbox.*, html, text_body FROM outbox LEFT JOIN outbox_body`: for reads that return whole messages.
    func selectOutboxWithBodies() -> SQLSelectBuilder {
        db.select().columns(Self.outboxColumns.map { SQLColumn($0, table: "outbox") })
            .columns(Self.bodyColumns.map { SQLColumn($0, table: "outbox_body") })
            .from("outbox")
            .join("outbox_body", method: SQLJoinMethod.left, on: SQLColumn("outbox_id", table: "outbox_body"), .equal, SQLColumn("id", table: "outbox"))
    }

    /// `messages` (decoded without bodies) with their bodies read from `outbox_body`, 500 ids per query.
    /// A claimed message's bodies do not change while it is `sending`, so any connection may read them once the
    /// claim has committed.
    func fillingBodies(_ messages: [OutboxMessage], from db: any SQLDatabase) async throws -> [OutboxMessage] {
        if messages.isEmpty { return [] }
        var filled: [String: OutboxMessage] = Dictionary(uniqueKeysWithValues: messages.map { ($0.id, $0) })
        var start = messages.startIndex
        while start < messages.endIndex {
            let chunk = messages[start..<min(start + 500, messages.endIndex)]
            start = chunk.endIndex
            let rows = try await db.select().column("outbox_id").columns(Self.bodyColumns.map { SQLColumn($0) }).from("outbox_body")
                .where(SQLColumn("outbox_id"), .in, SQLGroupExpression(chunk.map { SQLBind($0.id) }))
                .all()
            for row in rows {
                let id = try row.decode(column: "outbox_id", as: String.self)
                if var message = filled[id] {
                    try openBodies(from: row, into: &message)
                    filled[id] = message
                }
            }
        }
        return messages.map { filled[$0.id] ?? $0 }
    }

    /// Replaces the bodies of `ids` that hold a secret by their redacted copy, in the write that marks them
    /// delivered or abandoned (the link is never needed again). 500 ids per statement.
    func redactBodies(_ ids: [String], in db: any SQLDatabase) async throws {
        var start = ids.startIndex
        while start < ids.endIndex {
            let chunk = Array(ids[start..<min(start + 500, ids.endIndex)])
            start += chunk.count
            let query: SQLQueryString = """
                UPDATE "outbox_body" SET "html" = "redacted_html", "text_body" = "redacted_text", "redacted_html" = NULL, \
                "redacted_text" = NULL, "body_redacted" = \(bind: true) \
                WHERE "outbox_id" IN (\(binds: chunk)) AND "redacted_html" IS NOT NULL
                """
            try await db.raw(query).run()
        }
    }

    /// Runs `body` in a transaction on a pinned session (or in the current one), with the SQLite write gate held.
    func withWriteTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        if inTransaction { return try await body(db) }
        let db = self.db
        return try await exclusive {
            try await db.withSession { session in try await Migrator.transaction(session, body) }
        }
    }

    public func enqueueOutbox(_ message: OutboxMessage) async throws {
        try await enqueueOutbox([message])
    }

    /// Both tables' rows for every message, or none (a no-op wrapper inside the caller's transaction, the usual case).
    public func enqueueOutbox(_ messages: [OutboxMessage]) async throws {
        guard !messages.isEmpty else { return }
        var rows = db.insert(into: "outbox").columns(Self.outboxColumns)
        var bodies = db.insert(into: "outbox_body").columns("outbox_id", "html", "text_body", "redacted_html", "redacted_text", "body_redacted")
        let seal = outboxSeal
        for message in messages {
            rows = rows.values(Self.outboxValues(message))
            bodies = bodies.values(
                SQLBind(message.id), SQLBind(seal.seal(message.html)), SQLBind(seal.seal(message.text)), SQLBind(seal.seal(message.redactedHTML)),
                SQLBind(seal.seal(message.redactedText)), SQLBind(false))
        }
        let (outbox, outboxBodies) = (rows.query, bodies.query)
        do {
            try await withWriteTransaction { tx in
                try await tx.execute(sql: outbox) { _ in }
                try await tx.execute(sql: outboxBodies) { _ in }
            }
        } catch let error where Self.isUniqueViolation(error) {
            throw UsherError(.conflict, "An outbox message with this id already exists", errorCode: "conflict")
        }
    }

    public func claimOutbox(worker: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [OutboxMessage] {
        let claimed = try await claimOutboxWithoutBodies(worker: worker, now: now, leaseUntil: leaseUntil, limit: limit)
        return try await fillingBodies(claimed, from: db)
    }

    /// The claim itself: the chosen rows updated and returned, bodies still empty (`fillingBodies` adds them).
    func claimOutboxWithoutBodies(worker: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [OutboxMessage] {
        guard limit > 0 else { return [] }
        if db.dialect.name == "sqlite" { return try await claimOutboxSQLite(worker: worker, now: now, leaseUntil: leaseUntil, limit: limit) }
        let columns = outboxColumnExpressions
        return try await withWriteTransaction { tx in
            // One query per status, each reading the `outbox_due` index (status, next_attempt_at) in order and
            // stopping after `limit` rows. A single `status IN (…) ORDER BY next_attempt_at, id` sorted every due
            // row on each claim: quadratic over a backlog (10,000 queued messages: 90% of the courier's time).
            // Ties on next_attempt_at come in index order; the merged result is ordered by (due, id).
            var due: [(id: String, at: Int64)] = []
            for status in [OutboxStatus.queued, .failed] {
                var select = tx.select().column("id").column("next_attempt_at").from("outbox")
                    .where("status", .equal, SQLBind(status.rawValue))
                    .where("next_attempt_at", .lessThanOrEqual, SQLBind(Timestamp.milliseconds(now)))
                    .orderBy("next_attempt_at")
                    .limit(limit)
                if tx.dialect.name == "postgresql" {
                    // Rows another instance is claiming right now are skipped, not waited for.
                    select = select.lockingClause(SQLRaw("FOR UPDATE SKIP LOCKED"))
                }
                for row in try await select.all() {
                    due.append((try row.decode(column: "id", as: String.self), try row.decode(column: "next_attempt_at", as: Int64.self)))
                }
            }
            let ids = due.count <= limit ? due.map(\.id) : due.sorted { ($0.at, $0.id) < ($1.at, $1.id) }.prefix(limit).map(\.id)
            if ids.isEmpty { return [] }
            let rows = try await tx.update("outbox")
                .set("status", to: SQLBind(OutboxStatus.sending.rawValue))
                .set("lease_owner", to: SQLBind(worker))
                .set("lease_expires_at", to: SQLBind(Timestamp.milliseconds(leaseUntil)))
                .set("attempts", to: SQLRaw("attempts + 1"))
                .where(SQLColumn("id"), .in, SQLGroupExpression(ids.map { SQLBind($0) }))
                .where(SQLColumn("status"), .in, SQLGroupExpression([SQLBind(OutboxStatus.queued.rawValue), SQLBind(OutboxStatus.failed.rawValue)]))
                .returning(columns)
                .all()
            return try rows.map { try Self.outboxMessage(from: $0, html: "", text: nil) }.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    /// The claim as one statement, so one round trip to SQLite's thread (and one commit outside a transaction): a
    /// single statement is atomic, and the write gate keeps this process's other writers out. The inner queries read the `outbox_due`
    /// index in order per status and stop after `limit` rows (see above).
    private func claimOutboxSQLite(worker: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [OutboxMessage] {
        let due = Timestamp.milliseconds(now)
        let queued = OutboxStatus.queued.rawValue
        let failed = OutboxStatus.failed.rawValue
        let query: SQLQueryString = """
            UPDATE OR ROLLBACK "outbox" SET "status" = \(bind: OutboxStatus.sending.rawValue), "lease_owner" = \(bind: worker), \
            "lease_expires_at" = \(bind: Timestamp.milliseconds(leaseUntil)), "attempts" = "attempts" + 1 \
            WHERE "id" IN (SELECT "id" FROM (\
            SELECT * FROM (SELECT "id", "next_attempt_at" FROM "outbox" WHERE "status" = \(bind: queued) AND "next_attempt_at" <= \(bind: due) \
            ORDER BY "next_attempt_at" LIMIT \(literal: limit)) \
            UNION ALL \
            SELECT * FROM (SELECT "id", "next_attempt_at" FROM "outbox" WHERE "status" = \(bind: failed) AND "next_attempt_at" <= \(bind: due) \
            ORDER BY "next_attempt_at" LIMIT \(literal: limit))\
            ) ORDER BY "next_attempt_at", "id" LIMIT \(literal: limit)) \
            RETURNING \(unsafeRaw: Self.outboxColumnList)
            """
        let rows = try await write { try await db.raw(query).all() }
        return try rows.map { try Self.outboxMessage(from: $0, html: "", text: nil) }.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
    }

    /// An UPDATE limited to the message `worker` currently holds.
    /// `redacting`: the outcome is final, so the bodies become their redacted copy in the same transaction.
    private func updateLeased(id: String, worker: String, redacting: Bool = false, _ set: (SQLUpdateBuilder) -> SQLUpdateBuilder) async throws
        -> Bool
    {
        let query = set(db.update("outbox"))
            .set("lease_owner", to: SQLLiteral.null)
            .set("lease_expires_at", to: SQLLiteral.null)
            .where("id", .equal, SQLBind(id))
            .where("status", .equal, SQLBind(OutboxStatus.sending.rawValue))
            .where("lease_owner", .equal, SQLBind(worker))
            .returning("id")
        guard redacting else { return try await write { !(try await query.all()).isEmpty } }
        return try await updateRedacting(id: id, query)
    }

    /// Runs `query` (an UPDATE of message `id` returning its id) and, if it changed the row, redacts its bodies in
    /// the same write.
    private func updateRedacting(id: String, _ query: SQLReturningResultBuilder<SQLUpdateBuilder>) async throws -> Bool {
        let sql = query.query
        return try await withWriteTransaction { tx in
            let changed = Mutex(false)
            try await tx.execute(sql: sql) { _ in changed.withLock { $0 = true } }
            if changed.withLock({ $0 }) { try await self.redactBodies([id], in: tx) }
            return changed.withLock { $0 }
        }
    }

    public func markOutboxSent(id: String, worker: String, at: Date) async throws -> Bool {
        try await updateLeased(id: id, worker: worker, redacting: true) {
            $0.set("status", to: SQLBind(OutboxStatus.sent.rawValue)).set("sent_at", to: SQLBind(Timestamp.milliseconds(at)))
                .set("last_error", to: SQLLiteral.null)
        }
    }

    /// One UPDATE per 500 ids (SQLite allows 32,766 bound values; PostgreSQL 65,535).
    public func markOutboxSent(ids: [String], worker: String, at: Date) async throws -> Set<String> {
        var changed = Set<String>()
        var start = ids.startIndex
        while start < ids.endIndex {
            let chunk = ids[start..<min(start + 500, ids.endIndex)]
            start = chunk.endIndex
            let query: SQLQueryString = """
                UPDATE \(unsafeRaw: sqliteOrRollback)"outbox" SET "status" = \(bind: OutboxStatus.sent.rawValue), \
                "sent_at" = \(bind: Timestamp.milliseconds(at)), "last_error" = NULL, "lease_owner" = NULL, "lease_expires_at" = NULL \
                WHERE "id" IN (\(binds: Array(chunk))) AND "status" = \(bind: OutboxStatus.sending.rawValue) AND "lease_owner" = \(bind: worker) \
                RETURNING "id"
                """
            let updated = try await withWriteTransaction { tx in
                let updated = try await tx.raw(query).all(decodingColumn: "id", as: String.self)
                try await self.redactBodies(updated, in: tx)
                return updated
            }
            changed.formUnion(updated)
        }
        return changed
    }

    /// `OR ROLLBACK ` on SQLite: a failing statement ends the transaction (these never fail on a constraint), and
    /// in exchange SQLite keeps no statement journal for the multi-row UPDATE (a tenth of the courier's write).
    var sqliteOrRollback: String { db.dialect.name == "sqlite" ? "OR ROLLBACK " : "" }

    public func markOutboxSentAndClaim(sent: [String], sentAt: Date, worker: String, now: Date, leaseUntil: Date, limit: Int) async throws
        -> (sent: Set<String>, claimed: [OutboxMessage])
    {
        if sent.isEmpty || limit <= 0 || inTransaction {
            let marked = sent.isEmpty ? [] : try await markOutboxSent(ids: sent, worker: worker, at: sentAt)
            let claimed = limit > 0 ? try await claimOutbox(worker: worker, now: now, leaseUntil: leaseUntil, limit: limit) : []
            return (marked, claimed)
        }
        let (marked, claimed) = try await transaction { tx -> (Set<String>, [OutboxMessage]) in
            let marked = try await tx.markOutboxSent(ids: sent, worker: worker, at: sentAt)
            // `transaction` hands over a session-bound SQLUsherStore: claim without the bodies here and read them
            // after the commit, so SQLite's write lock is not held while kilobytes of text are copied out.
            guard let sql = tx as? SQLUsherStore else {
                return (marked, try await tx.claimOutbox(worker: worker, now: now, leaseUntil: leaseUntil, limit: limit))
            }
            return (marked, try await sql.claimOutboxWithoutBodies(worker: worker, now: now, leaseUntil: leaseUntil, limit: limit))
        }
        return (marked, try await fillingBodies(claimed, from: db))
    }

    public func markOutboxFailed(id: String, worker: String, error: String, nextAttemptAt: Date, countAttempt: Bool) async throws -> Bool {
        try await updateLeased(id: id, worker: worker) {
            var update = $0.set("status", to: SQLBind(OutboxStatus.failed.rawValue)).set("last_error", to: SQLBind(String(error.prefix(2_000))))
                .set("next_attempt_at", to: SQLBind(Timestamp.milliseconds(nextAttemptAt)))
            if !countAttempt { update = update.set("attempts", to: SQLRaw("attempts - 1")) }
            return update
        }
    }

    public func markOutboxAbandoned(id: String, worker: String, error: String) async throws -> Bool {
        try await updateLeased(id: id, worker: worker, redacting: true) {
            $0.set("status", to: SQLBind(OutboxStatus.abandoned.rawValue)).set("last_error", to: SQLBind(String(error.prefix(2_000))))
        }
    }

    public func withdrawOutbox(id: String, reason: String) async throws -> Bool {
        let query = db.update("outbox")
            .set("status", to: SQLBind(OutboxStatus.abandoned.rawValue)).set("last_error", to: SQLBind(String(reason.prefix(2_000))))
            .where("id", .equal, SQLBind(id))
            .where("status", .in, SQLGroupExpression([OutboxStatus.queued, .failed].map { SQLBind($0.rawValue) }))
            .returning("id")
        return try await updateRedacting(id: id, query)
    }

    public func renewOutboxLeases(worker: String, until: Date) async throws -> Int {
        // `outbox_due` (status, next_attempt_at) narrows this to the `sending` rows.
        let query = db.update("outbox")
            .set("lease_expires_at", to: SQLBind(Timestamp.milliseconds(until)))
            .where("status", .equal, SQLBind(OutboxStatus.sending.rawValue))
            .where("lease_owner", .equal, SQLBind(worker))
            .returning("id")
        return try await write { try await query.all().count }
    }

    public func releaseExpiredOutboxLeases(now: Date) async throws -> Int {
        let stamp = Timestamp.milliseconds(now)
        let query = db.update("outbox")
            .set("status", to: SQLBind(OutboxStatus.queued.rawValue))
            .set("lease_owner", to: SQLLiteral.null)
            .set("lease_expires_at", to: SQLLiteral.null)
            .set("next_attempt_at", to: SQLBind(stamp))
            .set("last_error", to: SQLBind("the worker sending this message stopped before recording the outcome; it may have been delivered"))
            .where("status", .equal, SQLBind(OutboxStatus.sending.rawValue))
            .where("lease_expires_at", .lessThanOrEqual, SQLBind(stamp))
            .returning("id")
        // Reads first so the common case (nothing expired) takes no write lock on SQLite.
        let expired = try await db.select().column("id").from("outbox")
            .where("status", .equal, SQLBind(OutboxStatus.sending.rawValue))
            .where("lease_expires_at", .lessThanOrEqual, SQLBind(stamp))
            .limit(1).all()
        if expired.isEmpty { return 0 }
        return try await write { try await query.all().count }
    }

    public func listOutbox(_ filter: OutboxFilter, offset: Int, limit: Int) async throws -> (messages: [OutboxMessage], total: Int) {
        var count = db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("outbox")
        var page = selectOutboxWithBodies()
        if let status = filter.status {
            count = count.where("status", .equal, SQLBind(status.rawValue))
            page = page.where("status", .equal, SQLBind(status.rawValue))
        }
        if let userID = filter.userID {
            count = count.where("user_id", .equal, SQLBind(userID))
            page = page.where("user_id", .equal, SQLBind(userID))
        }
        let total = try await count.first(decodingColumn: "n", as: Int.self) ?? 0
        let messages = try await page.orderBy("created_at", .descending).orderBy("id", .descending)
            .offset(min(offset, Int(Int32.max))).limit(max(0, limit)).all().map(outboxMessageWithBodies(from:))
        return (messages, total)
    }

    public func outboxMessage(id: String) async throws -> OutboxMessage? {
        try await selectOutboxWithBodies().where(SQLColumn("id", table: "outbox"), .equal, SQLBind(id)).first()
            .map(outboxMessageWithBodies(from:))
    }

    public func retryOutbox(id: String, now: Date) async throws -> OutboxMessage? {
        let columns = outboxColumnExpressions
        return try await withWriteTransaction { tx -> OutboxMessage? in
            let redacted = try await tx.select().column("body_redacted").from("outbox_body").where("outbox_id", .equal, SQLBind(id))
                .first(decodingColumn: "body_redacted", as: Bool.self)
            if redacted == true { throw UsherError.outboxBodyRedacted }
            let rows = try await tx.update("outbox")
                .set("status", to: SQLBind(OutboxStatus.queued.rawValue))
                .set("attempts", to: SQLBind(Int64(0)))
                .set("next_attempt_at", to: SQLBind(Timestamp.milliseconds(now)))
                .where("id", .equal, SQLBind(id))
                .where(SQLColumn("status"), .in, SQLGroupExpression([SQLBind(OutboxStatus.failed.rawValue), SQLBind(OutboxStatus.abandoned.rawValue)]))
                .returning(columns).all()
            if let row = rows.first { return try await fillingBodies([try Self.outboxMessage(from: row, html: "", text: nil)], from: tx).first }
            guard
                let current = try await tx.select().column("status").from("outbox").where("id", .equal, SQLBind(id))
                    .first(decodingColumn: "status", as: String.self)
            else { return nil }
            throw UsherError(.conflict, "Only failed or abandoned messages can be retried; this one is \(current).", errorCode: "invalid_status")
        }
    }

    // MARK: development mailbox

    static let devMailColumns = ["id", "outbox_id", "recipient", "sender", "reply_to", "subject", "html", "text_body", "message_id", "received_at"]

    static func devMail(from row: any SQLRow) throws -> DevMailboxMessage {
        DevMailboxMessage(
            id: try row.decode(column: "id", as: String.self),
            outboxID: try row.decode(column: "outbox_id", as: String?.self),
            to: try row.decode(column: "recipient", as: String.self),
            from: try row.decode(column: "sender", as: String.self),
            replyTo: try row.decode(column: "reply_to", as: String?.self),
            subject: try row.decode(column: "subject", as: String.self),
            html: try row.decode(column: "html", as: String.self),
            text: try row.decode(column: "text_body", as: String?.self),
            messageID: try row.decode(column: "message_id", as: String.self),
            receivedAt: Timestamp.date(milliseconds: try row.decode(column: "received_at", as: Int64.self)))
    }

    public func insertDevMail(_ m: DevMailboxMessage) async throws {
        try await write {
            try await db.insert(into: "dev_mailbox").columns(Self.devMailColumns)
                .values(
                    SQLBind(m.id), SQLBind(m.outboxID), SQLBind(m.to), SQLBind(m.from), SQLBind(m.replyTo), SQLBind(m.subject),
                    SQLBind(m.html), SQLBind(m.text), SQLBind(m.messageID), SQLBind(Timestamp.milliseconds(m.receivedAt))
                )
                .run()
        }
    }

    public func devMails(limit: Int) async throws -> [DevMailboxMessage] {
        try await db.select().columns(Self.devMailColumns.map { SQLColumn($0) }).from("dev_mailbox")
            .orderBy("received_at", .descending).orderBy("id", .descending).limit(max(0, limit)).all().map(Self.devMail(from:))
    }

    public func devMail(id: String) async throws -> DevMailboxMessage? {
        try await db.select().columns(Self.devMailColumns.map { SQLColumn($0) }).from("dev_mailbox")
            .where("id", .equal, SQLBind(id)).first().map(Self.devMail(from:))
    }

    // MARK: email provider

    static let providerColumns = ["id", "name", "enabled", "default_from_address", "credentials", "settings", "created_at", "updated_at"]

    public func emailProvider() async throws -> EmailProvider? {
        try await db.select().columns(Self.providerColumns.map { SQLColumn($0) }).from("email_provider")
            .where("id", .equal, SQLBind("default")).first().map { row in
                EmailProvider(
                    name: try row.decode(column: "name", as: String.self),
                    enabled: try row.decode(column: "enabled", as: Bool.self),
                    defaultFromAddress: try row.decode(column: "default_from_address", as: String?.self),
                    credentials: Self.decodeObject(try row.decode(column: "credentials", as: String.self)),
                    settings: Self.decodeObject(try row.decode(column: "settings", as: String.self)),
                    createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
                    updatedAt: Timestamp.date(milliseconds: try row.decode(column: "updated_at", as: Int64.self)))
            }
    }

    public func insertEmailProvider(_ p: EmailProvider) async throws {
        try await write(conflict: .emailProviderExists) {
            try await db.insert(into: "email_provider").columns(Self.providerColumns)
                .values(
                    SQLBind("default"), SQLBind(p.name), SQLBind(p.enabled), SQLBind(p.defaultFromAddress), SQLBind(Self.encode(p.credentials)),
                    SQLBind(Self.encode(p.settings)), SQLBind(Timestamp.milliseconds(p.createdAt)), SQLBind(Timestamp.milliseconds(p.updatedAt))
                )
                .run()
        }
    }

    public func updateEmailProvider(_ p: EmailProvider) async throws {
        let query = db.update("email_provider")
            .set("name", to: SQLBind(p.name)).set("enabled", to: SQLBind(p.enabled))
            .set("default_from_address", to: SQLBind(p.defaultFromAddress))
            .set("credentials", to: SQLBind(Self.encode(p.credentials))).set("settings", to: SQLBind(Self.encode(p.settings)))
            .set("updated_at", to: SQLBind(Timestamp.milliseconds(p.updatedAt)))
            .where("id", .equal, SQLBind("default")).returning("id")
        let found = try await write { !(try await query.all()).isEmpty }
        if !found { throw UsherError.emailProviderNotFound }
    }

    public func deleteEmailProvider() async throws -> Bool {
        let db = self.db
        return try await write { !(try await db.delete(from: "email_provider").where("id", .equal, SQLBind("default")).returning("id").all()).isEmpty }
    }
}
