import Hummingbird
import UsherCore

/// Auth0's Authentication API: tokens, the database connections' public endpoints, `/userinfo` and discovery,
/// one route collection per resource.
public struct AuthenticationAPIController: Sendable {
    let services: UsherServices

    public init(services: UsherServices) { self.services = services }

    public func register(on router: Router<UsherRequestContext>) {
        router.addRoutes(TokenRoutes(services: services).collection)
        router.addRoutes(PasswordChangeRoutes(services: services).collection)
        router.addRoutes(SignupRoutes(services: services).collection)
        router.addRoutes(DiscoveryRoutes(services: services).collection)
        router.addRoutes(UserinfoRoutes(services: services).collection)
    }
}
