import Foundation
import Logging
import UsherJSON

/// What `POST /api/v2/invitations` (and `usher invite`) asks for, validated. Auth0's organization-invitation
/// body (`invitee.email`, `inviter.name`, `client_id`, `connection_id`, metadata, `roles`, `ttl_sec`,
/// `send_invitation_email`) plus Usher's `invitee.name`, `connection` (by name), `locale` and `result_url`.
public struct InvitationRequest: Sendable, Equatable {
    /// Lower-cased.
    public var email: String
    public var name: String?
    public var inviterName: String?
    public var clientID: String?
    /// The database connection by name or id; the default one when neither is given.
    public var connection: String?
    public var connectionID: String?
    public var appMetadata: JSONObject
    public var userMetadata: JSONObject
    public var roles: [String]
    /// 0 means `Invitation.defaultLifetime`.
    public var ttlSeconds: Int
    public var sendEmail: Bool
    public var locale: String?
    public var resultURL: String?

    public init(
        email: String, name: String? = nil, inviterName: String? = nil, clientID: String? = nil, connection: String? = nil,
        connectionID: String? = nil, appMetadata: JSONObject = [:], userMetadata: JSONObject = [:], roles: [String] = [], ttlSeconds: Int = 0,
        sendEmail: Bool = true, locale: String? = nil, resultURL: String? = nil
    ) {
        self.email = email
        self.name = name
        self.inviterName = inviterName
        self.clientID = clientID
        self.connection = connection
        self.connectionID = connectionID
        self.appMetadata = appMetadata
        self.userMetadata = userMetadata
        self.roles = roles
        self.ttlSeconds = ttlSeconds
        self.sendEmail = sendEmail
        self.locale = locale
        self.resultURL = resultURL
    }

    static let fields: Set<String> = [
        "invitee", "inviter", "client_id", "connection_id", "connection", "app_metadata", "user_metadata", "roles", "ttl_sec",
        "send_invitation_email", "locale", "result_url",
    ]

    /// Parses an API body; every refusal is Auth0's 400 naming the property.
    public init(body: JSONObject) throws(UsherError) {
        let input = try PayloadReader(body, allowed: Self.fields)
        guard let invitee = try input.object("invitee").value else { throw UsherError.invalidBody("'Missing required property: invitee'.") }
        let person = try PayloadReader(invitee, allowed: ["email", "name"])
        guard let rawEmail = try person.string("email", minLength: 1, maxLength: 254).value else {
            throw UsherError.invalidBody("'Missing required property: email' on property invitee.")
        }
        let email: String
        do { email = try UserValidation.normalizedEmail(rawEmail) } catch {
            throw UsherError.invalidBody("'Object didn't pass validation for format email: \(rawEmail.prefix(254))' on property invitee.email.")
        }
        var inviterName: String?
        if let inviter = try input.object("inviter").value {
            inviterName = try PayloadReader(inviter, allowed: ["name"]).string("name", minLength: 1, maxLength: 300).value
        }
        let metadata = try input.object("app_metadata").value ?? [:]
        try UserValidation.validateMetadata(metadata, property: "app_metadata")
        let userMetadata = try input.object("user_metadata").value ?? [:]
        try UserValidation.validateMetadata(userMetadata, property: "user_metadata")
        let ttl = try input.integer("ttl_sec", range: 0...Int64(Invitation.maximumLifetime)).value ?? 0
        let locale = try input.string("locale", minLength: 1, maxLength: 35).value
        if let locale, LocaleChoice.normalized(locale) == nil {
            throw UsherError.invalidBody("'Invalid language tag: \(locale.prefix(35))' on property locale.")
        }
        self.init(
            email: email, name: try person.string("name", minLength: 1, maxLength: 300).value, inviterName: inviterName,
            clientID: try input.string("client_id", minLength: 1, maxLength: 64).value,
            connection: try input.string("connection", minLength: 1, maxLength: 128).value,
            connectionID: try input.string("connection_id", minLength: 1, maxLength: 64).value, appMetadata: metadata, userMetadata: userMetadata,
            roles: try input.stringArray("roles", maxCount: 50, maxLength: 64).value ?? [], ttlSeconds: Int(ttl),
            sendEmail: try input.bool("send_invitation_email").value ?? true, locale: locale,
            resultURL: try input.string("result_url", minLength: 1, maxLength: 2_048).value)
    }
}

