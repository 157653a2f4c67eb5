import Foundation
import Logging
import Synchronization
import UsherJSON

/// The invitation and password-reset flow: requests (no enumeration, rate limits), the emails with their
/// single-use links (`LinkIssuer`), and setting the password from the hosted page (`TicketRedeemer`).
public final class PasswordResetService: Sendable {
    let store: any UsherStore
    let links: LinkIssuer
    let redeemer: TicketRedeemer
    let hasher: any PasswordHasher
    let clock: any UsherClock
    let logger: Logger
    /// Per client IP + email: Auth0's limit (burst 10, then 1 per minute).
    public let requestLimiter: RateLimiter
    /// Per email address, whatever the IP: how many reset emails one mailbox can be sent. Exceeding it drops the
    /// email silently (logged), because a 429 keyed on the address alone would let anyone block someone's resets.
    public let mailLimiter: RateLimiter
    /// Accepted requests this instance wrote (or claimed) and will process next, already leased to `intake.worker`.
    public let queue: WorkQueue<IntakeRequest>
    /// Makes each accepted request durable before it is answered (group commits).
    public let intake: IntakeWriter
    /// How long a worker holds requests it wrote or claimed; a stopped instance's requests wait this long at most.
    let intakeLease: TimeInterval
    private let processed = Atomic<Int>(0)

    /// Requests processed since start-up (looked up, and their ticket, email and log written or their failure
    /// logged): with the queue depth, what `/metrics` reports so operators (and the benchmark) can see the
    /// worker keep up.
    public var processedRequests: Int { processed.load(ordering: .relaxed) }

    public static let successMessage = "We've just sent you an email to reset your password."

    public init(
        store: any UsherStore, links: LinkIssuer, redeemer: TicketRedeemer, hasher: any PasswordHasher, clock: any UsherClock,
        requestLimiter: RateLimiter, mailLimiter: RateLimiter, queueCapacity: Int = 10_000, intakeLease: TimeInterval = 30,
        workerID: String = "resets-" + SecureRandom.hex(byteCount: 6), logger: Logger = Logger(label: "usher.password-reset")
    ) {
        self.store = store
        self.links = links
        self.redeemer = redeemer
        self.hasher = hasher
        self.clock = clock
        self.requestLimiter = requestLimiter
        self.mailLimiter = mailLimiter
        let queue = WorkQueue<IntakeRequest>(capacity: queueCapacity)
        self.queue = queue
        self.intakeLease = intakeLease
        self.intake = IntakeWriter(store: store, clock: clock, worker: workerID, lease: intakeLease, maxWaiting: queueCapacity) { written in
            // Rows that do not fit stay leased to this worker and are claimed again when the lease ends.
            for request in written where !queue.submit(request) { break }
        }
        self.logger = logger
    }

    // MARK: requests

    /// `POST /dbconnections/change_password`. Validates the fields, applies the rate limit and writes the request
    /// to the database; it returns once the request is durable, so the caller's "we sent you an email" survives a
    /// crash. Whether the address belongs to anyone is decided later, off the request path: the caller answers the
    /// same text in the same time either way. Returns the rate-limit state for the response headers.
    public func request(
        email rawEmail: String?, connection: String?, clientID: String?, ip: String?, userAgent: String?,
        language: String?
    ) async throws -> RateLimiter.Decision {
        guard let rawEmail, !rawEmail.isEmpty else {
            throw UsherError(.invalidInput, "Missing required parameter: email", errorCode: "invalid_request")
        }
        guard let connection, !connection.isEmpty else {
            throw UsherError(.invalidInput, "Missing required parameter: connection", errorCode: "invalid_request")
        }
        if rawEmail.count > 254 || connection.count > 128 || (clientID?.count ?? 0) > 64 {
            throw UsherError(.invalidInput, "A parameter is too long", errorCode: "invalid_request")
        }
        let email: String
        do { email = try UserValidation.normalizedEmail(rawEmail) } catch {
            throw UsherError(.invalidInput, "email is not a valid email address", errorCode: "invalid_request")
        }
        let decision = requestLimiter.take((ip ?? "-") + " " + email)
        guard decision.allowed else {
            throw UsherError(
                .rateLimited, "Too many requests to reset the password of this address from your network. Wait a few minutes and try again.",
                errorCode: "too_many_requests")
        }
        // The worker is this far behind: answer "try later" rather than promise an email that waits minutes.
        guard queue.count < queue.capacity else {
            throw UsherError(
                .rateLimited, "Usher is handling too many password reset requests right now. Try again in a minute.",
                errorCode: "too_many_requests")
        }
        let request = PasswordResetRequest(email: email, connection: connection, clientID: clientID, ip: ip, userAgent: userAgent, language: language)
        try await intake.write(IntakeRequest(kind: .passwordChange, payload: request.payload, receivedAt: clock.now))
        return decision
    }

