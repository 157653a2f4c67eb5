import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Prometheus
import ServiceLifecycle
import UsherActions
import UsherCore
import UsherHTTP
import UsherMail
import UsherStorage

/// How an opened Usher runs post-login Actions.
public enum ActionsSetup: Sendable {
    /// Syntax is checked on save, but Actions do not run (CLI commands other than `serve`).
    case syntaxCheckOnly
    /// A pool of `<executable> actions-worker` processes (`usher serve`); `nil` means this executable.
    case workerPool(executablePath: String? = nil)
    /// A given runner (tests).
    case runner(any PostLoginActionRunner)
}

/// A running Usher's resources: the database pool, the services on top of it, and the metrics registry.
///
/// Open one with `UsherServer.open`, then either serve HTTP (`makeApplication`) or use `services` directly,
/// as the CLI does.
public final class UsherServer: Sendable {
    public let configuration: UsherConfiguration
    public let database: SQLDatabaseProvider
    public let store: any UsherStore
    public let services: UsherServices
    public let registry: PrometheusCollectorRegistry
    public let logger: Logger
    let clock: any UsherClock
    /// Whether an enabled provider was stored when the server opened (production start-up requires one or the URL).
    let providerConfiguredAtOpen: Bool
    /// The Actions worker pool, with `.workerPool`; started by `makeApplication`'s service (or the first login).
    public let actionPool: ActionWorkerPool?

    private init(
        configuration: UsherConfiguration, database: SQLDatabaseProvider, store: any UsherStore,
        services: UsherServices, registry: PrometheusCollectorRegistry, logger: Logger, clock: any UsherClock,
        providerConfiguredAtOpen: Bool, actionPool: ActionWorkerPool?
    ) {
        self.actionPool = actionPool
        self.clock = clock
        self.providerConfiguredAtOpen = providerConfiguredAtOpen
        self.configuration = configuration
        self.database = database
        self.store = store
        self.services = services
        self.registry = registry
        self.logger = logger
    }

    /// Opens the database, applies pending migrations and loads the signing keys. `actions` decides whether
    /// post-login Actions run (only `usher serve` spawns workers).
    public static func open(
        _ configuration: UsherConfiguration, logger: Logger, clock: any UsherClock = SystemClock(),
        passwordHasher: (any PasswordHasher)? = nil, actions: ActionsSetup = .syntaxCheckOnly
    ) async throws -> UsherServer {
        let database = try await SQLDatabaseProvider.open(configuration.database, logger: logger)
        do {
            try await Migrator.migrate(database.database, logger: logger)
            let store = SQLUsherStore(provider: database, outboxSeal: try OutboxKeyring.seal(for: configuration, logger: logger))
            let providerConfigured = try await store.emailProvider()?.enabled == true
            let (services, actionPool) = try await ServiceGraph.build(
                configuration, store: store, clock: clock, passwordHasher: passwordHasher, actions: actions, logger: logger)
            return UsherServer(
                configuration: configuration, database: database, store: store, services: services,
                registry: PrometheusCollectorRegistry(), logger: logger, clock: clock, providerConfiguredAtOpen: providerConfigured,
                actionPool: actionPool)
        } catch {
            try? await database.close()
            throw error
        }
    }

    /// Creates the default connection, the administrator application and the first dashboard administrator if
    /// needed.
    public func bootstrap(clock: any UsherClock = SystemClock()) async throws -> Bootstrap.Outcome {
        let outcome = try await Bootstrap.run(
            store: store, clock: clock, managementAudience: services.machineTokens.managementAudience,
            clientID: configuration.bootstrapClientID, clientSecret: configuration.bootstrapClientSecret)
        if let email = configuration.bootstrapAdminEmail, let password = configuration.bootstrapAdminPassword,
            try await services.admins.bootstrap(email: email, password: password)
        {
            logger.info("Dashboard administrator created from USHER_BOOTSTRAP_ADMIN_EMAIL", metadata: ["url": "\(configuration.publicURL)/admin"])
        }
        return outcome
    }

    /// The router with every route and middleware; tests drive it in-process.
    public func makeRouter() -> Router<UsherRequestContext> {
        UsherRouter.build(services: services, registry: registry, trustedProxies: configuration.trustedProxies)
    }

    /// The courier and its transport, for `usher serve`. Refuses production without any provider; warns loudly in
    /// development when mail will only reach the development mailbox.
    public func makeCourier() throws -> CourierService {
        if configuration.smtpURL == nil && !providerConfiguredAtOpen {
            if configuration.environment == .production {
                throw ConfigurationError(
                    description: """
                        Refusing to start: USHER_ENVIRONMENT=production but no email provider is configured, so no invitation or \
                        password email could be delivered. Set USHER_SMTP_URL (or --smtp-url), or store a provider with \
                        POST /api/v2/emails/provider while running in development.
                        """)
            }
            logger.warning(
                """
                ************************************************************************
                 NO EMAIL PROVIDER CONFIGURED: mail is NOT sent. It is stored in the
                 development mailbox; read it at \(configuration.publicURL)/dev/mail
                 Set USHER_SMTP_URL or POST /api/v2/emails/provider to send real mail.
                ************************************************************************
                """)
        }
        return try ServiceGraph.courier(configuration, store: store, clock: clock, logger: logger)
    }

    /// The HTTP application, with TLS when a certificate is configured, and the mail courier beside it.
    public func makeApplication() throws -> some ApplicationProtocol {
        let courier = try makeCourier()
        let serverConfiguration = ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port), serverName: "Usher")
        let server: HTTPServerBuilder
        if let certPath = configuration.tlsCertificatePath, let keyPath = configuration.tlsKeyPath {
            let chain = try NIOSSLCertificate.fromPEMFile(certPath).map { NIOSSLCertificateSource.certificate($0) }
            let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .file(keyPath))
            server = try .tls(.http1(), tlsConfiguration: tls)
        } else {
            server = .http1()
        }
        let resets = ServiceGraph.passwordResetWorker(configuration, services: services, clock: clock)
        let invitations = ServiceGraph.invitationWorker(configuration, services: services, logger: logger)
        var background: [any Service] = [courier, resets, invitations]
        // Listed before the HTTP server, so it stops after the server (services shut down in reverse order).
        if let actionPool { background.append(ActionWorkerPoolService(pool: actionPool)) }
        return Application(router: makeRouter(), server: server, configuration: serverConfiguration, services: background, logger: logger)
    }

    public func close() async {
        await actionPool?.shutdown()
        do { try await database.close() } catch { logger.warning("Closing the database failed", metadata: ["error": "\(error)"]) }
    }
}
