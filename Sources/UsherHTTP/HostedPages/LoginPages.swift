import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UsherCore
import UsherJSON
import UsherLiquid

/// A login transaction being shown or submitted: what the form needs to be shown again.
struct LoginForm: Sendable {
    var state: String
    var authorization: AuthorizationRequest
    var client: Client
    var username: String
}

/// `/authorize`, the hosted login page (`/u/login`) and logout (`/v2/logout`).
extension HostedPagesController {
    static let sessionCookie = "usher_session"
    static let loginTitle = "Sign in"

    var loginRoutes: RouteCollection<UsherRequestContext> {
        let pages = self
        let routes = RouteCollection(context: UsherRequestContext.self)
        routes.get("authorize") { request, context in try await pages.authorize(request, context) }
        routes.get("u/login") { request, context in try await pages.showLogin(request, context) }
        routes.post("u/login") { request, context in try await pages.submitLogin(request, context) }
        routes.get("v2/logout") { request, context in try await pages.logout(request, context) }
        return routes
    }

    /// The session cookie for `value`, or the one that clears it. `SameSite=Lax`: single sign-on arrives as a
    /// top-level navigation from the application's site.
    func makeSessionCookie(_ value: String?) -> Cookie {
        Cookie(
            name: Self.sessionCookie, value: value ?? "", maxAge: value == nil ? 0 : Int(services.login.lifetimes.session), path: "/", secure: isHTTPS,
            httpOnly: true, sameSite: .lax)
    }

