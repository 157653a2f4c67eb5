import Hummingbird
import Prometheus
import UsherCore

/// Builds the router with every controller and the global middleware, for `usher serve` and for tests alike.
public enum UsherRouter {
    public static func build(services: UsherServices, registry: PrometheusCollectorRegistry, trustedProxies: TrustedProxies) -> Router<UsherRequestContext> {
        let router = Router(context: UsherRequestContext.self)
        router.add(middleware: RequestObservationMiddleware(trustedProxies: trustedProxies, registry: registry))
        router.add(middleware: SecurityHeadersMiddleware(isHTTPS: services.publicURL.lowercased().hasPrefix("https://")))
        OperationsController(store: services.store, registry: registry, passwordResets: services.passwordResets).register(on: router)
        AuthenticationAPIController(services: services).register(on: router)
        ManagementAPIController(services: services).register(on: router)
        HostedPagesController(services: services).register(on: router)
        AdminDashboardController(services: services).register(on: router)
        if services.mail.usesDevelopmentMailbox { DevMailboxController(mail: services.mail).register(on: router) }
        return router
    }
}