/// An invitation together with the link only the call that made it may show.
public struct IssuedInvitation: Sendable, Equatable {
    public var invitation: Invitation
    /// `…/lo/reset?ticket=…#type=invite`; exists nowhere else (the store keeps the ticket's hash).
    public var invitationURL: String
    /// False when the address already had a pending invitation and this call re-sent it.
    public var created: Bool
}

extension UsherError {
    /// The address already has an account that is not waiting for an invitation.
    public static let alreadyAUser = UsherError(
        .conflict, "The user already exists and has no pending invitation.", errorCode: "already_a_user")

    static func invitationNotOpen(_ status: InvitationStatus) -> UsherError {
        UsherError(.conflict, "The invitation is \(status.rawValue); only a pending or expired invitation can be changed.", errorCode: "invitation_not_open")
    }
}

/// Invitations as objects around Auth0's recipe: creating one creates the user (unverified,
/// `app_metadata.needsInvitation: true`, no password) and sends the `reset_email` with its password-change link,
/// in one transaction with the invitation row and its log entries. Resending issues a new link (the old one is
/// void) and resets the expiry; revoking voids the link; setting the password through it accepts the invitation
/// and gives its roles (`PasswordResetService.complete`).
public struct InvitationService: Sendable {
    let store: any UsherStore
    let users: UserService
    let links: LinkIssuer
    let roles: RoleService
    let clock: any UsherClock
    /// The lifetime of an invitation asked for with `ttl_sec` 0.
    let defaultLifetime: Int

    public init(
        store: any UsherStore, users: UserService, links: LinkIssuer, roles: RoleService, clock: any UsherClock,
        defaultLifetime: Int = Invitation.defaultLifetime
    ) {
        self.defaultLifetime = defaultLifetime
        self.store = store
        self.users = users
        self.links = links
        self.roles = roles
        self.clock = clock
    }

    public var now: Date { clock.now }

    /// Creates the invitation, or re-sends the address's pending one. An address with an account and no pending
    /// invitation is `UsherError.alreadyAUser`; nothing is written then, nor when anything else is refused.
    public func create(_ request: InvitationRequest) async throws -> IssuedInvitation {
        switch try await prepare(request) {
        case .issued(let resent): return resent
        case .new(let new):
            try await write([new])
            return try await issued(new)
        }
    }

    /// `POST /api/v2/invitations` with a list: one result per request, in order. New invitations are prepared
    /// one by one (reads and rendering) and written in one transaction, one write lock for the whole list on
    /// SQLite. An address listed twice is invited by its first row and re-sent by the next; if the shared write
    /// fails (an address invited meanwhile by another caller), each row is written on its own and fails alone.
    public func create(_ requests: [InvitationRequest]) async -> [Result<IssuedInvitation, UsherError>] {
        var results: [Result<IssuedInvitation, UsherError>?] = Array(repeating: nil, count: requests.count)
        var pending: [(index: Int, new: NewInvitation)] = []
        var later: [Int] = []
        var seen = Set<String>()
        for (index, request) in requests.enumerated() {
            let key = (request.connectionID ?? request.connection ?? Connection.defaultDatabaseName) + "\u{0}" + request.email
            guard seen.insert(key).inserted else {
                later.append(index)
                continue
            }
            do {
                switch try await prepare(request) {
                case .issued(let resent): results[index] = .success(resent)
                case .new(let new): pending.append((index, new))
                }
            } catch {
                results[index] = .failure(Self.usherError(error))
            }
        }
        do {
            try await write(pending.map(\.new))
            for (index, new) in pending { results[index] = await Self.outcome { try await issued(new) } }
        } catch {
            for (index, new) in pending {
                results[index] = await Self.outcome {
                    try await write([new])
                    return try await issued(new)
                }
            }
        }
        for index in later { results[index] = await Self.outcome { try await create(requests[index]) } }
        return results.map { $0 ?? .failure(UsherError(.internalFailure, "The row was not processed.")) }
    }

    /// An invitation ready to be written: its user, the row, the link and the log entry.
    struct NewInvitation: Sendable {
        var user: User
        var invitation: Invitation
        var link: PreparedLink
        var log: LogEvent
    }

    enum Preparation: Sendable {
        case new(NewInvitation)
        /// The address had a pending invitation, sent again (already written).
        case issued(IssuedInvitation)
    }

