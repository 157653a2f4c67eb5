import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Prometheus
import UsherCore
import UsherHTTP
import UsherStorage

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

    private init(configuration: UsherConfiguration, database: SQLDatabaseProvider, store: any UsherStore,
                 services: UsherServices, registry: PrometheusCollectorRegistry, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.store = store
        self.services = services
        self.registry = registry
        self.logger = logger
    }

    /// Opens the database, applies pending migrations and loads the signing keys.
    public static func open(_ configuration: UsherConfiguration, logger: Logger, clock: any UsherClock = SystemClock(),
                            passwordHasher: (any PasswordHasher)? = nil) async throws -> UsherServer {
        let database = try await SQLDatabaseProvider.open(configuration.database, logger: logger)
        do {
            try await Migrator.migrate(database.database, logger: logger)
            let store = SQLUsherStore(database: database.database)
            let signer = try await TokenSigner.load(store: store, clock: clock)
            let hasher = passwordHasher ?? BcryptPasswordHasher(cost: configuration.bcryptCost)
            let services = UsherServices(
                store: store,
                users: UserService(store: store, hasher: hasher, passwordRules: ConnectionPasswordRules(hasher: hasher), clock: clock),
                clients: ClientService(store: store, clock: clock),
                machineTokens: MachineTokenService(store: store, signer: signer, clock: clock, publicURL: configuration.publicURL),
                signer: signer,
                publicURL: configuration.publicURL)
            return UsherServer(configuration: configuration, database: database, store: store, services: services,
                               registry: PrometheusCollectorRegistry(), logger: logger)
        } catch {
            try? await database.close()
            throw error
        }
    }

    /// Creates the default connection and the administrator application if needed.
    public func bootstrap(clock: any UsherClock = SystemClock()) async throws -> Bootstrap.Outcome {
        try await Bootstrap.run(
            store: store, clock: clock, managementAudience: services.machineTokens.managementAudience,
            clientID: configuration.bootstrapClientID, clientSecret: configuration.bootstrapClientSecret)
    }

    /// The router with every route and middleware; tests drive it in-process.
    public func makeRouter() -> Router<UsherRequestContext> {
        UsherRouter.build(services: services, registry: registry, trustedProxies: configuration.trustedProxies)
    }

    /// The HTTP application, with TLS when a certificate is configured.
    public func makeApplication() throws -> some ApplicationProtocol {
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
        return Application(router: makeRouter(), server: server, configuration: serverConfiguration, logger: logger)
    }

    public func close() async {
        do { try await database.close() } catch { logger.warning("Closing the database failed", metadata: ["error": "\(error)"]) }
    }
}
