import Foundation
import UsherJSON

/// A link email to prepare: which ticket, for whom, and which template carries the link.
public struct LinkEmail: Sendable {
    public var kind: TicketKind
    public var user: User
    /// The email template: `reset_email`, `verify_email` or `blocked_account`.
    public var template: String
    /// The application the link is for: its URLs bound the template's Redirect To, and the ticket remembers it.
    public var client: Client?
    /// The outbox purpose (`password_reset`, `user_invitation`, `verify_email`, `blocked_account`).
    public var purpose: String
    /// Ticket lifetime in seconds; nil means the template's URL lifetime.
    public var lifetime: Int?
    /// The requester's `Accept-Language`, for templates that switch on it and for choosing the email's language.
    public var requestLanguage: String?
    /// The invitation's `locale`: chosen before anything else (`LocaleChoice`).
    public var locale: String?
    /// `user.source_ip` in the template (the blocked-account email).
    public var sourceIP: String?
    /// Render without `app_metadata.needsInvitation`: the default templates word an email for an invited user as
    /// the invitation, which only the reset email is.
    public var hidesInvitation: Bool
    /// Where the link sends the person afterwards instead of the template's Redirect To (an invitation's
    /// `result_url`); already checked against the application's URLs.
    public var resultURL: String?

    public init(
        kind: TicketKind, user: User, template: String, client: Client?, purpose: String, lifetime: Int? = nil,
        requestLanguage: String? = nil, locale: String? = nil, sourceIP: String? = nil, hidesInvitation: Bool = false, resultURL: String? = nil
    ) {
        self.resultURL = resultURL
        self.locale = locale
        self.kind = kind
        self.user = user
        self.template = template
        self.client = client
        self.purpose = purpose
        self.lifetime = lifetime
        self.requestLanguage = requestLanguage
        self.sourceIP = sourceIP
        self.hidesInvitation = hidesInvitation
    }
}

/// A ticket ready to be written, with the link carrying its token and, for an email, the message with that link.
public struct PreparedLink: Sendable, Equatable {
    public var ticket: Ticket
    /// The only place the token exists: the store keeps its hash.
    public var link: String
    public var message: OutboxMessage?
}

/// Why a link email was not prepared. Nothing was written; the caller decides whether and how to log it.
public enum LinkEmailRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case noEmailAddress
    /// The template is disabled (a tenant's way of saying "do not send these").
    case templateDisabled(template: String)
    /// The template's Redirect To is not one of the application's allowed URLs; `reason` says which rule it broke.
    case resultURLNotAllowed(template: String, reason: String)

    /// The log entry's description.
    public var description: String {
        switch self {
        case .noEmailAddress: "The user has no email address."
        case .templateDisabled(let template): "The \(template) template is disabled; no email was sent."
        case .resultURLNotAllowed(let template, let reason): "Not sent: the \(template) template's Redirect To is not allowed: \(reason)"
        }
    }
}

/// What the link emails of one batch share, read once per batch instead of once per email.
public struct LinkEmailBatch: Sendable {
    var templates: [String: (template: EmailTemplate, defaultText: String?)?] = [:]
    var tenant: TenantSettings?

    public init() {}
}

/// Issues tickets and the emails carrying their links: the reset, invitation, verification and blocked-account
/// emails, and the Management API's tickets.
///
/// Preparing (reads and rendering) is separate from writing so a caller can prepare many outside any transaction
/// and write them all in its own: the reset worker writes up to 64 requests' tickets, emails and logs in one
/// transaction, which on SQLite is one write lock instead of 64.
///
/// Result-URL policy, the same for every kind of link: a template's Redirect To (or an API caller's `result_url`)
/// must be one of the ticket's application's Allowed Callback URLs, Allowed Logout URLs or Application Login URI,
/// of any application's when the link has none. A URL that is not allowed is refused, never dropped: the email
/// is not sent (`LinkEmailRefusal.resultURLNotAllowed`, which callers log) and the API answers 400. Dropping it
/// would send a link that lands somewhere the tenant did not choose, and hide the misconfiguration.
public struct LinkIssuer: Sendable {
    let store: any UsherStore
    let clock: any UsherClock
    let templates: EmailTemplateService
    let mail: MailService
    let tenantName: String
    /// Public base URL without a trailing slash; every link starts with it (never with a request's Host).
    public let publicURL: String

    public init(store: any UsherStore, clock: any UsherClock, templates: EmailTemplateService, mail: MailService, publicURL: String, tenantName: String) {
        self.store = store
        self.clock = clock
        self.templates = templates
        self.mail = mail
        self.publicURL = publicURL
        self.tenantName = tenantName
    }

    /// The link for a token: `…/lo/reset?ticket=…#`, ending in `#` like Auth0's so `{{ url }}type=invite` works.
    public func link(for kind: TicketKind, token: String) -> String {
        switch kind {
        case .passwordChange: "\(publicURL)/lo/reset?ticket=\(token)#"
        case .emailVerification: "\(publicURL)/lo/verify_email?ticket=\(token)#"
        }
    }