    /// Checks `request` and prepares what creating it writes, or re-sends the address's pending invitation.
    private func prepare(_ request: InvitationRequest) async throws -> Preparation {
        let connection = try await resolveConnection(request)
        let client = try await resolveClient(request.clientID)
        if let resultURL = request.resultURL { try await links.checkResultURL(resultURL, client: client, property: "result_url") }
        try await roles.requireRoles(request.roles)
        if let existing = try await store.user(connection: connection.name, email: request.email) {
            guard let open = try await store.openInvitation(userID: existing.userID) else { throw UsherError.alreadyAUser }
            var resent = try await resend(open, user: existing)
            resent.created = false
            return .issued(resent)
        }
        var appMetadata = request.appMetadata
        appMetadata[User.needsInvitationKey] = true
        var body: JSONObject = [
            "email": .string(request.email), "connection": .string(connection.name), "email_verified": false, "app_metadata": .object(appMetadata),
        ]
        if let name = request.name { body["name"] = .string(name) }
        if !request.userMetadata.isEmpty { body["user_metadata"] = .object(request.userMetadata) }
        let user = try await users.newUser(body)
        let now = clock.now
        let ttl = request.ttlSeconds == 0 ? defaultLifetime : request.ttlSeconds
        var invitation = Invitation(
            id: Invitation.generateID(), userID: user.userID, email: request.email, connection: connection.name, connectionID: connection.id,
            clientID: client?.clientID, inviterName: request.inviterName, appMetadata: request.appMetadata, userMetadata: request.userMetadata,
            roles: request.roles, ttlSeconds: ttl, sendInvitationEmail: request.sendEmail, locale: request.locale, resultURL: request.resultURL,
            createdAt: now, expiresAt: now.addingTimeInterval(TimeInterval(ttl)))
        let link = try await nextLink(for: invitation, user: user, client: client)
        invitation.follow(link)
        let entry = log(.invitationCreated, "Invitation created", invitation, user: user, client: client)
        return .new(NewInvitation(user: user, invitation: invitation, link: link, log: entry))
    }

    /// Writes new invitations, each with its user, ticket, email and log entry, in one transaction.
    private func write(_ new: [NewInvitation]) async throws {
        guard !new.isEmpty else { return }
        let links = self.links
        try await store.transaction { tx in
            for item in new {
                try await tx.insertUser(item.user)
                try await tx.insertInvitation(item.invitation)
            }
            try await links.write(new.map(\.link), in: tx)
            try await tx.insertLogs(new.map(\.log))
        }
    }

    private func issued(_ new: NewInvitation) async throws -> IssuedInvitation {
        IssuedInvitation(
            invitation: try await store.invitation(id: new.invitation.id) ?? new.invitation, invitationURL: new.link.link + "type=invite",
            created: true)
    }

    static func outcome(_ body: () async throws -> IssuedInvitation) async -> Result<IssuedInvitation, UsherError> {
        do { return .success(try await body()) } catch { return .failure(usherError(error)) }
    }

    /// What a row reports: a domain error as it is, anything else as an internal failure (no detail leaked).
    static func usherError(_ error: any Error) -> UsherError {
        (error as? UsherError) ?? UsherError(.internalFailure, "The invitation could not be written; nothing was created for this row.")
    }

    /// `POST /api/v2/invitations/{id}/resend`: a new link (the old one stops working), the expiry counted again
    /// from now, and the email again unless the invitation was made with `send_invitation_email: false`.
    public func resend(id: String) async throws -> IssuedInvitation {
        let invitation = try await invitation(id: id)
        guard invitation.storedStatus == .pending else { throw UsherError.invitationNotOpen(invitation.status(at: clock.now)) }
        guard let user = try await store.user(id: invitation.userID) else { throw UsherError.userNotFound }
        return try await resend(invitation, user: user)
    }

    /// After a user's email changed: a pending invitation follows the new address — its link goes void and a new
    /// one is sent there (the old address may not be the invitee's). Returns it, or nil when there is none.
    public func followEmailChange(of user: User) async throws -> IssuedInvitation? {
        guard let email = user.email, var open = try await store.openInvitation(userID: user.userID), open.email != email else { return nil }
        open.email = email
        return try await resend(open, user: user)
    }

