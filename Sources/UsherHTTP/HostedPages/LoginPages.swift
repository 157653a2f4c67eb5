import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UsherCore
import UsherLiquid
import UsherJSON

/// `/authorize`, the hosted login page (`/u/login`), logout (`/v2/logout`) and "forgot password" (`/lo/reset/request`).
extension HostedPagesController {
    static let sessionCookie = "usher_session"
    static let loginTitle = "Sign in"

    func registerLogin(on router: Router<UsherRequestContext>) {
        let pages = self
        router.get("authorize") { request, context in try await pages.authorize(request, context) }
        router.get("u/login") { request, context in try await pages.showLogin(request, context) }
        router.post("u/login") { request, context in try await pages.submitLogin(request, context) }
        router.get("v2/logout") { request, context in try await pages.logout(request, context) }
        router.get("lo/reset/request") { request, _ in
            try await pages.render(pages.messagePage(.ok, title: "Forgot your password?", paragraphs: [
                "Enter your email address and we will send you a link to choose a new password.",
            ], resend: ["ask_email": true]), request: request)
        }
    }

    static func cookie(_ name: String, in request: Request) -> String? { cookies(name, in: request).first }

    func sessionCookieHeader(_ value: String?) -> String {
        guard let value else {
            return "\(Self.sessionCookie)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" + (isHTTPS ? "; Secure" : "")
        }
        return "\(Self.sessionCookie)=\(value); Path=/; HttpOnly; SameSite=Lax; Max-Age=\(Int(LoginService.sessionLifetime))" + (isHTTPS ? "; Secure" : "")
    }

