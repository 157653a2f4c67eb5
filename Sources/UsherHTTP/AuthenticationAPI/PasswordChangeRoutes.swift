import Foundation
import HTTPTypes
import Hummingbird
import UsherCore

/// `/dbconnections/change_password`: "send me a reset link", answered the same whether or not the address exists.
struct PasswordChangeRoutes {
    let services: UsherServices

    var collection: RouteCollection<UsherRequestContext> {
        let routes = RouteCollection(context: UsherRequestContext.self).add(middleware: APIErrorMiddleware(style: .oauth))
        let resets = services.passwordResets
        routes.post("dbconnections/change_password") { request, context -> Response in
            let fields = try await HTTPInput.fields(request)
            if fields["password"] != nil {
                // Lock 8 once set the password here; Auth0 now refuses it, and so does Usher.
                throw UsherError(.invalidInput, "Password is not allowed", errorCode: "invalid_request")
            }
            let decision = try await resets.request(
                email: fields["email"], connection: fields["connection"], clientID: fields["client_id"], ip: context.clientAddress,
                userAgent: request.headers[.userAgent], language: request.headers[.acceptLanguage])
            var response = HTTPOutput.text(PasswordResetService.successMessage)
            response.headers[HTTPField.Name("X-RateLimit-Limit")!] = String(resets.requestLimiter.burst)
            response.headers[HTTPField.Name("X-RateLimit-Remaining")!] = String(decision.remaining)
            response.headers[HTTPField.Name("X-RateLimit-Reset")!] = String(Int(decision.resetAt.timeIntervalSince1970.rounded(.up)))
            return response
        }
        return routes
    }
}