    private func resend(_ invitation: Invitation, user: User) async throws -> IssuedInvitation {
        guard invitation.storedStatus == .pending else { throw UsherError.invitationNotOpen(invitation.status(at: clock.now)) }
        var invitation = invitation
        let client: Client? = if let id = invitation.clientID { try await store.client(id: id) } else { nil }
        let link = try await nextLink(for: invitation, user: user, client: client)
        invitation.resend(with: link)
        let entry = log(.invitationResent, "Invitation resent", invitation, user: user, client: client)
        let (saved, links) = (invitation, self.links)
        try await store.transaction { tx in
            try await tx.updateInvitation(saved)
            try await links.write([link], in: tx)
            try await tx.insertLogs([entry])
        }
        return IssuedInvitation(invitation: try await store.invitation(id: saved.id) ?? saved, invitationURL: link.link + "type=invite", created: false)
    }

    /// `POST /api/v2/invitations/{id}/revoke`: the link stops working at once; the user is deleted when asked,
    /// kept otherwise (still without a password, so nobody can log in as them).
    public func revoke(id: String, deleteUser: Bool) async throws -> Invitation {
        var invitation = try await invitation(id: id)
        guard invitation.storedStatus == .pending else { throw UsherError.invitationNotOpen(invitation.status(at: clock.now)) }
        let now = clock.now
        invitation.storedStatus = .revoked
        invitation.revokedAt = now
        let user = try await store.user(id: invitation.userID)
        let entry = log(
            .invitationRevoked, deleteUser ? "Invitation revoked; the user was deleted" : "Invitation revoked", invitation, user: user, client: nil)
        let saved = invitation
        try await store.transaction { tx in
            try await tx.updateInvitation(saved)
            try await tx.voidTickets(userID: saved.userID, kind: .passwordChange, keeping: nil, now: now)
            // An email still waiting would carry a dead link to someone no longer invited.
            if let outboxID = saved.outboxID { _ = try await tx.withdrawOutbox(id: outboxID, reason: "Not sent: the invitation was revoked.") }
            if deleteUser { _ = try await tx.deleteUser(id: saved.userID) }
            try await tx.insertLogs([entry])
        }
        return try await store.invitation(id: id) ?? saved
    }

    /// `DELETE /api/v2/invitations/{id}`: the record goes; a link it still had stops working.
    public func delete(id: String) async throws {
        let invitation = try await invitation(id: id)
        let now = clock.now
        try await store.transaction { tx in
            if invitation.storedStatus == .pending {
                try await tx.voidTickets(userID: invitation.userID, kind: .passwordChange, keeping: nil, now: now)
            }
            _ = try await tx.deleteInvitation(id: invitation.id)
        }
    }

    public func invitation(id: String) async throws -> Invitation {
        guard let invitation = try await store.invitation(id: id) else { throw UsherError.invitationNotFound }
        return invitation
    }

    public func list(_ filter: InvitationFilter, offset: Int, limit: Int) async throws -> (invitations: [Invitation], total: Int) {
        try await store.listInvitations(filter, now: clock.now, offset: offset, limit: limit)
    }

    /// A page without its total, for lists that do not show one (reading a page costs `limit` rows, a count every
    /// matching row).
    public func page(_ filter: InvitationFilter, offset: Int, limit: Int) async throws -> [Invitation] {
        try await store.invitationPage(filter, now: clock.now, offset: offset, limit: limit)
    }

    // MARK: the clock

    /// Queues the reminder (`user_invitation_reminder`) of every pending invitation due one — expiring within
    /// `window` seconds, not reminded yet — with a new link that keeps the invitation's expiry. Claiming and
    /// sending happen in one transaction per batch, so a crash sends nothing and loses nothing, and another
    /// instance never reminds the same invitation. Returns how many were queued.
    @discardableResult
    public func sendDueReminders(window: TimeInterval, limit: Int = 20) async throws -> Int {
        let (links, clock) = (self.links, self.clock)
        return try await store.transaction { tx in
            let now = clock.now
            var queued = 0
            var batch = LinkEmailBatch()
            for var invitation in try await tx.claimInvitationReminders(now: now, window: window, limit: limit) {
                guard let user = try await tx.user(id: invitation.userID) else { continue }
                let client: Client? = if let id = invitation.clientID { try await tx.client(id: id) } else { nil }
                let remaining = Int(invitation.expiresAt.timeIntervalSince(now).rounded(.up))
                let email = LinkEmail(
                    kind: .passwordChange, user: user, template: "user_invitation_reminder", client: client,
                    purpose: "user_invitation_reminder", lifetime: max(1, remaining), locale: invitation.locale,
                    resultURL: invitation.resultURL)
                switch try await links.prepare(email, batch: &batch) {
                case .failure(let refusal):
                    // Claimed all the same: a disabled reminder template is a choice, not something to retry.
                    try await tx.insertLogs([Self.log(.failedNotification, refusal.description, invitation, user: user, client: client, at: now)])
                case .success(let link):
                    // The expiry stays the invitation's: a reminder does not extend it.
                    invitation.follow(link, keepingExpiry: true)
                    try await links.write([link], in: tx)
                    try await tx.updateInvitation(invitation)
                    try await tx.insertLogs([Self.log(.invitationReminded, "Invitation reminder queued", invitation, user: user, client: client, at: now)])
                    queued += 1
                }
            }
            return queued
        }
    }

