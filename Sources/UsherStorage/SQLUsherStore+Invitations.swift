import Foundation
import SQLKit
import UsherCore

/// Invitations (`InvitationStore`) on SQLite and PostgreSQL, one code path. Reads join the latest email's outbox
/// row, so a list shows each invitation's delivery state in one query.
extension SQLUsherStore {
    static let invitationColumns = [
        "id", "user_id", "email", "connection", "connection_id", "client_id", "inviter_name", "app_metadata", "user_metadata", "roles",
        "ttl_sec", "send_email", "locale", "result_url", "status", "created_at", "expires_at", "accepted_at", "revoked_at", "resend_count",
        "ticket_id", "outbox_id", "reminded_at", "expiry_logged_at",
    ]

    static func invitationValues(_ i: Invitation) -> [any SQLExpression] {
        [
            SQLBind(i.id), SQLBind(i.userID), SQLBind(i.email), SQLBind(i.connection), SQLBind(i.connectionID), SQLBind(i.clientID),
            SQLBind(i.inviterName), SQLBind(encode(i.appMetadata)), SQLBind(encode(i.userMetadata)), SQLBind(encode(i.roles)),
            SQLBind(Int64(i.ttlSeconds)), SQLBind(i.sendInvitationEmail), SQLBind(i.locale), SQLBind(i.resultURL),
            SQLBind(i.storedStatus.rawValue), SQLBind(Timestamp.milliseconds(i.createdAt)), SQLBind(Timestamp.milliseconds(i.expiresAt)),
            SQLBind(millis(i.acceptedAt)), SQLBind(millis(i.revokedAt)), SQLBind(Int64(i.resendCount)), SQLBind(i.ticketID), SQLBind(i.outboxID),
            SQLBind(millis(i.remindedAt)), SQLBind(millis(i.expiryLoggedAt)),
        ]
    }

    public func insertInvitation(_ invitation: Invitation) async throws {
        try await write(conflict: UsherError(.conflict, "The invitation already exists.", errorCode: "invitation_exists")) {
            try await db.insert(into: "invitations").columns(Self.invitationColumns.map { SQLColumn($0) })
                .values(Self.invitationValues(invitation)).run()
        }
    }

    public func invitation(id: String) async throws -> Invitation? {
        try await selectInvitations().where(SQLColumn("id", table: "invitations"), .equal, SQLBind(id)).first().map(Self.invitation(from:))
    }

    public func openInvitation(userID: String) async throws -> Invitation? {
        try await selectInvitations()
            .where(SQLColumn("user_id", table: "invitations"), .equal, SQLBind(userID))
            .where(SQLColumn("status", table: "invitations"), .equal, SQLBind(InvitationStatus.pending.rawValue))
            .orderBy(SQLOrderBy(expression: SQLColumn("created_at", table: "invitations"), direction: SQLDirection.descending)).limit(1).first().map(
                Self.invitation(from:))
    }

    public func updateInvitation(_ invitation: Invitation) async throws {
        var update = db.update("invitations")
        for (column, value) in zip(Self.invitationColumns, Self.invitationValues(invitation)) where column != "id" {
            update = update.set(SQLColumn(column), to: value)
        }
        let query = update.where("id", .equal, SQLBind(invitation.id)).returning("id")
        let found = try await write { !(try await query.all()).isEmpty }
        if !found { throw UsherError.invitationNotFound }
    }

    public func deleteInvitation(id: String) async throws -> Bool {
        let query = db.delete(from: "invitations").where("id", .equal, SQLBind(id)).returning("id")
        return try await write { !(try await query.all()).isEmpty }
    }

    public func countInvitations(_ filter: InvitationFilter, now: Date) async throws -> Int {
        let count = narrowed(
            db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("invitations"), by: filter, now: now)
        return try await count.first(decodingColumn: "n", as: Int.self) ?? 0
    }

    public func invitationPage(_ filter: InvitationFilter, now: Date, offset: Int, limit: Int) async throws -> [Invitation] {
        try await narrowed(selectInvitations(), by: filter, now: now)
            .orderBy(SQLOrderBy(expression: SQLColumn("created_at", table: "invitations"), direction: SQLDirection.descending)).orderBy(
                SQLOrderBy(expression: SQLColumn("id", table: "invitations"), direction: SQLDirection.descending)
            )
            .offset(min(offset, Int(Int32.max))).limit(max(0, limit)).all().map(Self.invitation(from:))
    }

