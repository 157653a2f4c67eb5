import Foundation

/// The domain services an entry point (HTTP, CLI) calls; built by `UsherApp`.
public struct UsherServices: Sendable {
    public var store: any UsherStore
    public var users: UserService
    public var clients: ClientService
    public var machineTokens: MachineTokenService
    public var signer: TokenSigner
    public var publicURL: String
    /// Email provider, outbox and development mailbox.
    public var mail: MailService
    public var emailTemplates: EmailTemplateService
    public var tickets: TicketService
    public var passwordResets: PasswordResetService
    public var emailVerification: EmailVerificationService
    public var signups: SignupService
    public var invitations: InvitationService
    public var logs: LogService
    public var tenant: TenantService
    public var login: LoginService
    /// Runs post-login Actions (the JavaScriptCore worker pool in `usher serve`).
    public var actionRunner: any PostLoginActionRunner
    /// The Actions Management API and the post-login trigger's bindings.
    public var actions: ActionService
    /// Limits for `/dbconnections/signup` per client IP.
    public var signupLimiter: RateLimiter

    /// `boundActions` (what each login runs) defaults to `actions.boundPostLoginActions()`: the deployed versions of
    /// the post-login bindings, in order; tests may inject a fixed list.
    /// `mail` defaults to a service on `store` with the system clock that assumes the development mailbox.
    public init(store: any UsherStore, users: UserService, clients: ClientService, machineTokens: MachineTokenService, signer: TokenSigner, publicURL: String,
                mail: MailService? = nil, clock: any UsherClock = SystemClock(), hasher: any PasswordHasher, tenantName: String = "usher",
                changePasswordBurst: Int = 10, changePasswordRefill: TimeInterval = 60,
                actionRunner: any PostLoginActionRunner = UnavailableActionRunner(),
                boundActions: (@Sendable () async throws -> [DeployedAction])? = nil) {
        self.store = store
        self.users = users
        self.clients = clients
        self.machineTokens = machineTokens
        self.signer = signer
        self.publicURL = publicURL
        let mail = mail ?? MailService(store: store, clock: clock, messageIDDomain: URLComponents(string: publicURL)?.host ?? "localhost",
                                       usesDevelopmentMailbox: true)
        self.mail = mail
        emailTemplates = EmailTemplateService(store: store, clock: clock)
        let links = LinkIssuer(store: store, clock: clock, templates: emailTemplates, mail: mail, publicURL: publicURL, tenantName: tenantName)
        let redeemer = TicketRedeemer(store: store, clock: clock)
        tickets = TicketService(store: store, links: links)
        passwordResets = PasswordResetService(
            store: store, links: links, redeemer: redeemer, hasher: hasher, clock: clock,
            requestLimiter: RateLimiter(burst: changePasswordBurst, refill: changePasswordRefill, clock: clock),
            // One mailbox gets at most 20 reset emails in a burst, then one every 3 minutes, whoever asks.
            mailLimiter: RateLimiter(burst: max(20, changePasswordBurst), refill: min(180, changePasswordRefill * 3), clock: clock))
        emailVerification = EmailVerificationService(store: store, clock: clock, links: links, redeemer: redeemer)
        invitations = InvitationService(users: users, resets: passwordResets)
        signups = SignupService(store: store, users: users, verification: emailVerification, clock: clock)
        logs = LogService(store: store)
        tenant = TenantService(store: store, name: tenantName)
        signupLimiter = RateLimiter(burst: 50, refill: 1.2, clock: clock)
        self.actionRunner = actionRunner
        let actions = ActionService(store: store, clock: clock, runner: actionRunner)
        self.actions = actions
        login = LoginService(store: store, hasher: hasher, signer: signer, clock: clock, runner: actionRunner,
                             boundActions: boundActions ?? { try await actions.boundPostLoginActions() },
                             resets: passwordResets, publicURL: publicURL)
    }
}