    /// Processes the requests this instance wrote or claimed until the queue is finished (run by `usher serve`
    /// beside the HTTP server, with `recoverRequests`).
    public func run() async {
        // On SQLite every commit takes the one write lock that requests wait on to become durable: a few large
        // batches (at most 512, gathered for up to 25 ms) keep it free for them, where a batch per arrival took it
        // as often as they did.
        await queue.run(batchSize: 512, linger: .milliseconds(25)) { batch in await self.process(batch) }
    }

    /// Until cancelled, every `interval` claims requests whose lease ran out (their instance stopped before
    /// processing them, or this one before a restart) and queues them here. Claims only while the local queue is
    /// short, so claimed leases do not run out in the queue.
    public func recoverRequests(every interval: Duration) async {
        while !Task.isCancelled {
            if queue.count < 64 {
                do {
                    let claimed = try await claimExpiredRequests(limit: 64)
                    if !claimed.isEmpty {
                        logger.warning("Processing accepted requests left by a stopped worker", metadata: ["count": "\(claimed.count)"])
                        for request in claimed where !queue.submit(request) { break }
                        continue
                    }
                } catch {
                    logger.error("Cannot claim accepted password reset requests", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: interval)
        }
    }

    func claimExpiredRequests(limit: Int) async throws -> [IntakeRequest] {
        let now = clock.now
        return try await store.claimIntake(
            kind: .passwordChange, worker: intake.worker, now: now, leaseUntil: now.addingTimeInterval(intakeLease), limit: limit)
    }

    /// Processes everything queued or claimable now (tests and the CLI).
    public func processQueued() async {
        while true {
            var batch = queue.take(64)
            if batch.isEmpty { batch = (try? await claimExpiredRequests(limit: 64)) ?? [] }
            if batch.isEmpty { return }
            await process(batch)
        }
    }

    /// Processes requests outside the intake (tests).
    public func process(_ requests: [PasswordResetRequest]) async {
        await process(requests.map { (nil, $0) })
    }

    /// Processes intake rows held by this worker. A row that is not a password-change request is completed with an
    /// error log, so it cannot come back forever.
    public func process(_ batch: [IntakeRequest]) async {
        await process(
            batch.map { row in
                (
                    row.id,
                    PasswordResetRequest(payload: row.payload)
                        ?? PasswordResetRequest(
                            email: "", connection: "", clientID: nil, ip: nil, userAgent: nil, language: nil)
                )
            })
    }

    /// What one request will write: a log entry, and for a known user a ticket and an email.
    struct PreparedReset: Sendable {
        var link: PreparedLink?
        var log: LogEvent
        /// The invitation the link re-sends, already pointing at it.
        var invitation: Invitation? = nil
        /// The intake row the request came from; its outcome is written only if the row is still this worker's.
        var intakeID: String? = nil
    }

    /// Looks each address up and prepares its ticket and email (reads and rendering only), then writes the whole
    /// batch in one transaction: on SQLite one write lock for a whole batch instead of one per request. Failures are
    /// logged (`fcpr`), never reported to the requester.
    func process(_ batch: [(intakeID: String?, request: PasswordResetRequest)]) async {
        var prepared: [PreparedReset] = []
        var context = BatchContext()
        for (intakeID, request) in batch {
            var outcome: PreparedReset
            do {
                outcome = try await prepare(request, context: &context)
            } catch {
                logger.error("Password reset request failed", metadata: ["error": "\(error)"])
                outcome = PreparedReset(log: makeLog(.failedChangePasswordRequest, "Internal error: \(error)", request: request, user: nil))
            }
            outcome.intakeID = intakeID
            prepared.append(outcome)
        }
        do {
            try await commit(prepared)
        } catch {
            logger.error("Writing password reset requests failed", metadata: ["error": "\(error)", "count": "\(prepared.count)"])
        }
        processed.add(batch.count, ordering: .relaxed)
    }

    /// Per-batch memo of what every request in it shares.
    struct BatchContext {
        var connections: [String: Connection?] = [:]
        var clients: [String: Client?] = [:]
        var links = LinkEmailBatch()
    }

    func prepare(_ request: PasswordResetRequest, context: inout BatchContext) async throws -> PreparedReset {
        let connection: Connection?
        if let cached = context.connections[request.connection] {
            connection = cached
        } else {
            connection = try await store.connection(name: request.connection)
            context.connections[request.connection] = connection
        }
        guard let connection else {
            return PreparedReset(log: makeLog(.failedChangePasswordRequest, "The connection does not exist.", request: request, user: nil))
        }
        guard let user = try await store.user(connection: connection.name, email: request.email) else {
            return PreparedReset(log: makeLog(.failedChangePasswordRequest, "User does not exist.", request: request, user: nil, connection: connection))
        }
        guard mailLimiter.take(request.email).allowed else {
            return PreparedReset(
                log: makeLog(
                    .failedChangePasswordRequest, "Too many password reset emails to this address; this one was not sent.",
                    request: request, user: user, connection: connection))
        }
        return try await prepareResetEmail(to: user, request: request, context: &context)
    }

    /// Issues a password-change ticket for `user` and queues the `reset_email` template with its link, in one
    /// transaction (the ticket, the email and the log entry exist together or not at all). Returns the outbox
    /// message, or nil when the template is disabled or its Redirect To is not allowed (both logged `fcpr`).
    @discardableResult
    public func sendResetEmail(to user: User, clientID: String?, ip: String?, userAgent: String?, language: String?) async throws -> OutboxMessage? {
        let request = PasswordResetRequest(
            email: user.email ?? "", connection: user.connection, clientID: clientID, ip: ip, userAgent: userAgent, language: language)
        var context = BatchContext()
        let prepared = try await prepareResetEmail(to: user, request: request, context: &context)
        try await commit([prepared])
        return prepared.link?.message
    }

    func prepareResetEmail(to user: User, request: PasswordResetRequest, context: inout BatchContext) async throws -> PreparedReset {
        var client: Client?
        if let clientID = request.clientID {
            if let cached = context.clients[clientID] {
                client = cached
            } else {
                client = try await store.client(id: clientID)
                context.clients[clientID] = client
            }
        }
        let invited = user.needsInvitation
        // A reset request for someone still invited is that invitation, sent again: its lifetime, language and
        // result URL, and the invitation object follows the new link.
        var invitation = invited ? try await store.openInvitation(userID: user.userID) : nil
        if invited, invitation == nil, try await revokedInvitation(of: user, since: .distantPast) {
            // "Send me a new link" must not undo an administrator's revoke.
            return PreparedReset(
                log: makeLog(.failedChangePasswordRequest, "The user's invitation was revoked; no email was sent.", request: request, user: user))
        }
        if client == nil, let id = invitation?.clientID { client = try await store.client(id: id) }
        let email = LinkEmail(
            kind: .passwordChange, user: user, template: "reset_email", client: client,
            purpose: invited ? "user_invitation" : "password_reset", lifetime: invitation?.ttlSeconds,
            requestLanguage: request.language, locale: invitation?.locale, resultURL: invitation?.resultURL)
        switch try await links.prepare(email, batch: &context.links) {
        case .failure(let refusal):
            return PreparedReset(log: makeLog(.failedChangePasswordRequest, refusal.description, request: request, user: user))
        case .success(let link):
            var entry = makeLog(
                .successChangePasswordRequest, invited ? "Invitation email queued" : "Password reset email queued", request: request,
                user: user, client: client)
            entry.details = ["outbox_id": .string(link.message?.id ?? "")]
            if var open = invitation {
                open.resend(with: link)
                entry.details["invitation_id"] = .string(open.id)
                invitation = open
            }
            return PreparedReset(link: link, log: entry, invitation: invitation)
        }
    }

    /// Writes prepared requests in one transaction, with their intake rows deleted: a request whose row another
    /// worker took meanwhile (this one was too slow for its lease) is that worker's to write, so it is left out.
    /// Within a batch a later ticket for the same user voids the earlier one, as across batches.
    func commit(_ prepared: [PreparedReset]) async throws {
        guard !prepared.isEmpty else { return }
        let links = self.links
        let worker = intake.worker
        let logger = self.logger
        try await store.transaction { tx in
            let intakeIDs = prepared.compactMap(\.intakeID)
            let completed = intakeIDs.isEmpty ? [] : try await tx.completeIntake(ids: intakeIDs, worker: worker)
            let kept = prepared.filter { $0.intakeID.map(completed.contains) ?? true }
            if kept.count < prepared.count {
                logger.warning("Accepted requests were taken over by another worker", metadata: ["count": "\(prepared.count - kept.count)"])
            }
            try await links.write(kept.compactMap(\.link), in: tx)
            for invitation in kept.compactMap(\.invitation) { try await tx.updateInvitation(invitation) }
            try await tx.insertLogs(kept.map(\.log))
        }
    }

    /// Queues the `blocked_account` email after brute-force protection blocked `user` from `ip`. Its `url` is a
    /// password-change link: choosing a new password lifts the block. A Redirect To that is not allowed stops it
    /// (logged `fn`); a disabled template or a user without an address sends nothing, silently.
    public func sendBlockedAccountEmail(to user: User, ip: String?) async throws {
        let email = LinkEmail(
            kind: .passwordChange, user: user, template: "blocked_account", client: nil, purpose: "blocked_account", sourceIP: ip,
            hidesInvitation: true)
        if case .failure(let refusal) = try await links.send(email), case .resultURLNotAllowed = refusal {
            try await store.insertLogs([
                makeLog(
                    .failedNotification, refusal.description, ip: ip, userAgent: nil, user: user, client: nil,
                    connection: user.connection)
            ])
        }
    }

    /// Whether the user's newest invitation was revoked at or after `since` (a link issued before a revoke).
    func revokedInvitation(of user: User, since: Date) async throws -> Bool {
        guard user.needsInvitation,
            let latest = try await store.invitationPage(InvitationFilter(userID: user.userID), now: clock.now, offset: 0, limit: 1).first,
            latest.storedStatus == .revoked
        else { return false }
        return (latest.revokedAt ?? .distantPast) >= since
    }

    // MARK: the hosted page

    /// The state of a link, for `GET /lo/reset`. Never consumes the ticket (mail scanners open links first).
    public func open(token: String) async throws -> Result<ResetPageState, TicketProblem> {
        let opened: OpenedTicket
        switch try await redeemer.open(token: token, kind: .passwordChange) {
        case .failure(.superseded):
            guard let owner = try await redeemer.owner(token: token), try await revokedInvitation(of: owner.user, since: owner.ticket.createdAt)
            else { return .failure(.superseded) }
            return .failure(.revoked)
        case .failure(let problem): return .failure(problem)
        case .success(let found): opened = found
        }
        let connection = try await store.connection(name: opened.user.connection)
        let client: Client? = if let id = opened.ticket.clientID { try await store.client(id: id) } else { nil }
        return .success(
            ResetPageState(
                ticket: opened.ticket, user: opened.user, policy: PasswordPolicy(connectionOptions: connection?.options ?? [:]),
                client: client))
    }

    /// The language `user`'s pages are in (`LocaleChoice`: their pending invitation's locale first); `user` is nil
    /// when the page does not know whom it is for.
    public func localeChoice(for user: User?, client: Client?, acceptLanguage: String?) async throws -> LocaleChoice {
        let invitation = if let user, user.needsInvitation { try await store.openInvitation(userID: user.userID) } else { Invitation?.none }
        return LocaleChoice(
            invitationLocale: invitation?.locale, user: user, acceptLanguage: acceptLanguage, client: client, tenant: try await store.tenantSettings())
    }

    /// The user a link was issued for, whatever the link's state (for "send me a new link" on an expired page).
    public func ticketOwner(token: String) async throws -> (Ticket, User)? {
        try await redeemer.owner(token: token).map { ($0.ticket, $0.user) }
    }

    /// Sets the password from the hosted page's form. The ticket is redeemed exactly once, however many
    /// submissions race: checks and hashing happen first, then one transaction redeems the ticket (a conditional
    /// update) and changes the user.
    public func complete(token: String, newPassword: String, confirmation: String, ip: String?, userAgent: String?) async throws
        -> Result<PasswordResetOutcome, PasswordResetFailure>
    {
        let state: ResetPageState
        switch try await open(token: token) {
        case .failure(let problem):
            if let (ticket, user) = try await ticketOwner(token: token) {
                try await logChange(.failedChangePassword, "The link was \(problem.rawValue).", ticket: ticket, user: user, ip: ip, userAgent: userAgent)
            }
            return .failure(.ticket(problem))
        case .success(let s): state = s
        }
        guard !newPassword.isEmpty else { return .failure(.passwordMissing) }
        guard newPassword == confirmation else { return .failure(.passwordMismatch) }
        let user = state.user
        do {
            try await ConnectionPasswordRules.check(newPassword, policy: state.policy, user: user, hasher: hasher, history: store)
        } catch {
            try await logChange(.failedChangePassword, error.message, ticket: state.ticket, user: user, ip: ip, userAgent: userAgent)
            return .failure(.policy(error))
        }
        if let resultURL = state.ticket.resultURL {
            do {
                try await links.checkResultURL(resultURL, client: state.client, property: "result_url")
            } catch {
                try await logChange(
                    .failedChangePassword, "The ticket's result URL is no longer allowed: \(resultURL)", ticket: state.ticket, user: user,
                    ip: ip, userAgent: userAgent)
                return .failure(.resultURLNotAllowed(resultURL))
            }
        }
        let hash = try await hasher.hash(newPassword)
        let now = clock.now
        let ticket = state.ticket
        let entry = makeLog(
            .successChangePassword, "Changed password", ip: ip, userAgent: userAgent, user: user, client: state.client,
            connection: user.connection)
        let redeemer = self.redeemer
        let redeemed: User? = try await store.transaction { tx in
            guard var fresh = try await redeemer.redeem(ticket, in: tx, now: now) else { return nil }
            fresh.passwordHash = hash
            fresh.lastPasswordReset = now
            fresh.updatedAt = now
            if ticket.markEmailVerified { fresh.emailVerified = true }
            try await tx.updateUser(fresh)
            try await tx.appendPasswordHistory(userID: fresh.userID, hash: hash, at: now)
            // Auth0: a reset ends the user's sessions and lifts brute-force blocks. Usher also revokes refresh
            // tokens: whoever held the old password may hold them too.
            try await tx.revokeSessions(userID: fresh.userID, at: now)
            try await tx.revokeRefreshTokens(userID: fresh.userID, at: now)
            if let email = fresh.email { try await tx.clearLoginFailures(prefix: email.lowercased() + "|") }
            try await tx.voidTickets(userID: fresh.userID, kind: .passwordChange, keeping: ticket.tokenHash, now: now)
            var entries = [entry]
            for id in try await tx.acceptInvitations(userID: fresh.userID, at: now) {
                // The invitation's roles, those that still exist (a role may have been deleted since).
                if let invited = try await tx.invitation(id: id), !invited.roles.isEmpty {
                    try await tx.assignRoles(userID: fresh.userID, roleIDs: try await tx.roles(ids: invited.roles).map(\.id))
                }
                var accepted = entry
                accepted.logID = LogEvent.generateID(now: now)
                accepted.type = LogEvent.EventType.invitationAccepted.rawValue
                accepted.description = "Invitation accepted"
                accepted.details = ["invitation_id": .string(id)]
                entries.append(accepted)
            }
            try await tx.insertLogs(entries)
            return fresh
        }
        guard let changed = redeemed else {
            // Another submission won the race (or the ticket expired meanwhile).
            return .failure(.ticket(try await redeemer.problemAfterFailedRedeem(ticket)))
        }
        let redirect = TicketRedeemer.successRedirect(for: ticket, email: changed.email, message: "Your password has been changed successfully.")
        return .success(
            PasswordResetOutcome(
                redirectURL: redirect, user: changed, clientName: state.client?.name,
                loginURL: state.client?.initiateLoginURI))
    }

    // MARK: logs

    func makeLog(
        _ type: LogEvent.EventType, _ description: String, request: PasswordResetRequest, user: User?, client: Client? = nil,
        connection: Connection? = nil
    ) -> LogEvent {
        let now = clock.now
        return LogEvent(
            logID: LogEvent.generateID(now: now), date: now, type: type, description: description, clientID: client?.clientID ?? request.clientID,
            clientName: client?.name, ip: request.ip, userAgent: request.userAgent, userID: user?.userID, userName: user?.email ?? request.email,
            connection: connection?.name ?? request.connection, connectionID: connection?.id)
    }

    func makeLog(
        _ type: LogEvent.EventType, _ description: String, ip: String?, userAgent: String?, user: User, client: Client?,
        connection: String
    ) -> LogEvent {
        let now = clock.now
        return LogEvent(
            logID: LogEvent.generateID(now: now), date: now, type: type, description: description, clientID: client?.clientID,
            clientName: client?.name, ip: ip, userAgent: userAgent, userID: user.userID, userName: user.email, connection: connection)
    }

    func logChange(_ type: LogEvent.EventType, _ description: String, ticket: Ticket, user: User, ip: String?, userAgent: String?) async throws {
        var entry = makeLog(type, description, ip: ip, userAgent: userAgent, user: user, client: nil, connection: user.connection)
        entry.clientID = ticket.clientID
        try await store.insertLogs([entry])
    }
}