    /// Renders `email.template` with a fresh link and applies the result-URL policy; reads only. A link sent by
    /// email marks the address verified when used: following it proves the person reads that mailbox.
    public func prepare(_ email: LinkEmail, batch: inout LinkEmailBatch) async throws -> Result<PreparedLink, LinkEmailRefusal> {
        guard let address = email.user.email else { return .failure(.noEmailAddress) }
        if batch.templates[email.template] == nil { batch.templates[email.template] = .some(try await templates.sendable(name: email.template)) }
        guard let (stored, storedText) = batch.templates[email.template] ?? nil else { return .failure(.templateDisabled(template: email.template)) }
        if batch.tenant == nil { batch.tenant = try await store.tenantSettings() }
        let choice = LocaleChoice(
            invitationLocale: email.locale, user: email.user, acceptLanguage: email.requestLanguage, client: email.client,
            tenant: batch.tenant ?? TenantSettings())
        let (template, defaultText, _) = templates.localized(stored, defaultText: storedText, choice: choice)
        let token = Ticket.generateToken()
        let url = link(for: email.kind, token: token)
        var profile = email.user
        if email.hidesInvitation { profile.appMetadata[User.needsInvitationKey] = nil }
        var context = EmailTemplateContext(
            user: profile, url: url, client: email.client, connection: email.user.connection,
            tenant: batch.tenant ?? TenantSettings(), tenantName: tenantName, requestLanguage: email.requestLanguage)
        context.sourceIP = email.sourceIP
        let rendered = try templates.render(template, defaultText: defaultText, context: context)
        if email.resultURL == nil, let resultURL = rendered.resultURL {
            do {
                try await checkResultURL(resultURL, client: email.client, property: "resultUrl")
            } catch let error as UsherError {
                return .failure(.resultURLNotAllowed(template: email.template, reason: error.message))
            }
        }
        var prepared = ticket(
            kind: email.kind, token: token, userID: email.user.userID, clientID: email.client?.clientID, resultURL: email.resultURL ?? rendered.resultURL,
            includeEmailInRedirect: template.includeEmailInRedirect, markEmailVerified: true,
            lifetime: email.lifetime ?? template.effectiveURLLifetime, origin: "email")
        prepared.message = try mail.message(
            to: address, from: rendered.from, subject: rendered.subject, html: rendered.html, text: rendered.text,
            purpose: email.purpose, userID: email.user.userID, secrets: [token])
        return .success(prepared)
    }

    /// A ticket without an email (the Management API returns the link to its caller). `resultURL` must already
    /// have passed `checkResultURL`.
    public func prepareTicket(
        kind: TicketKind, userID: String, clientID: String?, resultURL: String?, includeEmailInRedirect: Bool,
        markEmailVerified: Bool, lifetime: Int, origin: String
    ) -> PreparedLink {
        ticket(
            kind: kind, token: Ticket.generateToken(), userID: userID, clientID: clientID, resultURL: resultURL,
            includeEmailInRedirect: includeEmailInRedirect, markEmailVerified: markEmailVerified, lifetime: lifetime, origin: origin)
    }

    private func ticket(
        kind: TicketKind, token: String, userID: String, clientID: String?, resultURL: String?, includeEmailInRedirect: Bool,
        markEmailVerified: Bool, lifetime: Int, origin: String
    ) -> PreparedLink {
        let now = clock.now
        let ticket = Ticket(
            tokenHash: SecureRandom.secretHash(token), kind: kind, userID: userID, clientID: clientID, resultURL: resultURL,
            includeEmailInRedirect: includeEmailInRedirect, markEmailVerified: markEmailVerified, origin: origin, createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(lifetime)))
        return PreparedLink(ticket: ticket, link: link(for: kind, token: token), message: nil)
    }

    /// Writes prepared links in `store`, normally the caller's transaction, so the tickets and emails exist together
    /// with whatever else it writes, or not at all. Each ticket voids its user's older ones of its kind, earlier
    /// ones in `links` included: only the latest link works.
    public func write(_ links: [PreparedLink], in store: any UsherStore) async throws {
        guard !links.isEmpty else { return }
        try await store.issueTickets(links.map(\.ticket), now: clock.now)
        let messages = links.compactMap(\.message)
        if !messages.isEmpty { try await store.enqueueOutbox(messages) }
    }

    /// Prepares one link email and writes it in its own transaction.
    public func send(_ email: LinkEmail) async throws -> Result<PreparedLink, LinkEmailRefusal> {
        var batch = LinkEmailBatch()
        let result = try await prepare(email, batch: &batch)
        if case .success(let prepared) = result {
            try await store.transaction { tx in try await write([prepared], in: tx) }
        }
        return result
    }

    /// Throws a 400 naming `property` unless `url` is one of `client`'s callback, logout or login URLs (of any
    /// application when there is no client): the result-URL policy above.
    public func checkResultURL(_ url: String, client: Client?, property: String) async throws {
        let candidates: [Client] = if let client { [client] } else { try await store.listClients() }
        guard TicketService.isAllowed(url, by: candidates) else {
            let whose = client.map { "application \($0.name)'s" } ?? "any application's"
            throw UsherError.invalidBody(
                "'\(url.prefix(200)) is not in \(whose) Allowed Callback URLs, Allowed Logout URLs or Application Login URI' on property \(property).")
        }
    }
}