    public func acceptInvitations(userID: String, at: Date) async throws -> [String] {
        let stamp = Timestamp.milliseconds(at)
        let query = db.update("invitations")
            .set("status", to: SQLBind(InvitationStatus.accepted.rawValue)).set("accepted_at", to: SQLBind(stamp))
            .where("user_id", .equal, SQLBind(userID))
            .where("status", .equal, SQLBind(InvitationStatus.pending.rawValue))
            .where("expires_at", .greaterThan, SQLBind(stamp))
            .returning("id")
        return try await write { try await query.all(decodingColumn: "id", as: String.self).sorted() }
    }

    public func claimInvitationReminders(now: Date, window: TimeInterval, limit: Int) async throws -> [Invitation] {
        let stamp = Timestamp.milliseconds(now)
        let due = db.select().column("id").from("invitations")
            .where("status", .equal, SQLBind(InvitationStatus.pending.rawValue))
            .where("send_email", .equal, SQLBind(true))
            .where("reminded_at", .is, SQLLiteral.null)
            .where("expires_at", .greaterThan, SQLBind(stamp))
            .where("expires_at", .lessThanOrEqual, SQLBind(stamp + Int64(window * 1_000)))
            .orderBy("expires_at").limit(max(0, limit))
        // `reminded_at IS NULL` again on the UPDATE: a concurrent claimer that got there first makes the row not
        // match any more (PostgreSQL re-checks it after the row lock), so nobody claims it twice.
        let claim = db.update("invitations").set("reminded_at", to: SQLBind(stamp))
            .where("id", .in, SQLGroupExpression([due.query])).where("reminded_at", .is, SQLLiteral.null).returning("id")
        return try await claimed(claim)
    }

    public func claimLapsedInvitations(now: Date, limit: Int) async throws -> [Invitation] {
        let stamp = Timestamp.milliseconds(now)
        let lapsed = db.select().column("id").from("invitations")
            .where("status", .equal, SQLBind(InvitationStatus.pending.rawValue))
            .where("expiry_logged_at", .is, SQLLiteral.null)
            .where("expires_at", .lessThanOrEqual, SQLBind(stamp))
            .orderBy("expires_at").limit(max(0, limit))
        let claim = db.update("invitations").set("expiry_logged_at", to: SQLBind(stamp))
            .where("id", .in, SQLGroupExpression([lapsed.query])).where("expiry_logged_at", .is, SQLLiteral.null).returning("id")
        return try await claimed(claim)
    }

    /// Runs a claiming UPDATE and reads back what it claimed, in id order.
    private func claimed(_ claim: SQLReturningResultBuilder<SQLUpdateBuilder>) async throws -> [Invitation] {
        let ids = try await write { try await claim.all(decodingColumn: "id", as: String.self) }
        var invitations: [Invitation] = []
        for id in ids.sorted() { if let invitation = try await invitation(id: id) { invitations.append(invitation) } }
        return invitations
    }

    /// Invitations with their latest email's outbox row (LEFT JOIN: an invitation without an email has none).
    private func selectInvitations() -> SQLSelectBuilder {
        var select = db.select()
        for column in Self.invitationColumns { select = select.column(SQLColumn(column, table: "invitations")) }
        return select.column(SQLColumn("status", table: "outbox"), as: "delivery_status")
            .column(SQLColumn("attempts", table: "outbox"), as: "delivery_attempts")
            .column(SQLColumn("last_error", table: "outbox"), as: "delivery_error")
            .column(SQLColumn("sent_at", table: "outbox"), as: "delivery_sent_at")
            .from("invitations")
            .join("outbox", method: SQLJoinMethod.left, on: SQLColumn("id", table: "outbox"), .equal, SQLColumn("outbox_id", table: "invitations"))
    }

