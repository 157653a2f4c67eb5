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
    let csrf: FormCSRF

    public init(services: UsherServices) {
        self.services = services
        self.isHTTPS = services.publicURL.lowercased().hasPrefix("https://")
        self.csrf = FormCSRF(signer: services.signer, isHTTPS: isHTTPS, purpose: "csrf")
    }

    public func register(on router: Router<UsherRequestContext>) {
        let pages = router.group()
            .add(middleware: HostedPageErrorMiddleware(pages: self))
            .add(middleware: CSRFMiddleware(csrf: csrf) { HostedPageError.forgedForm(fields: $0) })
        pages.addRoutes(resetRoutes)
        pages.addRoutes(verifyEmailRoutes)
        pages.addRoutes(loginRoutes)
    }

    // MARK: rendering

    struct Page {
        var status: HTTPResponse.Status = .ok
        var template: LiquidTemplate
        var globals: JSONObject
        /// Only Usher's own templates get a strict CSP; an administrator's page may load its own scripts.
        var strictCSP = true
        /// The texts of the page's language (its `lang` and footer); nil for pages Usher shows in English only.
        var texts: PromptTextService.Texts? = nil
    }

    /// The reset-password prompt's texts for the person a link belongs to (`user` nil: someone the page does not
    /// know), in the language their invitation, profile, browser, application or tenant asks for.
    func resetTexts(_ request: Request, user: User? = nil, client: Client? = nil) async throws -> PromptTextService.Texts {
        let choice = try await services.passwordResets.localeChoice(for: user, client: client, acceptLanguage: request.headers[.acceptLanguage])
        return try await services.promptTexts.texts(prompt: "reset-password", choice: choice)
    }

    func render(_ page: Page, request: Request) async throws -> Response {
        let nonce = SecureRandom.token(byteCount: 18)
        var globals = page.globals
        globals["csp_nonce"] = .string(nonce)
        let tenant = try await services.tenant.settings()
        var tenantObject: JSONObject = ["name": .string(services.tenant.name)]
        for (key, value) in tenant.object where ["friendly_name", "picture_url", "support_email", "support_url"].contains(key) { tenantObject[key] = value }
        globals["tenant"] = .object(tenantObject)
        globals["lang"] = .string(page.texts?.language ?? "en")
        let common = page.texts?.screen("common", "common") ?? BuiltInPromptTexts.texts(prompt: "common", screen: "common", language: "en")
        globals["common"] = .object(Self.object(common))
        let csrf = self.csrf.token(for: request)
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
        response.setCookie(self.csrf.cookie(csrf.cookie))
        return response
    }

    /// A page with a title and paragraphs. `resend` adds "send me a new link", labelled from the `screen` of `texts`
    /// (`emailPlaceholder`, `buttonText`: the request and error screens both have them).
    func messagePage(
        _ status: HTTPResponse.Status, title: String, paragraphs: [String], resend: JSONObject? = nil, link: (String, String)? = nil,
        confirm: JSONObject? = nil, errors: [String] = [], texts: PromptTextService.Texts? = nil, screen: String = "reset-password-error"
    ) -> Page {
        var globals: JSONObject = [
            "page_title": .string(title), "paragraphs": .array(paragraphs.map(JSONValue.string)),
            "errors": .array(errors.map(JSONValue.string)),
        ]
        if var resend {
            let labels = texts?.screen("reset-password", screen) ?? BuiltInPromptTexts.texts(prompt: "reset-password", screen: screen, language: "en")
            resend["email_label"] = .string(labels["emailPlaceholder"] ?? "")
            resend["button"] = .string(labels["buttonText"] ?? "")
            globals["resend"] = .object(resend)
        }
        if let confirm { globals["confirm"] = .object(confirm) }
        if let (href, text) = link { globals["link"] = ["href": .string(href), "text": .string(text)] }
        return Page(status: status, template: HostedPageTemplates.parsedMessage, globals: globals, texts: texts)
    }

    /// A screen's texts as a Liquid object.
    static func object(_ texts: [String: String]) -> JSONObject {
        JSONObject(texts.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })
    }
}
