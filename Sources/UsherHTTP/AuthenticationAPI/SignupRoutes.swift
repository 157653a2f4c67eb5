import Hummingbird
import UsherCore
import UsherJSON

/// `/dbconnections/signup`: self-service registration, with Auth0's sign-up error bodies.
struct SignupRoutes {
    let services: UsherServices

    var collection: RouteCollection<UsherRequestContext> {
        let routes = RouteCollection(context: UsherRequestContext.self).add(middleware: APIErrorMiddleware(style: .signup))
        let signups = services.signups
        let signupLimiter = services.signupLimiter
        routes.post("dbconnections/signup") { request, context -> Response in
            guard signupLimiter.take(context.clientAddress ?? "-").allowed else {
                throw SignupError(
                    .rateLimited, code: "too_many_requests", description: "Too many sign-ups from your network. Wait a few minutes and try again.")
            }
            let body = try await HTTPInput.jsonObjectOrForm(request)
            return HTTPOutput.json(try await signups.signup(body, ip: context.clientAddress, userAgent: request.headers[.userAgent]))
        }
        return routes
    }
}