    func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .found, headers: headers)
    }

    // MARK: /authorize

    func authorize(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let login = services.login
        switch try await login.validateAuthorize(HTTPInput.query(request)) {
        case .failure(.page(let title, let message)):
            return try await render(messagePage(.badRequest, title: title, paragraphs: [message]), request: request)
        case .failure(.redirect(let location)):
            return redirect(location)
        case .success(let (authorization, client)):
            if authorization.prompt != "login", let user = try await login.sessionUser(Self.cookie(Self.sessionCookie, in: request)) {
                // Single sign-on: an existing session skips the form; Actions still run for this application.
                let connection = try await services.store.connection(name: user.connection)
                if let connection {
                    return try await finish(user: user, connection: connection, client: client, authorization: authorization, request: request, context: context,
                                            newSession: nil)
                }
            }
            if authorization.prompt == "none" {
                return redirect(authorization.redirect([("error", "login_required"), ("error_description", "Login required")]))
            }
            return redirect("/u/login?state=" + login.sealTransaction(authorization))
        }
    }

    /// What the post-login Actions of this authorization request are told besides the user.
    func actionsContext(_ authorization: AuthorizationRequest, client: Client, request: Request, context: UsherRequestContext) -> PostLoginContext {
        PostLoginContext(client: client, flow: "oidc-basic-profile", scope: authorization.scope, audience: authorization.audience,
                         redirectURI: authorization.redirectURI, state: authorization.state, ip: context.clientAddress,
                         userAgent: request.headers[.userAgent])
    }

    /// After a successful password check or with a live session: Actions, then the code back to the application.
    func finish(user: User, connection: Connection, client: Client, authorization: AuthorizationRequest, request: Request, context: UsherRequestContext,
                newSession: String?, actionsRunAhead: Task<PostLoginOutcome?, Never>? = nil) async throws -> Response {
        let login = services.login
        let cookies = newSession.map { [sessionCookieHeader($0)] } ?? []
        switch try await login.finishLogin(user: user, connection: connection,
                                           context: actionsContext(authorization, client: client, request: request, context: context),
                                           actionsRunAhead: actionsRunAhead) {
        case .failure(.denied(let reason)):
            return redirect(authorization.redirect([("error", "access_denied"), ("error_description", reason)]), cookies: cookies)
        case .failure(.actionFailed(let message)):
            var response = try await render(messagePage(.badRequest, title: "We could not sign you in", paragraphs: [
                "A rule of \(client.name) failed while signing you in, so the sign-in was stopped. Try again later or contact the application's support.",
                "Details: \(message)",
            ]), request: request)
            for cookie in cookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
            return response
        case .success(let completed):
            let code = try await login.issueCode(for: authorization, login: completed)
            return redirect(authorization.redirect([("code", code)]), cookies: cookies)
        }
    }

    // MARK: /u/login

    func loginPage(_ request: Request, state: String, authorization: AuthorizationRequest, client: Client, username: String, errors: [String],
                   status: HTTPResponse.Status) async throws -> Response {
        let csrf = self.csrf(for: request)
        let widgetGlobals: JSONObject = [
            "title": .string(Self.loginTitle), "application_name": .string(client.name), "state": .string(state), "csrf_token": .string(csrf.token),
            "username": .string(username), "errors": .array(errors.map(JSONValue.string)), "forgot_url": "/lo/reset/request",
        ]
        let widget: String
        do { widget = try LoginPageTemplates.parsedWidget.render(LiquidContext(hash: widgetGlobals.liquidValue)) } catch {
            return HTTPOutput.text("The login form could not be rendered: \(error.description)", status: .internalServerError)
        }
        var page = LoginPageTemplates.parsedDefaultPage
        var strict = true
        if let custom = try await services.tenant.settings().object["universal_login_template"]?.stringValue,
           let parsed = try? LiquidTemplate.parse(custom, name: "universal-login") {
            page = parsed
            strict = false
        }
        let tenant = try await services.tenant.settings()
        let globals: JSONObject = [
            "locale": "en", "state": .string(state),
            "application": ["id": .string(client.clientID), "name": .string(client.name), "metadata": .object(client.clientMetadata)],
            "tenant": ["friendly_name": tenant.object["friendly_name"] ?? .null, "support_email": tenant.object["support_email"] ?? .null,
                       "support_url": tenant.object["support_url"] ?? .null],
            "prompt": ["name": "login", "screen": ["name": "login", "texts": ["title": .string(Self.loginTitle)]]],
        ]
        let html: String
        do {
            html = try page.render(LiquidContext(hash: globals.liquidValue, slots: ["auth0:head": LoginPageTemplates.head, "auth0:widget": widget]))
        } catch {
            return HTTPOutput.text("The login page template failed: \(error.description)", status: .internalServerError)
        }
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .setCookie: cookieHeader(csrf.cookie)]
        if strict {
            headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; base-uri 'none'; frame-ancestors 'none'"
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func openLogin(_ state: String?, request: Request) async throws -> (AuthorizationRequest, Client)? {
        guard let state, let authorization = services.login.openTransaction(state),
              let client = try await services.store.client(id: authorization.clientID), client.callbacks.contains(authorization.redirectURI) else { return nil }
        return (authorization, client)
    }

    func expiredLogin(_ request: Request) async throws -> Response {
        try await render(messagePage(.badRequest, title: "This sign-in link has expired", paragraphs: [
            "Go back to the application and start signing in again.",
        ]), request: request)
    }

    func showLogin(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let state = HTTPInput.query(request)["state"]
        guard let state, let (authorization, client) = try await openLogin(state, request: request) else { return try await expiredLogin(request) }
        return try await loginPage(request, state: state, authorization: authorization, client: client, username: authorization.loginHint ?? "",
                                   errors: [], status: .ok)
    }

    func submitLogin(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let fields = try await HTTPInput.fields(request)
        guard let state = fields["state"], let (authorization, client) = try await openLogin(state, request: request) else {
            return try await expiredLogin(request)
        }
        let username = fields["username"] ?? ""
        guard csrfValid(request, field: fields["_csrf"]) else {
            return try await loginPage(request, state: state, authorization: authorization, client: client, username: username,
                                       errors: ["Your session on this page expired. Please try again."], status: .forbidden)
        }
        let login = services.login
        switch try await login.authenticate(identifier: username, password: fields["password"] ?? "", connection: authorization.connection,
                                            clientID: client.clientID, ip: context.clientAddress, userAgent: request.headers[.userAgent],
                                            actionsContext: actionsContext(authorization, client: client, request: request, context: context)) {
        case .failure(.wrongCredentials):
            return try await loginPage(request, state: state, authorization: authorization, client: client, username: username,
                                       errors: ["Wrong email or password."], status: .unauthorized)
        case .failure(.tooManyAttempts):
            return try await loginPage(request, state: state, authorization: authorization, client: client, username: username, errors: [
                "Your account has been blocked after multiple consecutive login attempts. We've sent you an email with instructions on how to unblock it.",
            ], status: .tooManyRequests)
        case .failure(.userBlocked):
            return redirect(authorization.redirect([("error", "unauthorized"), ("error_description", "user is blocked")]))
        case .success(let authentication):
            let session = try await login.createSession(for: authentication.user, ip: context.clientAddress, userAgent: request.headers[.userAgent])
            return try await finish(user: authentication.user, connection: authentication.connection, client: client, authorization: authorization,
                                    request: request, context: context, newSession: session, actionsRunAhead: authentication.actionsRunAhead)
        }
    }

    // MARK: /v2/logout

    func logout(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let query = HTTPInput.query(request)
        try await services.login.endSession(Self.cookie(Self.sessionCookie, in: request))
        let clearing = [sessionCookieHeader(nil)]
        if let returnTo = query["returnTo"], !returnTo.isEmpty {
            var candidates: [Client] = []
            if let clientID = query["client_id"] {
                if let client = try await services.store.client(id: clientID) { candidates = [client] }
            } else {
                candidates = try await services.store.listClients()
            }
            let allowed = candidates.contains { client in client.allowedLogoutURLs.contains { TicketService.comparisonKeyMatches($0, returnTo) } }
            guard allowed else {
                var response = try await render(messagePage(.badRequest, title: "You have signed out", paragraphs: [
                    "You are signed out, but we could not take you back: \(returnTo) is not in the application's Allowed Logout URLs.",
                ]), request: request)
                response.headers.append(HTTPField(name: .setCookie, value: clearing[0]))
                return response
            }
            return redirect(returnTo, cookies: clearing)
        }
        var response = try await render(messagePage(.ok, title: "You have signed out", paragraphs: ["You can close this window."]), request: request)
        response.headers.append(HTTPField(name: .setCookie, value: clearing[0]))
        return response
    }
}
