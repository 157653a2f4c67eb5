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
    /// Accepted requests waiting to be processed.
    public let queue: WorkQueue<PasswordResetRequest>
    private let processed = Atomic<Int>(0)

    /// Requests processed since start-up (looked up, and their ticket, email and log written or their failure
    /// logged): with the queue depth, what `/metrics` reports so operators (and the benchmark) can see the
    /// worker keep up.
    public var processedRequests: Int { processed.load(ordering: .relaxed) }

    public static let successMessage = "We've just sent you an email to reset your password."

    public init(
        store: any UsherStore, links: LinkIssuer, redeemer: TicketRedeemer, hasher: any PasswordHasher, clock: any UsherClock,
        requestLimiter: RateLimiter, mailLimiter: RateLimiter, queueCapacity: Int = 10_000, logger: Logger = Logger(label: "usher.password-reset")
    ) {
        self.store = store
        self.links = links
        self.redeemer = redeemer
        self.hasher = hasher
        self.clock = clock
        self.requestLimiter = requestLimiter
        self.mailLimiter = mailLimiter
        self.queue = WorkQueue(capacity: queueCapacity)
        self.logger = logger
    }

    // MARK: requests

    /// `POST /dbconnections/change_password`. Validates the fields, applies the rate limit and queues the request.
    /// Whether the address belongs to anyone is decided later, off the request path: the caller answers the same
    /// text in the same time either way. Returns the rate-limit state for the response headers.
    public func request(
        email rawEmail: String?, connection: String?, clientID: String?, ip: String?, userAgent: String?,
        language: String?
    ) throws -> RateLimiter.Decision {
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
        let request = PasswordResetRequest(email: email, connection: connection, clientID: clientID, ip: ip, userAgent: userAgent, language: language)
        guard queue.submit(request) else {
            throw UsherError(
                .rateLimited, "Usher is handling too many password reset requests right now. Try again in a minute.",
                errorCode: "too_many_requests")
        }
        return decision
    }

    /// Processes queued requests until the queue is finished (run by `usher serve` beside the HTTP server).
    public func run() async {
        await queue.run { batch in await self.process(batch) }
    }

    /// Processes everything queued now (tests and the CLI).
    public func processQueued() async {
        while true {
            let batch = queue.take(64)
            if batch.isEmpty { return }
            await process(batch)
        }
    }

    public func process(_ request: PasswordResetRequest) async { await process([request]) }

    /// What one request will write: a log entry, and for a known user a ticket and an email.
    struct PreparedReset: Sendable {
        var link: PreparedLink?
        var log: LogEvent
    }

    /// Looks each address up and prepares its ticket and email (reads and rendering only), then writes the whole
    /// batch in one transaction: on SQLite one write lock for up to 64 requests instead of one each. Failures are
    /// logged (`fcpr`), never reported to the requester.
    public func process(_ batch: [PasswordResetRequest]) async {
        var prepared: [PreparedReset] = []
        var context = BatchContext()
        for request in batch {
            do {
                prepared.append(try await prepare(request, context: &context))
            } catch {
                logger.error("Password reset request failed", metadata: ["error": "\(error)"])
                prepared.append(PreparedReset(log: makeLog(.failedChangePasswordRequest, "Internal error: \(error)", request: request, user: nil)))
            }
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
        let email = LinkEmail(
            kind: .passwordChange, user: user, template: "reset_email", client: client,
            purpose: invited ? "user_invitation" : "password_reset", requestLanguage: request.language)
        switch try await links.prepare(email, batch: &context.links) {
        case .failure(let refusal):
            return PreparedReset(log: makeLog(.failedChangePasswordRequest, refusal.description, request: request, user: user))
        case .success(let link):
            var entry = makeLog(
                .successChangePasswordRequest, invited ? "Invitation email queued" : "Password reset email queued", request: request,
                user: user, client: client)
            entry.details = ["outbox_id": .string(link.message?.id ?? "")]
            return PreparedReset(link: link, log: entry)
        }
    }

    /// Writes prepared requests in one transaction. Within a batch a later ticket for the same user voids the
    /// earlier one, as across batches.
    func commit(_ prepared: [PreparedReset]) async throws {
        guard !prepared.isEmpty else { return }
        let links = self.links
        try await store.transaction { tx in
            try await links.write(prepared.compactMap(\.link), in: tx)
            try await tx.insertLogs(prepared.map(\.log))
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

    // MARK: the hosted page

    /// The state of a link, for `GET /lo/reset`. Never consumes the ticket (mail scanners open links first).
    public func open(token: String) async throws -> Result<ResetPageState, TicketProblem> {
        let opened: OpenedTicket
        switch try await redeemer.open(token: token, kind: .passwordChange) {
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
            try await tx.insertLogs([entry])
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
