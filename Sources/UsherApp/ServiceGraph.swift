import Foundation
import Logging
import UsherActions
import UsherCore
import UsherMail

/// Where every service is built, and the one place that turns `UsherConfiguration` into their limits.
///
/// Each service is handed the whole store here, but sees only the narrow store protocols its initializer names
/// (`UserService.Store`, …): this file is the only one that knows they are one database.
enum ServiceGraph {
    /// Everything `UsherServer.open` needs on an open, migrated store: the signing keys (created on first start), the
    /// password hasher (`passwordHasher` or bcrypt at the configured cost), the Actions runner `actions` asks for,
    /// and the services on top. The worker pool is returned too, with `.workerPool`, for the server to run and stop.
    static func build(
        _ configuration: UsherConfiguration, store: any UsherStore, clock: any UsherClock, passwordHasher: (any PasswordHasher)?,
        actions: ActionsSetup, logger: Logger
    ) async throws -> (services: UsherServices, actionPool: ActionWorkerPool?) {
        let signer = try await TokenSigner.load(store: store, clock: clock)
        let hasher = passwordHasher ?? BcryptPasswordHasher(cost: configuration.bcryptCost)
        var actionPool: ActionWorkerPool?
        let runner: any PostLoginActionRunner
        switch actions {
        case .syntaxCheckOnly:
            runner = WorkerPoolActionRunner(pool: nil)
        case .workerPool(let path):
            let pool = Self.actionPool(configuration, executablePath: path ?? ActionWorkerPool.currentExecutablePath, logger: logger)
            actionPool = pool
            runner = WorkerPoolActionRunner(pool: pool)
        case .runner(let given):
            runner = given
        }
        let services = Self.services(configuration, store: store, signer: signer, hasher: hasher, clock: clock, actionRunner: runner)
        return (services, actionPool)
    }

    /// The domain services on `store`, for the HTTP layer and the CLI.
    static func services(
        _ configuration: UsherConfiguration, store: any UsherStore, signer: TokenSigner, hasher: any PasswordHasher,
        clock: any UsherClock, actionRunner: any PostLoginActionRunner
    ) -> UsherServices {
        let publicURL = configuration.publicURL
        let mail = MailService(
            store: store, clock: clock, messageIDDomain: configuration.publicHost,
            // The development mailbox is the fallback transport whenever no SMTP URL is given in development.
            usesDevelopmentMailbox: configuration.environment == .development && configuration.smtpURL == nil)
        let users = UserService(store: store, hasher: hasher, passwordRules: ConnectionPasswordRules(hasher: hasher, history: store), clock: clock)
        let emailTemplates = EmailTemplateService(store: store, clock: clock)
        // One link-email path for every flow: the issuer makes tickets with their emails, the redeemer opens and uses them.
        let links = LinkIssuer(store: store, clock: clock, templates: emailTemplates, mail: mail, publicURL: publicURL, tenantName: configuration.tenantName)
        let redeemer = TicketRedeemer(store: store, clock: clock)
        let tickets = TicketService(store: store, links: links)
        let mailLimit = configuration.resetMailLimit
        let passwordResets = PasswordResetService(
            store: store, links: links, redeemer: redeemer, hasher: hasher, clock: clock,
            requestLimiter: RateLimiter(burst: configuration.changePasswordBurst, refill: configuration.changePasswordRefillSeconds, clock: clock),
            mailLimiter: RateLimiter(burst: mailLimit.burst, refill: mailLimit.refillSeconds, clock: clock),
            queueCapacity: configuration.resetQueueCapacity, intakeLease: TimeInterval(configuration.intakeLeaseSeconds))
        let roles = RoleService(store: store, clock: clock)
        let emailVerification = EmailVerificationService(store: store, clock: clock, links: links, redeemer: redeemer)
        let actions = ActionService(store: store, clock: clock, runner: actionRunner)
        let login = LoginService(
            store: store, hasher: hasher, signer: signer, clock: clock, runner: actionRunner,
            boundActions: { try await actions.boundPostLoginActions() }, resets: passwordResets, publicURL: publicURL,
            bruteForceThreshold: configuration.bruteForceThreshold, lifetimes: configuration.loginLifetimes)
        return UsherServices(
            store: store, users: users, clients: ClientService(store: store, clock: clock),
            machineTokens: MachineTokenService(
                store: store, signer: signer, clock: clock, publicURL: publicURL, tokenLifetime: configuration.managementTokenLifetimeSeconds), signer: signer,
            publicURL: publicURL, mail: mail, emailTemplates: emailTemplates, tickets: tickets, passwordResets: passwordResets,
            emailVerification: emailVerification,
            signups: SignupService(store: store, users: users, verification: emailVerification, clock: clock),
            invitations: InvitationService(
                store: store, users: users, links: links, roles: roles, clock: clock, defaultLifetime: configuration.invitationLifetimeSeconds), roles: roles,
            logs: LogService(store: store), tenant: TenantService(store: store, name: configuration.tenantName),
            promptTexts: PromptTextService(store: store), login: login,
            actionRunner: actionRunner, actions: actions,
            signupLimiter: RateLimiter(burst: configuration.signupBurst, refill: Double(configuration.signupRefillMilliseconds) / 1000, clock: clock),
            admins: AdminService(store: store, hasher: hasher, clock: clock))
    }

