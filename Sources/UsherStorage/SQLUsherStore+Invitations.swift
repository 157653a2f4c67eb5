import Foundation
import SQLKit
import UsherCore
import UsherJSON

/// Email templates, tickets, the tenant log and tenant settings on SQLite and PostgreSQL, one code path.
extension SQLUsherStore {
    // MARK: email templates

    static let templateColumns = ["name", "body", "sender", "subject", "syntax", "result_url", "url_lifetime", "include_email", "enabled", "updated_at"]

    static func templateValues(_ t: EmailTemplate) -> [any SQLExpression] {
        [SQLBind(t.template), SQLBind(t.body), SQLBind(t.from), SQLBind(t.subject), SQLBind(t.syntax), SQLBind(t.resultURL),
         SQLBind(t.urlLifetimeInSeconds.map(Int64.init)), SQLBind(t.includeEmailInRedirect), SQLBind(t.enabled), SQLBind(Timestamp.milliseconds(t.updatedAt))]
    }

    public func emailTemplate(name: String) async throws -> EmailTemplate? {
        try await db.select().columns(Self.templateColumns.map { SQLColumn($0) }).from("email_templates").where("name", .equal, SQLBind(name)).first()
            .map { row in
                EmailTemplate(
                    template: try row.decode(column: "name", as: String.self), body: try row.decode(column: "body", as: String?.self),
                    from: try row.decode(column: "sender", as: String?.self), subject: try row.decode(column: "subject", as: String?.self),
                    syntax: try row.decode(column: "syntax", as: String.self), resultURL: try row.decode(column: "result_url", as: String?.self),
                    urlLifetimeInSeconds: try row.decode(column: "url_lifetime", as: Int64?.self).map { Int($0) },
                    includeEmailInRedirect: try row.decode(column: "include_email", as: Bool.self), enabled: try row.decode(column: "enabled", as: Bool.self),
                    updatedAt: Timestamp.date(milliseconds: try row.decode(column: "updated_at", as: Int64.self)))
            }
    }

    public func insertEmailTemplate(_ template: EmailTemplate) async throws {
        try await write(conflict: UsherError(.conflict, "Template (\(template.template)) already exists.", errorCode: "email_template_conflict")) {
            try await db.insert(into: "email_templates").columns(Self.templateColumns).values(Self.templateValues(template)).run()
        }
    }

    public func updateEmailTemplate(_ template: EmailTemplate) async throws {
        let values = Self.templateValues(template)
        let query = zip(Self.templateColumns, values).dropFirst().reduce(db.update("email_templates")) { $0.set(SQLColumn($1.0), to: $1.1) }
            .where("name", .equal, SQLBind(template.template)).returning("name")
        let updated = try await write { try await query.all() }
        if updated.isEmpty { throw UsherError(.notFound, "Template not found.", errorCode: "inexistent_email_template") }
    }

    // MARK: tickets

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
                    usedAt: Self.date(try row.decode(column: "used_at", as: Int64?.self)), voidedAt: Self.date(try row.decode(column: "voided_at", as: Int64?.self)))
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

    // MARK: logs

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
        let total = try await filtered(db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("logs"))
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

    // MARK: password history

    public func appendPasswordHistory(userID: String, hash: String, at: Date) async throws {
        let keep = PasswordPolicy.HistorySettings.maxSize
        try await withWriteTransaction { tx in
            try await tx.insert(into: "password_history").columns("user_id", "hash", "created_at")
                .values(SQLBind(userID), SQLBind(hash), SQLBind(Timestamp.milliseconds(at))).run()
            // Keep the newest `keep` rows: delete those older than the keep-th newest.
            if let cutoff = try await tx.select().column("created_at").from("password_history").where("user_id", .equal, SQLBind(userID))
                .orderBy("created_at", .descending).offset(keep - 1).limit(1).first(decodingColumn: "created_at", as: Int64.self) {
                try await tx.delete(from: "password_history").where("user_id", .equal, SQLBind(userID))
                    .where("created_at", .lessThan, SQLBind(cutoff)).run()
            }
        }
    }

    public func passwordHistory(userID: String, limit: Int) async throws -> [String] {
        try await db.select().column("hash").from("password_history").where("user_id", .equal, SQLBind(userID))
            .orderBy("created_at", .descending).limit(max(0, limit)).all(decodingColumn: "hash", as: String.self)
    }

    // MARK: tenant settings

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
