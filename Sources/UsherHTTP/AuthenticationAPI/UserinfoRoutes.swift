import Foundation
import HTTPTypes
import Hummingbird
import UsherCore

/// `/userinfo` (GET and POST, as OpenID Connect allows): the signed-in user's claims for an access token.
struct UserinfoRoutes {
    let services: UsherServices

    var collection: RouteCollection<UsherRequestContext> {
        let routes = RouteCollection(context: UsherRequestContext.self).add(middleware: APIErrorMiddleware(style: .userinfo))
        let login = services.login
        let userinfo: @Sendable (Request, UsherRequestContext) async throws -> Response = { request, _ in
            guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
                throw UsherError(.unauthorized, "Missing bearer token")
            }
            return HTTPOutput.json(try await login.userinfo(accessToken: String(header.dropFirst(7))))
        }
        routes.get("userinfo", use: userinfo)
        routes.post("userinfo", use: userinfo)
        return routes
    }
}
