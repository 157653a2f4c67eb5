import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UsherCore
import UsherJSON
import UsherLiquid

/// The pages a person's browser sees: the ones reached from an emailed link (`/lo/reset` for invitations and
/// password resets, `/lo/reset/resend`, `/lo/verify_email`) and the login pages (`/authorize`, `/u/login`, `/v2/logout`).
///
/// Every form carries a CSRF token: a random cookie and, in the form, its MAC under the instance secret, so any
/// instance sharing the database can check it (`CSRFMiddleware`, in front of every POST). Opening a link (GET or
/// HEAD) never consumes it. Handlers throw `HostedPageError` and `HostedPageErrorMiddleware` renders the page.
public struct HostedPagesController: Sendable {
    let services: UsherServices
    let isHTTPS: Bool

    public init(services: UsherServices) {
        self.services = services
        self.isHTTPS = services.publicURL.lowercased().hasPrefix("https://")
    }

    static let csrfCookie = "usher_csrf"
    public static let inviteTitle = "Welcome — choose a password to activate your account"
    public static let resetTitle = "Reset your password"

    public func register(on router: Router<UsherRequestContext>) {
        let pages = router.group()
            .add(middleware: HostedPageErrorMiddleware(pages: self))
            .add(middleware: CSRFMiddleware(pages: self))
        pages.addRoutes(resetRoutes)
        pages.addRoutes(verifyEmailRoutes)
        pages.addRoutes(loginRoutes)
    }

    // MARK: CSRF

    /// The browser's CSRF cookie value, if it has a well-formed one.
    static func csrfCookieValue(_ request: Request) -> String? {
        guard let value = request.cookies[csrfCookie]?.value,
            value.count == 43, value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        else { return nil }
        return value
    }

    /// A CSRF session for a page: the cookie to (re)set and the token for the form.
    func csrf(for request: Request) -> (cookie: String, token: String) {
        let value = Self.csrfCookieValue(request) ?? SecureRandom.token(byteCount: 32)
        return (value, services.signer.pageMAC(value, purpose: "csrf"))
    }

    func csrfValid(_ request: Request, field: String?) -> Bool {
        guard let cookie = Self.csrfCookieValue(request), let field, !field.isEmpty else { return false }
        return SecureRandom.constantTimeEquals(field, services.signer.pageMAC(cookie, purpose: "csrf"))
    }

    /// `SameSite=Strict`: a form is only ever posted from Usher's own page, so no other site's request needs it.
    func makeCSRFCookie(_ value: String) -> Cookie {
        Cookie(name: Self.csrfCookie, value: value, path: "/", secure: isHTTPS, httpOnly: true, sameSite: .strict)
    }

    // MARK: rendering

    struct Page {
        var status: HTTPResponse.Status = .ok
        var template: LiquidTemplate
        var globals: JSONObject
        /// Only Usher's own templates get a strict CSP; an administrator's page may load its own scripts.
        var strictCSP = true
    }

    func render(_ page: Page, request: Request) async throws -> Response {
        let nonce = SecureRandom.token(byteCount: 18)
        var globals = page.globals
        globals["csp_nonce"] = .string(nonce)
        let tenant = try await services.tenant.settings()
        var tenantObject: JSONObject = ["name": .string(services.tenant.name)]
        for (key, value) in tenant.object where ["friendly_name", "picture_url", "support_email", "support_url"].contains(key) { tenantObject[key] = value }
        globals["tenant"] = .object(tenantObject)
        if globals["lang"] == nil { globals["lang"] = "en" }
        let csrf = self.csrf(for: request)
        globals["csrf_token"] = .string(csrf.token)
        let html: String
        do {
            html = try page.template.render(LiquidContext(hash: globals.liquidValue))
        } catch {
            // A broken custom page must not lock people out: say so, readably.
            throw HostedPageError.templateFailed(.page, error.description)
        }
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        if page.strictCSP {
            headers[.contentSecurityPolicy] =
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; script-src 'nonce-\(nonce)'; base-uri 'none'; frame-ancestors 'none'"
        }
        var response = Response(status: page.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        response.setCookie(makeCSRFCookie(csrf.cookie))
        return response
    }

    func messagePage(
        _ status: HTTPResponse.Status, title: String, paragraphs: [String], resend: JSONObject? = nil, link: (String, String)? = nil,
        confirm: JSONObject? = nil, errors: [String] = []
    ) -> Page {
        var globals: JSONObject = [
            "page_title": .string(title), "paragraphs": .array(paragraphs.map(JSONValue.string)),
            "errors": .array(errors.map(JSONValue.string)),
        ]
        if let resend { globals["resend"] = .object(resend) }
        if let confirm { globals["confirm"] = .object(confirm) }
        if let (href, text) = link { globals["link"] = ["href": .string(href), "text": .string(text)] }
        return Page(status: status, template: HostedPageTemplates.parsedMessage, globals: globals)
    }
}