    /// The pool `usher serve` runs: `<executablePath> actions-worker`, sized and limited by the configuration.
    static func actionPool(_ configuration: UsherConfiguration, executablePath: String, logger: Logger) -> ActionWorkerPool {
        var poolLogger = logger
        poolLogger[metadataKey: "component"] = "actions"
        return ActionWorkerPool(
            configuration: .init(
                command: WorkerCommand(executablePath: executablePath),
                workerCount: configuration.actionsWorkers,
                limits: ActionLimits(
                    timeLimit: .milliseconds(configuration.actionsTimeoutMilliseconds),
                    memoryBudgetBytes: configuration.actionsMemoryMegabytes << 20),
                workerMemoryLimitBytes: configuration.actionsWorkerMemoryLimitBytes),
            logger: poolLogger)
    }

    /// The courier over the configured transport: `USHER_SMTP_URL` if given, else the stored provider, else the
    /// development mailbox (development only). Whether running without a provider is allowed is `UsherServer`'s call.
    static func courier(_ configuration: UsherConfiguration, store: any UsherStore, clock: any UsherClock, logger: Logger) throws -> CourierService {
        let fallbackFrom = configuration.fallbackFrom
        var fixed: SMTPMailTransport?
        if let url = configuration.smtpURL {
            fixed = try SMTPMailTransport(configuration: try SMTPConfiguration(url: url), defaultFrom: fallbackFrom, logger: logger)
            logger.info("Delivering mail through USHER_SMTP_URL", metadata: ["smtp": "\(fixed?.client.configuration.description ?? "-")"])
        }
        let devMailbox =
            configuration.environment == .development
            ? DevelopmentMailbox(store: store, clock: clock, defaultFrom: fallbackFrom) : nil
        var courierLogger = logger
        courierLogger[metadataKey: "component"] = "courier"
        let transport = ConfiguredMailTransport(
            store: store, fixed: fixed, devMailbox: devMailbox, fallbackFrom: fallbackFrom, logger: courierLogger,
            providerCAFile: configuration.smtpCAFile)
        var settings = configuration.courier
        // As many deliveries in flight as the SMTP client keeps connections (`?pool=` in USHER_SMTP_URL, default 4).
        if let fixed { settings.concurrency = fixed.client.configuration.pool.maximumConnections }
        let courier = Courier(store: store, transport: transport, clock: clock, settings: settings, logger: courierLogger)
        return CourierService(courier: courier, transport: transport)
    }

    /// Invitation reminders and lapse log entries.
    static func invitationWorker(_ configuration: UsherConfiguration, services: UsherServices, logger: Logger) -> InvitationWorker {
        InvitationWorker(
            invitations: services.invitations, interval: .seconds(configuration.invitationClockSeconds),
            reminderWindow: configuration.invitationReminderSeconds.map(TimeInterval.init), logger: logger)
    }

    /// The `change_password` worker and the sweep of long-expired tickets.
    static func passwordResetWorker(_ configuration: UsherConfiguration, services: UsherServices, clock: any UsherClock) -> PasswordResetWorker {
        PasswordResetWorker(
            resets: services.passwordResets, store: services.store, clock: clock,
            ticketRetention: TimeInterval(configuration.ticketRetentionHours) * 3_600,
            sweepInterval: .seconds(configuration.ticketSweepIntervalSeconds))
    }
}
