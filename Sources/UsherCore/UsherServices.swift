import Foundation

/// The domain services an entry point (HTTP, CLI) calls.
///
/// A plain container: `UsherApp`'s `ServiceGraph` builds every service and its limits from the configuration, so
/// the HTTP layer and the CLI can name what they receive without depending on how it was made.
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
    public var roles: RoleService
    public var logs: LogService
    public var tenant: TenantService
    /// The hosted pages' texts and their languages.
    public var promptTexts: PromptTextService
    public var login: LoginService
    /// Runs post-login Actions (the JavaScriptCore worker pool in `usher serve`).
    public var actionRunner: any PostLoginActionRunner
    /// The Actions Management API and the post-login trigger's bindings.
    public var actions: ActionService
    /// Limits for `/dbconnections/signup` per client IP.
    public var signupLimiter: RateLimiter
    /// Dashboard administrators and their sessions.
    public var admins: AdminService

    public init(
        store: any UsherStore, users: UserService, clients: ClientService, machineTokens: MachineTokenService, signer: TokenSigner,
        publicURL: String, mail: MailService, emailTemplates: EmailTemplateService, tickets: TicketService,
        passwordResets: PasswordResetService, emailVerification: EmailVerificationService, signups: SignupService,
        invitations: InvitationService, roles: RoleService, logs: LogService, tenant: TenantService, promptTexts: PromptTextService,
        login: LoginService, actionRunner: any PostLoginActionRunner, actions: ActionService, signupLimiter: RateLimiter,
        admins: AdminService
    ) {
        self.store = store
        self.users = users
        self.clients = clients
        self.machineTokens = machineTokens
        self.signer = signer
        self.publicURL = publicURL
        self.mail = mail
        self.emailTemplates = emailTemplates
        self.tickets = tickets
        self.passwordResets = passwordResets
        self.emailVerification = emailVerification
        self.signups = signups
        self.invitations = invitations
        self.roles = roles
        self.logs = logs
        self.tenant = tenant
        self.promptTexts = promptTexts
        self.login = login
        self.actionRunner = actionRunner
        self.actions = actions
        self.signupLimiter = signupLimiter
        self.admins = admins
    }
}
