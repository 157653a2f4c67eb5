import Hummingbird
import UsherCore

/// `/api/v2`: users, applications, grants and connections, Auth0-compatible.
public struct ManagementAPIController: Sendable {
    let services: UsherServices

    public init(services: UsherServices) { self.services = services }

    /// Every route of every resource, in the order registered.
    public var routes: [ManagementRoute] {
        let collections: [any ManagementRouteCollection] = [
            UsersRoutes(services: services), ClientsRoutes(services: services), ClientGrantsRoutes(services: services),
            ConnectionsRoutes(services: services), EmailProviderRoutes(services: services), EmailOutboxRoutes(services: services),
            EmailTemplatesRoutes(services: services), TicketsRoutes(services: services), InvitationsRoutes(services: services), RolesRoutes(services: services),
            LogsRoutes(services: services),
            TenantSettingsRoutes(services: services), BrandingRoutes(services: services), PromptsRoutes(services: services),
            ActionsRoutes(services: services),
        ]
        return collections.flatMap(\.routes)
    }

    /// Registers every route under `/api/v2`: the token is checked by the group's middleware, the route's scopes
    /// by `RequiredScopesMiddleware` in front of each route; this loop is the only way a route gets registered.
    public func register(on router: Router<UsherRequestContext>) {
        let group = router.group("api/v2")
            .add(middleware: APIErrorMiddleware(style: .management))
            .add(middleware: ManagementTokenMiddleware(tokens: services.machineTokens))
        for route in routes {
            group.group().add(middleware: RequiredScopesMiddleware(scopes: route.scopes))
                .on(RouterPath(route.path), method: route.method, use: route.handler)
        }
    }
}