    /// Writes `invitation_expired` once for every pending invitation that lapsed (the status already reads
    /// expired without this; the log is for the administrator). Returns how many.
    @discardableResult
    public func logLapsedInvitations(limit: Int = 100) async throws -> Int {
        let clock = self.clock
        return try await store.transaction { tx in
            let now = clock.now
            let lapsed = try await tx.claimLapsedInvitations(now: now, limit: limit)
            try await tx.insertLogs(lapsed.map { Self.log(.invitationExpired, "Invitation expired unaccepted", $0, user: nil, client: nil, at: now) })
            return lapsed.count
        }
    }

    /// Until cancelled, every `interval`: reminders (when `reminderWindow` is set) and lapse log entries, each
    /// batch until none is left.
    public func runClock(every interval: Duration, reminderWindow: TimeInterval?, logger: Logger) async {
        while !Task.isCancelled {
            do {
                if let reminderWindow { while try await sendDueReminders(window: reminderWindow) > 0 {} }
                while try await logLapsedInvitations() > 0 {}
            } catch {
                logger.error("Invitation reminders or lapse logging failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    // MARK: parts

    /// The invitation's next link: the `reset_email` carrying it, or only the ticket when no email is wanted.
    /// Writes nothing; the caller points the invitation at it (`follow`, `resend`).
    private func nextLink(for invitation: Invitation, user: User, client: Client?) async throws -> PreparedLink {
        let link: PreparedLink
        if invitation.sendInvitationEmail {
            var batch = LinkEmailBatch()
            let email = LinkEmail(
                kind: .passwordChange, user: user, template: "reset_email", client: client, purpose: "user_invitation",
                lifetime: invitation.ttlSeconds, locale: invitation.locale, resultURL: invitation.resultURL)
            switch try await links.prepare(email, batch: &batch) {
            case .failure(let refusal):
                throw UsherError(
                    .conflict, "\(refusal.description) Nothing was created; fix the template or ask for send_invitation_email: false.",
                    errorCode: "invitation_not_sent")
            case .success(let prepared): link = prepared
            }
        } else {
            link = links.prepareTicket(
                kind: .passwordChange, userID: user.userID, clientID: client?.clientID, resultURL: invitation.resultURL,
                includeEmailInRedirect: false, markEmailVerified: true, lifetime: invitation.ttlSeconds, origin: "api")
        }
        return link
    }

    private func resolveConnection(_ request: InvitationRequest) async throws -> Connection {
        if let id = request.connectionID {
            guard let connection = try await store.connection(id: id) else { throw UsherError.invalidBody("The specified connection does not exist.") }
            return connection
        }
        guard let connection = try await store.connection(name: request.connection ?? Connection.defaultDatabaseName) else {
            throw UsherError.invalidBody("The specified connection does not exist.")
        }
        return connection
    }

    private func resolveClient(_ id: String?) async throws -> Client? {
        guard let id else { return nil }
        guard let client = try await store.client(id: id) else { throw UsherError.invalidBody("The specified client_id does not exist.") }
        return client
    }

    private func log(_ type: LogEvent.EventType, _ description: String, _ invitation: Invitation, user: User?, client: Client?) -> LogEvent {
        Self.log(type, description, invitation, user: user, client: client, at: clock.now)
    }

    private static func log(
        _ type: LogEvent.EventType, _ description: String, _ invitation: Invitation, user: User?, client: Client?, at now: Date
    ) -> LogEvent {
        var entry = LogEvent(
            logID: LogEvent.generateID(now: now), date: now, type: type, description: description, clientID: invitation.clientID,
            clientName: client?.name, ip: nil, userAgent: nil, userID: invitation.userID, userName: user?.email ?? invitation.email,
            connection: invitation.connection, connectionID: invitation.connectionID)
        entry.details = ["invitation_id": .string(invitation.id), "outbox_id": invitation.outboxID.map(JSONValue.string) ?? .null]
        return entry
    }
}
