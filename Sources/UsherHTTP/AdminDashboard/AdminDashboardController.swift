import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UsherCore

/// `/admin`: the dashboard, server-rendered and working without JavaScript.
///
/// Signed-in pages are routes as data (`AdminRoute`): each names the Management API scope its action needs, and
/// `register` is the only way one is added, behind the session check and that scope. Every form carries a CSRF
/// token (`CSRFMiddleware`); every page gets a strict CSP with no inline script or style.
public struct AdminDashboardController: Sendable {
    let services: UsherServices
    let csrf: FormCSRF
    let isHTTPS: Bool

    static let sessionCookie = "usher_admin"
    /// No inline script or style anywhere: the one stylesheet and script are files under `/admin/assets`.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    public init(services: UsherServices) {
        self.services = services
        self.isHTTPS = services.publicURL.lowercased().hasPrefix("https://")
        self.csrf = FormCSRF(signer: services.signer, isHTTPS: isHTTPS, purpose: "admin-csrf")
    }

    /// A signed-in page or action.
    struct AdminRoute: Sendable {
        var method: HTTPRequest.Method
        var path: String
        /// The Management API scope the page's data or action needs.
        var scope: String
        var handler: @Sendable (Request, UsherRequestContext, AdminPageContext) async throws -> Response
    }

    /// What a signed-in handler knows besides the request.
    struct AdminPageContext: Sendable {
        var admin: AdminAccount
        /// For the forms the page renders.
        var csrfToken: String
        /// The CSRF cookie to (re)set with the page.
        var csrfCookie: String
    }

    var routes: [AdminRoute] { AdminInvitationsRoutes(services: services, dashboard: self).routes }

    public func register(on router: Router<UsherRequestContext>) {
        let group = router.group("admin")
            .add(middleware: AdminPageErrorMiddleware(dashboard: self))
            .add(middleware: CSRFMiddleware(csrf: csrf) { _ in AdminPageError.forgedForm })
        AdminSignInRoutes(services: services, dashboard: self).register(on: group)
        group.get("assets/admin.css") { _, _ in Self.asset(AdminAssets.stylesheet, type: "text/css; charset=utf-8") }
        group.get("assets/admin.js") { _, _ in Self.asset(AdminAssets.script, type: "text/javascript; charset=utf-8") }
        group.get { request, _ in try await signedIn(request) == nil ? Self.redirect("/admin/login") : Self.redirect("/admin/invitations") }
        for route in routes {
            group.on(RouterPath(route.path), method: route.method) { request, context in
                guard let admin = try await signedIn(request) else {
                    // A form posted after the session ended is not replayed after signing in: back to its page.
                    let next = request.method == .get ? request.uri.path + (request.uri.query.map { "?" + $0 } ?? "") : "/admin"
                    return Self.redirect(HTML.path("/admin/login", query: [("next", next)]))
                }
                guard admin.may(route.scope) else { throw AdminPageError.forbidden(scope: route.scope) }
                let csrf = self.csrf.token(for: request)
                return try await route.handler(request, context, AdminPageContext(admin: admin, csrfToken: csrf.token, csrfCookie: csrf.cookie))
            }
        }
    }

    func signedIn(_ request: Request) async throws -> AdminAccount? {
        try await services.admins.signedIn(cookie: request.cookies[Self.sessionCookie]?.value)
    }

    /// The session cookie: scoped to `/admin`, never sent by another site's request, gone when the browser closes.
    func sessionCookie(_ value: String?) -> Cookie {
        Cookie(name: Self.sessionCookie, value: value ?? "", maxAge: value == nil ? 0 : nil, path: "/admin", secure: isHTTPS, httpOnly: true, sameSite: .strict)
    }

    // MARK: responses

    /// A whole page: the layout around `body`, with the CSRF cookie its forms need.
    func page(
        _ title: String, _ body: HTML, status: HTTPResponse.Status = .ok, section: AdminLayout.Section? = nil, context: AdminPageContext?,
        csrfForSignedOut: (cookie: String, token: String)? = nil
    ) -> Response {
        let token = context?.csrfToken ?? csrfForSignedOut?.token ?? ""
        let html = AdminLayout.page(title: title, body: body, section: section, admin: context?.admin, csrfToken: token)
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: Self.contentSecurityPolicy],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html.markup)))
        if let cookie = context?.csrfCookie ?? csrfForSignedOut?.cookie { response.setCookie(csrf.cookie(cookie)) }
        return response
    }

    /// 303: the browser follows a form's answer with a GET, so reloading it does not post again.
    static func redirect(_ location: String, cookies: [Cookie] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    /// Where a sign-in may send the browser: a dashboard path, never another site (`//host`, `/\host`).
    static func safeNext(_ next: String?) -> String {
        guard let next, next == "/admin" || next.hasPrefix("/admin/") || next.hasPrefix("/admin?"), !next.contains("\\"), !next.contains("://"),
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return "/admin/invitations" }
        return next
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=3600"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