    private func narrowed(_ select: SQLSelectBuilder, by filter: InvitationFilter, now: Date) -> SQLSelectBuilder {
        var select = select
        let stamp = Timestamp.milliseconds(now)
        let column = { (name: String) in SQLColumn(name, table: "invitations") }
        switch filter.status {
        case nil: break
        // `+expires_at` (unary plus, valid on both databases) keeps the expiry out of index choice: lists must read
        // the (status, created_at, id) index in order; without statistics SQLite would pick (status, expires_at)
        // for the range and sort every pending row (180 ms at 100,000 instead of a page).
        case .pending?:
            select = select.where(column("status"), .equal, SQLBind(InvitationStatus.pending.rawValue))
                .where(SQLQueryString("+\(ident: "invitations").\(ident: "expires_at") > \(bind: stamp)"))
        case .expired?:
            select = select.where(column("status"), .equal, SQLBind(InvitationStatus.pending.rawValue))
                .where(SQLQueryString("+\(ident: "invitations").\(ident: "expires_at") <= \(bind: stamp)"))
        case let status?:
            select = select.where(column("status"), .equal, SQLBind(status.rawValue))
        }
        if let delivery = filter.delivery {
            // A subquery rather than the join, so the count (which does not join) narrows the same way.
            let latest = db.select().column("id").from("outbox")
                .where("status", .in, SQLGroupExpression(delivery.outboxStatuses.map { SQLBind($0.rawValue) }))
            select = select.where(column("outbox_id"), .in, SQLGroupExpression([latest.query]))
        }
        if let prefix = filter.emailPrefix, !prefix.isEmpty {
            select = select.where(Self.like(SQLQueryString("\(ident: "invitations").\(ident: "email")"), prefix, anywhere: false))
        }
        if let from = filter.createdFrom { select = select.where(column("created_at"), .greaterThanOrEqual, SQLBind(Timestamp.milliseconds(from))) }
        if let to = filter.createdTo { select = select.where(column("created_at"), .lessThan, SQLBind(Timestamp.milliseconds(to))) }
        if let clientID = filter.clientID { select = select.where(column("client_id"), .equal, SQLBind(clientID)) }
        if let userID = filter.userID { select = select.where(column("user_id"), .equal, SQLBind(userID)) }
        return select
    }

    static func invitation(from row: any SQLRow) throws -> Invitation {
        var delivery: InvitationDelivery?
        if let outboxID = try row.decode(column: "outbox_id", as: String?.self),
            let status = try row.decode(column: "delivery_status", as: String?.self).flatMap(OutboxStatus.init(rawValue:))
        {
            delivery = InvitationDelivery(
                outboxID: outboxID, state: InvitationDelivery.State(status), attempts: try row.decode(column: "delivery_attempts", as: Int?.self) ?? 0,
                lastError: try row.decode(column: "delivery_error", as: String?.self),
                sentAt: date(try row.decode(column: "delivery_sent_at", as: Int64?.self)))
        }
        return Invitation(
            id: try row.decode(column: "id", as: String.self), userID: try row.decode(column: "user_id", as: String.self),
            email: try row.decode(column: "email", as: String.self), connection: try row.decode(column: "connection", as: String.self),
            connectionID: try row.decode(column: "connection_id", as: String?.self), clientID: try row.decode(column: "client_id", as: String?.self),
            inviterName: try row.decode(column: "inviter_name", as: String?.self),
            appMetadata: decodeObject(try row.decode(column: "app_metadata", as: String.self)),
            userMetadata: decodeObject(try row.decode(column: "user_metadata", as: String.self)),
            roles: decodeStrings(try row.decode(column: "roles", as: String.self)), ttlSeconds: try row.decode(column: "ttl_sec", as: Int.self),
            sendInvitationEmail: try row.decode(column: "send_email", as: Bool.self), locale: try row.decode(column: "locale", as: String?.self),
            resultURL: try row.decode(column: "result_url", as: String?.self),
            storedStatus: InvitationStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .pending,
            createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            expiresAt: Timestamp.date(milliseconds: try row.decode(column: "expires_at", as: Int64.self)),
            acceptedAt: date(try row.decode(column: "accepted_at", as: Int64?.self)), revokedAt: date(try row.decode(column: "revoked_at", as: Int64?.self)),
            resendCount: try row.decode(column: "resend_count", as: Int.self), ticketID: try row.decode(column: "ticket_id", as: String?.self),
            outboxID: try row.decode(column: "outbox_id", as: String?.self), remindedAt: date(try row.decode(column: "reminded_at", as: Int64?.self)),
            expiryLoggedAt: date(try row.decode(column: "expiry_logged_at", as: Int64?.self)), delivery: delivery)
    }
}
