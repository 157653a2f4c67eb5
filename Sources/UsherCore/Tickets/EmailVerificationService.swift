import Foundation

/// Redeems email-verification tickets (`/lo/verify_email`). Opening the link shows a confirmation button and
/// changes nothing; the button's POST verifies (a mail scanner that follows links cannot verify on its own).
public struct EmailVerificationService: Sendable {
    let store: any UsherStore
    let clock: any UsherClock
    let templates: EmailTemplateService
    let tickets: TicketService
    let mail: MailService
    let tenantName: String

    public init(store: any UsherStore, clock: any UsherClock, templates: EmailTemplateService, tickets: TicketService, mail: MailService, tenantName: String) {
        self.store = store
        self.clock = clock
        self.templates = templates
        self.tickets = tickets
        self.mail = mail
        self.tenantName = tenantName
    }

    /// Queues the `verify_email` template with a fresh verification link (nothing when the template is disabled).
    @discardableResult
    public func sendVerificationEmail(to user: User, client: Client?) async throws -> OutboxMessage? {
        guard let email = user.email, !user.emailVerified,
              let (template, defaultText) = try await templates.sendable(name: "verify_email") else { return nil }
        let token = Ticket.generateToken()
        let tenant = try await store.tenantSettings()
        let context = EmailTemplateContext(user: user, url: tickets.link(for: .emailVerification, token: token), client: client,
                                           connection: user.connection, tenant: tenant, tenantName: tenantName, requestLanguage: nil)
        let rendered = try templates.render(template, defaultText: defaultText, context: context)
        var resultURL = rendered.resultURL
        if let url = resultURL, (try? await tickets.checkResultURL(url, client: client, property: "resultUrl")) == nil { resultURL = nil }
        let now = clock.now
        let ticket = Ticket(tokenHash: SecureRandom.secretHash(token), kind: .emailVerification, userID: user.userID, clientID: client?.clientID,
                            resultURL: resultURL, includeEmailInRedirect: template.includeEmailInRedirect, markEmailVerified: true, origin: "email",
                            createdAt: now, expiresAt: now.addingTimeInterval(TimeInterval(template.effectiveURLLifetime)))
        let mail = self.mail
        return try await store.transaction { tx in
            try await tx.voidTickets(userID: user.userID, kind: .emailVerification, keeping: nil, now: now)
            try await tx.insertTicket(ticket)
            return try await mail.enqueue(in: tx, to: email, from: rendered.from, subject: rendered.subject, html: rendered.html, text: rendered.text,
                                          purpose: "verify_email")
        }
    }

    /// The ticket's user if the link can be used now.
    public func open(token: String) async throws -> Result<(Ticket, User), TicketProblem> {
        guard Ticket.isWellFormed(token), let ticket = try await store.ticket(tokenHash: SecureRandom.secretHash(token)),
              ticket.kind == .emailVerification, let user = try await store.user(id: ticket.userID) else { return .failure(.invalid) }
        if let problem = ticket.problem(at: clock.now) { return .failure(problem) }
        return .success((ticket, user))
    }

    /// Marks the email verified and returns where to go next (`result_url?success=true&message=…`), once.
    public func confirm(token: String, ip: String?, userAgent: String?) async throws -> Result<(user: User, redirectURL: String?), TicketProblem> {
        let ticket: Ticket
        switch try await open(token: token) {
        case .failure(let problem): return .failure(problem)
        case .success(let (found, _)): ticket = found
        }
        let now = clock.now
        let verified: User? = try await store.transaction { tx in
            guard try await tx.redeemTicket(tokenHash: ticket.tokenHash, now: now), var user = try await tx.user(id: ticket.userID) else { return nil }
            user.emailVerified = true
            user.updatedAt = now
            try await tx.updateUser(user)
            try await tx.insertLogs([LogEvent(date: now, type: .successVerificationEmail, description: "Email verified", clientID: ticket.clientID,
                                              ip: ip, userAgent: userAgent, userID: user.userID, userName: user.email, connection: user.connection)])
            return user
        }
        guard let user = verified else { return .failure(.used) }
        var redirect: String?
        if let resultURL = ticket.resultURL {
            var parameters = [("success", "true"), ("message", "Your email was verified. You can continue using the application."), ("code", "success")]
            if ticket.includeEmailInRedirect, let email = user.email { parameters.append(("email", email)) }
            redirect = TicketService.appending(parameters, to: resultURL)
        }
        return .success((user, redirect))
    }
}
