import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UsherCore
import UsherLiquid
import UsherJSON

/// The pages a person reaches from an emailed link: `/lo/reset` (invitation and password reset),
/// `/lo/reset/resend` ("send me a new link") and `/lo/verify_email`.
///
/// Every form carries a CSRF token: a random cookie and, in the form, its MAC under the instance secret, so any
/// instance sharing the database can check it. Opening a link (GET or HEAD) never consumes it.
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
        let pages = self
        router.get("lo/reset") { request, context in try await pages.showReset(request, context) }
        router.head("lo/reset") { _, _ in Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"]) }
        router.post("lo/reset") { request, context in try await pages.submitReset(request, context) }
        router.post("lo/reset/resend") { request, context in try await pages.resend(request, context) }
        router.get("lo/verify_email") { request, context in try await pages.showVerify(request, context) }
        router.head("lo/verify_email") { _, _ in Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"]) }
        router.post("lo/verify_email") { request, context in try await pages.submitVerify(request, context) }
        registerLogin(on: router)
    }

    // MARK: CSRF

    /// The browser's CSRF cookie value, if it has a well-formed one.
    static func csrfCookieValue(_ request: Request) -> String? {
        cookies(csrfCookie, in: request).first { value in
            value.count == 43 && value.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        }
    }

    /// Every value the request's `Cookie` header carries under `name`, in order.
    static func cookies(_ name: String, in request: Request) -> [String] {
        guard let header = request.headers[.cookie] else { return [] }
        return header.split(separator: ";").compactMap { part in
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces) == name else { return nil }
            return pair[1].trimmingCharacters(in: .whitespaces)
        }
    }

    /// A CSRF session for a page: the cookie to (re)set and the token for the form.
    func csrf(for request: Request) -> (cookie: String, token: String, isNew: Bool) {
        if let existing = Self.csrfCookieValue(request) {
            return (existing, services.signer.pageMAC(existing, purpose: "csrf"), false)
        }
        let fresh = SecureRandom.token(byteCount: 32)
        return (fresh, services.signer.pageMAC(fresh, purpose: "csrf"), true)
    }

    func csrfValid(_ request: Request, field: String?) -> Bool {
        guard let cookie = Self.csrfCookieValue(request), let field, !field.isEmpty else { return false }
        return SecureRandom.constantTimeEquals(field, services.signer.pageMAC(cookie, purpose: "csrf"))
    }

    func cookieHeader(_ value: String) -> String {
        "\(Self.csrfCookie)=\(value); Path=/; HttpOnly; SameSite=Strict" + (isHTTPS ? "; Secure" : "")
    }

    // MARK: rendering

    struct Page {
        var status: HTTPResponse.Status = .ok
        var template: LiquidTemplate
        var globals: JSONObject
        /// Only Usher's own templates get a strict CSP; an administrator's page may load its own scripts.
        var strictCSP = true
    }

    func render(_ page: Page, request: Request, csrf: (cookie: String, token: String, isNew: Bool)? = nil) async throws -> Response {
        let nonce = SecureRandom.token(byteCount: 18)
        var globals = page.globals
        globals["csp_nonce"] = .string(nonce)
        let tenant = try await services.tenant.settings()
        var tenantObject: JSONObject = ["name": .string(services.tenant.name)]
        for (key, value) in tenant.object where ["friendly_name", "picture_url", "support_email", "support_url"].contains(key) { tenantObject[key] = value }
        globals["tenant"] = .object(tenantObject)
        if globals["lang"] == nil { globals["lang"] = "en" }
        let csrf = csrf ?? self.csrf(for: request)
        globals["csrf_token"] = .string(csrf.token)
        let html: String
        do {
            html = try page.template.render(LiquidContext(hash: globals.liquidValue))
        } catch {
            // A broken custom page must not lock people out: say so, readably, and keep the details in the log.
            return HTTPOutput.text("This page could not be shown because its template failed: \(error.description)", status: .internalServerError)
        }
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        if page.strictCSP {
            headers[.contentSecurityPolicy] =
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; script-src 'nonce-\(nonce)'; base-uri 'none'; frame-ancestors 'none'"
        }
        headers[.setCookie] = cookieHeader(csrf.cookie)
        return Response(status: page.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func messagePage(_ status: HTTPResponse.Status, title: String, paragraphs: [String], resend: JSONObject? = nil, link: (String, String)? = nil,
                     confirm: JSONObject? = nil, errors: [String] = []) -> Page {
        var globals: JSONObject = ["page_title": .string(title), "paragraphs": .array(paragraphs.map(JSONValue.string)),
                                   "errors": .array(errors.map(JSONValue.string))]
        if let resend { globals["resend"] = .object(resend) }
        if let confirm { globals["confirm"] = .object(confirm) }
        if let (href, text) = link { globals["link"] = ["href": .string(href), "text": .string(text)] }
        return Page(status: status, template: HostedPageTemplates.parsedMessage, globals: globals)
    }

    /// The page for a link that cannot be used, with "send me a new link".
    func problemPage(_ problem: TicketProblem, token: String?) -> Page {
        let resendForTicket: JSONObject? = token.map { ["ticket": .string($0)] }
        switch problem {
        case .invalid:
            return messagePage(.notFound, title: "This link is not valid", paragraphs: [
                "The link may be incomplete, or it was copied wrongly. Enter your email address and we will send you a new one.",
            ], resend: ["ask_email": true])
        case .expired:
            return messagePage(.gone, title: "This link has expired", paragraphs: [
                "Links are valid for a limited time. We can send you a new one.",
            ], resend: resendForTicket)
        case .used:
            return messagePage(.gone, title: "This link has already been used", paragraphs: [
                "Each link works once. If you still need to set your password, we can send you a new link.",
            ], resend: resendForTicket)
        case .superseded:
            return messagePage(.gone, title: "This link has been replaced by a newer one", paragraphs: [
                "Only the most recent link we sent works. Use the newest email, or ask for a new link.",
            ], resend: resendForTicket)
        }
    }

    // MARK: /lo/reset

    func showReset(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let query = HTTPInput.query(request)
        let token = query["ticket"] ?? ""
        switch try await services.passwordResets.open(token: token) {
        case .failure(let problem):
            return try await render(problemPage(problem, token: token), request: request)
        case .success(let state):
            return try await render(try await resetForm(state, query: query, token: token, errors: []), request: request)
        }
    }

    func resetForm(_ state: ResetPageState, query: [String: String], token: String, errors: [String], status: HTTPResponse.Status = .ok) async throws -> Page {
        let user = state.user
        let requested = query["type"]
        let type = requested == "invite" || requested == "reset" ? requested! : (user.appMetadata["needsInvitation"]?.boolValue == true ? "invite" : "reset")
        let policy = state.policy
        var publicUser = user.managementJSON
        publicUser["identities"] = nil
        var rulesJSON = ""
        policy.rulesJSON.write(to: &rulesJSON)
        // Inside <script>: no way to close the element from data.
        rulesJSON = rulesJSON.replacingOccurrences(of: "<", with: "\\u003c")
        var globals: JSONObject = [
            "page_title": .string(type == "invite" ? Self.inviteTitle : Self.resetTitle),
            "titles": ["invite": .string(Self.inviteTitle), "reset": .string(Self.resetTitle)],
            "type": .string(type),
            "email": .string(user.email ?? ""),
            "ticket": .string(token),
            "password_policy": .string(policy.level.rawValue),
            "password_complexity_options": .string(JSONValue.object(["min_length": .int(Int64(policy.effectiveMinLength))]).jsonString),
            "password_dictionary": .bool(policy.dictionary.enabled),
            "password_history": .bool(policy.history.enabled),
            "password_no_personal_info": .bool(policy.noPersonalInfo),
            "user": .object(publicUser),
            "query": .object(JSONObject(query.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })),
            "rules": .array(policy.rules.map { rule in .object(["key": .string(Self.ruleKey(rule.id)), "id": .string(rule.id), "text": .string(rule.summary)]) }),
            "rules_json": .string(rulesJSON),
            "errors": .array(errors.map(JSONValue.string)),
        ]
        if let client = state.client {
            globals["application"] = ["name": .string(client.name), "clientID": .string(client.clientID)]
        }
        if let custom = try await services.tenant.settings().customResetPage {
            do {
                return Page(status: status, template: try LiquidTemplate.parse(custom, name: "change_password.html"), globals: globals, strictCSP: false)
            } catch {
                // Saving refuses templates that do not parse, so this is a template stored before that check; fall back loudly.
                globals["errors"] = .array((errors + ["(The custom password page failed to parse: \(error.description); showing the default page.)"]).map(JSONValue.string))
            }
        }
        return Page(status: status, template: HostedPageTemplates.parsedResetForm, globals: globals)
    }

    /// Stable keys the page script and tests use for the rules.
    static func ruleKey(_ id: String) -> String {
        switch id {
        case "nonEmpty", "lengthAtLeast": "length"
        case "shouldContain", "containsAtLeast": "characters"
        case "identicalChars": "identical"
        case "maxLength": "max-bytes"
        case "noPersonalInfo": "personal-info"
        default: id
        }
    }

    static func wantsJSON(_ request: Request) -> Bool {
        (request.headers[.accept] ?? "").lowercased().contains("application/json")
    }

    func submitReset(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let fields = try await HTTPInput.fields(request)
        let json = Self.wantsJSON(request)
        let token = fields["ticket"] ?? ""
        guard csrfValid(request, field: fields["_csrf"]) else {
            if json { return HTTPOutput.json(["name": "ForbiddenError", "message": "Invalid CSRF token", "statusCode": 403], status: .forbidden) }
            return try await render(messagePage(.forbidden, title: "Please try again", paragraphs: [
                "This form has expired or was not sent from this page. Open the link from your email again and resubmit.",
            ]), request: request)
        }
        let outcome = try await services.passwordResets.complete(
            token: token, newPassword: fields["newPassword"] ?? "", confirmation: fields["confirmNewPassword"] ?? "", ip: context.clientAddress,
            userAgent: request.headers[.userAgent])
        switch outcome {
        case .success(let done):
            if json {
                var body: JSONObject = ["message": "Your password has been reset successfully."]
                if let url = done.redirectURL { body["result_url"] = .string(url) }
                return HTTPOutput.json(body)
            }
            if let url = done.redirectURL {
                return Response(status: .found, headers: [.location: url])
            }
            let link = done.loginURL.map { ($0, "Continue to \(done.clientName ?? "the application")") }
            return try await render(messagePage(.ok, title: "Your password has been set", paragraphs: [
                "Your password has been changed successfully. You can now sign in with it.",
            ], link: link), request: request)
        case .failure(let failure):
            return try await resetFailure(failure, request: request, token: token, fields: fields, json: json)
        }
    }

    func resetFailure(_ failure: PasswordResetFailure, request: Request, token: String, fields: [String: String], json: Bool) async throws -> Response {
        var status = HTTPResponse.Status.badRequest
        var name = "BadRequestError"
        var messages: [String]
        switch failure {
        case .ticket(let problem):
            if json {
                let text = problem == .expired ? "This ticket was expired." : problem == .invalid ? "This ticket is not valid." : "This ticket was already used."
                return HTTPOutput.json(["name": "InvalidTicketError", "message": .string(text), "code": .string(problem.rawValue)],
                                       status: problem == .invalid ? .notFound : .gone)
            }
            return try await render(problemPage(problem, token: token), request: request)
        case .passwordMissing:
            messages = ["Enter a new password."]
        case .passwordMismatch:
            messages = ["Passwords don't match"]
        case .policy(let error):
            name = error.name
            messages = [error.message] + error.failedRules.map(\.rule.summary)
        case .resultURLNotAllowed(let url):
            status = .badRequest
            if json { return HTTPOutput.json(["name": "InvalidResultURL", "message": .string("The result URL \(url) is not allowed for this application")], status: status) }
            return try await render(messagePage(.badRequest, title: "This link cannot be completed", paragraphs: [
                "The application this link returns you to (\(url)) is not on the list of addresses it is allowed to use, so your password was not changed.",
                "Please contact the application's support; the link keeps working once they fix its settings.",
            ]), request: request)
        }
        if json { return HTTPOutput.json(["name": .string(name), "message": .string(messages.joined(separator: " "))], status: status) }
        guard case .success(let state) = try await services.passwordResets.open(token: token) else {
            return try await render(problemPage(.invalid, token: token), request: request)
        }
        var query: [String: String] = [:]
        if let type = fields["type"] { query["type"] = type }
        return try await render(try await resetForm(state, query: query, token: token, errors: messages, status: status), request: request)
    }

    // MARK: /lo/reset/resend

    func resend(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let fields = try await HTTPInput.fields(request)
        guard csrfValid(request, field: fields["_csrf"]) else {
            return try await render(messagePage(.forbidden, title: "Please try again", paragraphs: [
                "This form has expired or was not sent from this page. Open the link from your email again and resubmit.",
            ]), request: request)
        }
        var email: String?
        var connection = fields["connection"] ?? Connection.defaultDatabaseName
        var clientID: String?
        if let token = fields["ticket"], let (ticket, user) = try await services.passwordResets.ticketOwner(token: token) {
            email = user.email
            connection = user.connection
            clientID = ticket.clientID
        } else if let given = fields["email"], !given.isEmpty {
            email = given
        }
        guard let email else {
            return try await render(messagePage(.badRequest, title: "This link is not valid", paragraphs: ["Enter your email address and we will send you a new link."],
                                                resend: ["ask_email": true], errors: ["Enter your email address."]), request: request)
        }
        do {
            _ = try services.passwordResets.request(email: email, connection: connection, clientID: clientID, ip: context.clientAddress,
                                                    userAgent: request.headers[.userAgent], language: request.headers[.acceptLanguage])
        } catch let error as UsherError where error.kind == .rateLimited {
            return try await render(messagePage(.tooManyRequests, title: "Too many requests", paragraphs: [
                "You have asked for too many emails. Wait a few minutes and try again.",
            ]), request: request)
        } catch let error as UsherError where error.kind == .invalidInput {
            return try await render(messagePage(.badRequest, title: "This link is not valid", paragraphs: ["Enter your email address and we will send you a new link."],
                                                resend: ["ask_email": true], errors: ["That does not look like an email address."]), request: request)
        }
        return try await render(messagePage(.ok, title: "Check your email", paragraphs: [
            "If an account exists for that address, we've sent a new link. It can take a minute to arrive; check your spam folder too.",
        ]), request: request)
    }

    // MARK: /lo/verify_email

    func showVerify(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let token = HTTPInput.query(request)["ticket"] ?? ""
        switch try await services.emailVerification.open(token: token) {
        case .failure(let problem):
            return try await render(verifyProblem(problem), request: request)
        case .success(let (_, user)):
            return try await render(messagePage(.ok, title: "Confirm your email address", paragraphs: ["Confirm that \(user.email ?? "this address") is yours."],
                                                confirm: ["action": "/lo/verify_email", "ticket": .string(token), "label": "Confirm my email address"]),
                                    request: request)
        }
    }

    func verifyProblem(_ problem: TicketProblem) -> Page {
        switch problem {
        case .invalid: messagePage(.notFound, title: "This link is not valid", paragraphs: ["The link may be incomplete or copied wrongly."])
        case .expired: messagePage(.gone, title: "This link has expired", paragraphs: ["Ask the application to send you a new verification email."])
        case .used, .superseded: messagePage(.gone, title: "This link has already been used", paragraphs: ["Your address may already be verified."])
        }
    }

    func submitVerify(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let fields = try await HTTPInput.fields(request)
        guard csrfValid(request, field: fields["_csrf"]) else {
            return try await render(messagePage(.forbidden, title: "Please try again", paragraphs: ["Open the link from your email again and resubmit."]),
                                    request: request)
        }
        switch try await services.emailVerification.confirm(token: fields["ticket"] ?? "", ip: context.clientAddress, userAgent: request.headers[.userAgent]) {
        case .failure(let problem):
            return try await render(verifyProblem(problem), request: request)
        case .success(let (_, redirect)):
            if let redirect { return Response(status: .found, headers: [.location: redirect]) }
            return try await render(messagePage(.ok, title: "Your email address is verified", paragraphs: ["You can continue using the application."]),
                                    request: request)
        }
    }
}
