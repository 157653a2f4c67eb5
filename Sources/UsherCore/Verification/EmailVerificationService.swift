import Foundation

/// The email-verification flow: sends the `verify_email` link (`LinkIssuer`) and redeems it (`/lo/verify_email`,
/// `TicketRedeemer`). Opening the link shows a confirmation button and changes nothing; the button's POST
/// verifies (a mail scanner that follows links cannot verify on its own).
public struct EmailVerificationService: Sendable {
    let store: any UsherStore
    let clock: any UsherClock
    let links: LinkIssuer
    let redeemer: TicketRedeemer

    public init(store: any UsherStore, clock: any UsherClock, links: LinkIssuer, redeemer: TicketRedeemer) {
        self.store = store
        self.clock = clock
        self.links = links
        self.redeemer = redeemer
    }

    public static let successMessage = "Your email was verified. You can continue using the application."

    /// Queues the `verify_email` template with a fresh verification link. Nothing for an already verified address
    /// or a disabled template; a Redirect To that is not allowed stops it too, logged `fn` (see `LinkIssuer`).
    @discardableResult
    public func sendVerificationEmail(to user: User, client: Client?) async throws -> OutboxMessage? {
        guard !user.emailVerified else { return nil }
        let email = LinkEmail(kind: .emailVerification, user: user, template: "verify_email", client: client, purpose: "verify_email")
        switch try await links.send(email) {
        case .success(let prepared): return prepared.message
        case .failure(let refusal):
            if case .resultURLNotAllowed = refusal {
                try await store.insertLogs([
                    LogEvent(
                        date: clock.now, type: .failedNotification, description: refusal.description, clientID: client?.clientID,
                        clientName: client?.name, userID: user.userID, userName: user.email, connection: user.connection)
                ])
            }
            return nil
        }
    }

    /// The ticket's user if the link can be used now.
    public func open(token: String) async throws -> Result<(Ticket, User), TicketProblem> {
        try await redeemer.open(token: token, kind: .emailVerification).map { ($0.ticket, $0.user) }
    }

    /// Marks the email verified and returns where to go next (`result_url?success=true&message=…`), once.
    public func confirm(token: String, ip: String?, userAgent: String?) async throws -> Result<EmailVerificationOutcome, TicketProblem> {
        let ticket: Ticket
        switch try await redeemer.open(token: token, kind: .emailVerification) {
        case .failure(let problem): return .failure(problem)
        case .success(let found): ticket = found.ticket
        }
        let now = clock.now
        let redeemer = self.redeemer
        let verified: User? = try await store.transaction { tx in
            guard var user = try await redeemer.redeem(ticket, in: tx, now: now) else { return nil }
            user.emailVerified = true
            user.updatedAt = now
            try await tx.updateUser(user)
            try await tx.insertLogs([
                LogEvent(
                    date: now, type: .successVerificationEmail, description: "Email verified", clientID: ticket.clientID,
                    ip: ip, userAgent: userAgent, userID: user.userID, userName: user.email, connection: user.connection)
            ])
            return user
        }
        guard let user = verified else { return .failure(.used) }
        let redirect = TicketRedeemer.successRedirect(for: ticket, email: user.email, message: Self.successMessage, extra: [("code", "success")])
        return .success((user, redirect))
    }
}