    func redirect(_ location: String, cookies: [Cookie] = []) -> Response {
        var response = Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    // MARK: /authorize

    func authorize(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let login = services.login
        switch try await login.validateAuthorize(HTTPInput.query(request)) {
        case .failure(.page(let title, let message)):
            throw HostedPageError.authorizeRefused(title: title, message: message)
        case .failure(.redirect(let location)):
            return redirect(location)
        case .success(let (authorization, client)):
            if authorization.prompt != "login", let user = try await login.sessionUser(request.cookies[Self.sessionCookie]?.value) {
                // Single sign-on: an existing session skips the form; Actions still run for this application.
                let connection = try await services.store.connection(name: user.connection)
                if let connection {
                    return try await finish(
                        user: user, connection: connection, client: client, authorization: authorization, request: request, context: context,
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
        PostLoginContext(
            client: client, flow: "oidc-basic-profile", scope: authorization.scope, audience: authorization.audience,
            redirectURI: authorization.redirectURI, state: authorization.state, ip: context.clientAddress,
            userAgent: request.headers[.userAgent])
    }

    /// After a successful password check or with a live session: Actions, then the code back to the application.
    func finish(
        user: User, connection: Connection, client: Client, authorization: AuthorizationRequest, request: Request, context: UsherRequestContext,
        newSession: String?, actionsRunAhead: Task<PostLoginOutcome?, Never>? = nil
    ) async throws -> Response {
        let login = services.login
        let cookies = newSession.map { [makeSessionCookie($0)] } ?? []
        switch try await login.finishLogin(
            user: user, connection: connection,
            context: actionsContext(authorization, client: client, request: request, context: context),
            actionsRunAhead: actionsRunAhead)
        {
        case .failure(.denied(let reason)):
            return redirect(authorization.redirect([("error", "access_denied"), ("error_description", reason)]), cookies: cookies)
        case .failure(.actionFailed(let message)):
            throw HostedPageError.actionFailed(message, clientName: client.name, cookies: cookies)
        case .success(let completed):
            let code = try await login.issueCode(for: authorization, login: completed)
            return redirect(authorization.redirect([("code", code)]), cookies: cookies)
        }
    }

    // MARK: /u/login

    func loginPage(_ request: Request, _ form: LoginForm, errors: [String] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        let (state, client) = (form.state, form.client)
        let csrf = self.csrf.token(for: request)
        let widgetGlobals: JSONObject = [
            "title": .string(Self.loginTitle), "application_name": .string(client.name), "state": .string(state), "csrf_token": .string(csrf.token),
            "username": .string(form.username), "errors": .array(errors.map(JSONValue.string)), "forgot_url": "/lo/reset/request",
        ]
        let widget: String
        do { widget = try LoginPageTemplates.parsedWidget.render(LiquidContext(hash: widgetGlobals.liquidValue)) } catch {
            throw HostedPageError.templateFailed(.loginForm, error.description)
        }
        var page = LoginPageTemplates.parsedDefaultPage
        var strict = true
        if let custom = try await services.tenant.settings().object["universal_login_template"]?.stringValue,
            let parsed = try? LiquidTemplate.parse(custom, name: "universal-login")
        {
            page = parsed
            strict = false
        }
        let tenant = try await services.tenant.settings()
        let globals: JSONObject = [
            "locale": "en", "state": .string(state),
            "application": ["id": .string(client.clientID), "name": .string(client.name), "metadata": .object(client.clientMetadata)],
            "tenant": [
                "friendly_name": tenant.object["friendly_name"] ?? .null, "support_email": tenant.object["support_email"] ?? .null,
                "support_url": tenant.object["support_url"] ?? .null,
            ],
            "prompt": ["name": "login", "screen": ["name": "login", "texts": ["title": .string(Self.loginTitle)]]],
        ]
        let html: String
        do {
            html = try page.render(LiquidContext(hash: globals.liquidValue, slots: ["auth0:head": LoginPageTemplates.head, "auth0:widget": widget]))
        } catch {
            throw HostedPageError.templateFailed(.loginPage, error.description)
        }
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        if strict {
            headers[.contentSecurityPolicy] =
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; base-uri 'none'; frame-ancestors 'none'"
        }
        var response = Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        response.setCookie(self.csrf.cookie(csrf.cookie))
        return response
    }

    /// The login transaction a `state` seals, if it is still good and its application still accepts its redirect URI.
    func openLogin(_ state: String?, username: String? = nil) async throws -> LoginForm? {
        guard let state, let authorization = services.login.openTransaction(state),
            let client = try await services.store.client(id: authorization.clientID), client.callbacks.contains(authorization.redirectURI)
        else { return nil }
        return LoginForm(state: state, authorization: authorization, client: client, username: username ?? authorization.loginHint ?? "")
    }

    func showLogin(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        guard let form = try await openLogin(HTTPInput.query(request)["state"]) else { throw HostedPageError.loginExpired }
        return try await loginPage(request, form)
    }

    func submitLogin(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let fields = try await HTTPInput.fields(request)
        guard let form = try await openLogin(fields["state"], username: fields["username"] ?? "") else { throw HostedPageError.loginExpired }
        let (authorization, client) = (form.authorization, form.client)
        let login = services.login
        switch try await login.authenticate(
            identifier: form.username, password: fields["password"] ?? "", connection: authorization.connection,
            clientID: client.clientID, ip: context.clientAddress, userAgent: request.headers[.userAgent],
            actionsContext: actionsContext(authorization, client: client, request: request, context: context))
        {
        case .failure(let failure):
            throw HostedPageError.loginRefused(failure, form)
        case .success(let authentication):
            let session = try await login.createSession(for: authentication.user, ip: context.clientAddress, userAgent: request.headers[.userAgent])
            return try await finish(
                user: authentication.user, connection: authentication.connection, client: client, authorization: authorization,
                request: request, context: context, newSession: session, actionsRunAhead: authentication.actionsRunAhead)
        }
    }

    // MARK: /v2/logout

    func logout(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let query = HTTPInput.query(request)
        try await services.login.endSession(request.cookies[Self.sessionCookie]?.value)
        let clearing = makeSessionCookie(nil)
        if let returnTo = query["returnTo"], !returnTo.isEmpty {
            var candidates: [Client] = []
            if let clientID = query["client_id"] {
                if let client = try await services.store.client(id: clientID) { candidates = [client] }
            } else {
                candidates = try await services.store.listClients()
            }
            let allowed = candidates.contains { client in client.allowedLogoutURLs.contains { TicketService.comparisonKeyMatches($0, returnTo) } }
            guard allowed else { throw HostedPageError.logoutReturnRefused(returnTo: returnTo, cookies: [clearing]) }
            return redirect(returnTo, cookies: [clearing])
        }
        var response = try await render(messagePage(.ok, title: "You have signed out", paragraphs: ["You can close this window."]), request: request)
        response.setCookie(clearing)
        return response
    }
}
