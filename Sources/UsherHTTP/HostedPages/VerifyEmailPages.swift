import Foundation
import HTTPTypes
import Hummingbird
import UsherCore
import UsherJSON
import UsherLiquid

/// `/lo/verify_email`: confirming an address from the emailed link (a GET only shows the button, so mail
/// scanners that open links do not verify anyone).
extension HostedPagesController {
    var verifyEmailRoutes: RouteCollection<UsherRequestContext> {
        let pages = self
        let routes = RouteCollection(context: UsherRequestContext.self)
        routes.get("lo/verify_email") { request, context in try await pages.showVerify(request, context) }
        routes.head("lo/verify_email") { _, _ in Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"]) }
        routes.post("lo/verify_email") { request, context in try await pages.submitVerify(request, context) }
        return routes
    }

    // MARK: /lo/verify_email

    func showVerify(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let token = HTTPInput.query(request)["ticket"] ?? ""
        switch try await services.emailVerification.open(token: token) {
        case .failure(let problem):
            throw HostedPageError.unusableVerificationLink(problem)
        case .success(let (_, user)):
            return try await render(
                messagePage(
                    .ok, title: "Confirm your email address", paragraphs: ["Confirm that \(user.email ?? "this address") is yours."],
                    confirm: ["action": "/lo/verify_email", "ticket": .string(token), "label": "Confirm my email address"]),
                request: request)
        }
    }

    func submitVerify(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let fields = try await HTTPInput.fields(request)
        switch try await services.emailVerification.confirm(token: fields["ticket"] ?? "", ip: context.clientAddress, userAgent: request.headers[.userAgent]) {
        case .failure(let problem):
            throw HostedPageError.unusableVerificationLink(problem)
        case .success(let (_, redirect)):
            if let redirect { return Response(status: .found, headers: [.location: redirect]) }
            return try await render(
                messagePage(.ok, title: "Your email address is verified", paragraphs: ["You can continue using the application."]),
                request: request)
        }
    }
}
