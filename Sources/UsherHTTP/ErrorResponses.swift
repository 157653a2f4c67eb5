import Hummingbird
import Logging
import UsherCore
import UsherJSON

// The one place an error becomes a status code and a body: the APIs' JSON errors here, the hosted pages'
// HTML errors below. Handlers and Core only throw; nothing else in UsherHTTP picks an error status.

/// Renders the errors of an API's routes in that API's shape.
///
/// Management API errors use Auth0's `{statusCode, error, message, errorCode}`; Authentication API (OAuth)
/// errors use `{error, error_description}`; for both, anything that is not an `UsherError` is a bug or an outage:
/// it is logged with the request id and answered with a generic 500 that reveals nothing. The other styles render
/// only the errors their endpoint has always answered and let the rest through unchanged.
public struct APIErrorMiddleware: RouterMiddleware {
    public typealias Context = UsherRequestContext

    public enum Style: Sendable {
        /// `/api/v2`.
        case management
        /// `/oauth/token`, `/oauth/revoke`, `/dbconnections/change_password`.
        case oauth
        /// `/dbconnections/signup`: Auth0's `{name, code, description, statusCode}`; other failures are not its to render.
        case signup
        /// `/userinfo`: a bearer-token resource (RFC 6750), so refusals are `invalid_token` with `WWW-Authenticate`.
        case userinfo
        /// `/health`: load balancers read the status; the body says which dependency is down.
        case health
        /// `/dev/mail/:id`: the development mailbox's own HTML page.
        case devMailbox
    }
    let style: Style

    public init(style: Style) { self.style = style }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch style {
        case .management, .oauth: break
        case .signup:
            do { return try await next(request, context) } catch let error as SignupError {
                return Self.signupResponse(error)
            } catch let error as UsherError where error.kind == .invalidInput || error.kind == .payloadTooLarge {
                return Self.signupResponse(SignupError(code: "invalid_signup", description: .string(error.message)))
            }
        case .userinfo:
            do { return try await next(request, context) } catch let error as UsherError where error.kind == .unauthorized {
                return HTTPOutput.json(
                    ["error": "invalid_token", "error_description": .string(error.message)], status: .unauthorized,
                    headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
            }
        case .health:
            do { return try await next(request, context) } catch let error as UsherError where error.kind == .unavailable {
                return HTTPOutput.json(["status": "unavailable", "database": "unreachable"], status: .serviceUnavailable)
            }
        case .devMailbox:
            do { return try await next(request, context) } catch let error as UsherError where error.kind == .notFound {
                return DevMailboxController.page(
                    title: "Not found", body: "<p>No such message. <a href=\"/dev/mail\">Back to the mailbox</a></p>",
                    status: .notFound)
            }
        }
        do {
            return try await next(request, context)
        } catch let error as UsherError {
            return render(error)
        } catch let error as HTTPError {
            // Hummingbird's own errors (unsupported method, body too large …), reshaped.
            let kind: UsherError.Kind =
                switch error.status.code {
                case 413: .payloadTooLarge
                case 404: .notFound
                case 401: .unauthorized
                default: .invalidInput
                }
            return render(UsherError(kind, error.body ?? error.status.reasonPhrase), status: error.status)
        } catch {
            context.logger.error("Unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return render(UsherError(.internalFailure, "Internal Server Error"))
        }
    }

    static func status(for kind: UsherError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalidInput: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .rateLimited: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .internalFailure: .internalServerError
        }
    }

    /// Auth0's Management API error body; also each failed row of a list request.
    static func managementBody(_ error: UsherError, status explicit: HTTPResponse.Status? = nil) -> JSONObject {
        let status = explicit ?? Self.status(for: error.kind)
        var body: JSONObject = [
            "statusCode": .int(Int64(status.code)),
            "error": .string(status.reasonPhrase),
            "message": .string(error.message),
        ]
        if let code = error.errorCode { body["errorCode"] = .string(code) }
        if status == .unauthorized { body["attributes"] = ["error": .string(error.message)] }
        return body
    }

    func render(_ error: UsherError, status explicit: HTTPResponse.Status? = nil) -> Response {
        let status = explicit ?? Self.status(for: error.kind)
        var headers: HTTPFields = [:]
        if status == .unauthorized, style == .management { headers[.wwwAuthenticate] = "Bearer" }
        switch style {
        case .management:
            return HTTPOutput.json(Self.managementBody(error, status: status), status: status, headers: headers)
        case .oauth, .signup, .userinfo, .health, .devMailbox:
            // Only `.oauth` gets here: the other styles render their own errors and let the rest through.
            let code = error.errorCode ?? Self.oauthCode(for: error.kind)
            return HTTPOutput.json(["error": .string(code), "error_description": .string(error.message)], status: status, headers: headers)
        }
    }

    static func oauthCode(for kind: UsherError.Kind) -> String {
        switch kind {
        case .invalidInput: "invalid_request"
        case .unauthorized, .forbidden: "access_denied"
        case .rateLimited: "too_many_requests"
        case .notFound: "not_found"
        default: "server_error"
        }
    }

    /// A refused sign-up: 400 `BadRequestError` unless the policy names the failure, 429 when rate-limited.
    static func signupResponse(_ error: SignupError) -> Response {
        let (status, name): (HTTPResponse.Status, String) =
            switch error.kind {
            case .refused: (.badRequest, "BadRequestError")
            case .rateLimited: (.tooManyRequests, "TooManyRequestsError")
            }
        var object: JSONObject = ["name": .string(error.name ?? name), "code": .string(error.code), "description": error.description]
        if let message = error.message { object["message"] = .string(message) }
        if let policy = error.policy { object["policy"] = .string(policy) }
        object["statusCode"] = .int(Int64(status.code))
        return HTTPOutput.json(object, status: status)
    }
}

// MARK: hosted pages

/// Why a hosted page is not the page that was asked for, with what its error page needs to say so.
enum HostedPageError: Error, Sendable {
    /// A form whose CSRF token does not match the browser's cookie; `fields` are what was submitted.
    case forgedForm(fields: [String: String])
    /// `/lo/reset`: a link that cannot be used.
    case unusableResetLink(TicketProblem, token: String)
    /// `/lo/verify_email`: a link that cannot be used.
    case unusableVerificationLink(TicketProblem)
    /// `/lo/reset` (POST): the password was not set.
    case resetRefused(PasswordResetFailure, token: String, fields: [String: String])
    /// `/lo/reset/resend` with neither a ticket nor an address.
    case resendWithoutEmail
    /// `/lo/reset/resend`: asking for a new link was refused (kinds other than rate limits and bad addresses are not a page's to explain).
    case resendRefused(UsherError)
    /// `/authorize` with a request whose redirect URI cannot be trusted, so the error cannot go back to the application.
    case authorizeRefused(title: String, message: String)
    /// `/u/login` whose sealed transaction is missing, expired or no longer valid.
    case loginExpired
    /// `/u/login`: the password check failed (a blocked user goes back to the application with an OAuth error).
    case loginRefused(AuthenticationFailure, LoginForm)
    /// A post-login Action failed; `cookies` (a new session) are set all the same.
    case actionFailed(String, clientName: String, cookies: [Cookie])
    /// `/v2/logout` with a `returnTo` no application allows; the session cookie is cleared all the same.
    case logoutReturnRefused(returnTo: String, cookies: [Cookie])
    /// A template could not be rendered, so there is no HTML to show.
    case templateFailed(HostedTemplate, String)
}

/// Which template failed, for the plain-text answer that replaces it.
enum HostedTemplate: Sendable {
    case page, loginForm, loginPage
}

/// Renders `HostedPageError`s as the page a person should see, with its status; other errors pass through.
struct HostedPageErrorMiddleware: RouterMiddleware {
    typealias Context = UsherRequestContext
    let pages: HostedPagesController

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HostedPageError {
            do {
                return try await response(for: error, request: request)
            } catch HostedPageError.templateFailed(let template, let detail) {
                // The error page's own template failed.
                return try await response(for: .templateFailed(template, detail), request: request)
            }
        }
    }

    func response(for error: HostedPageError, request: Request) async throws -> Response {
        switch error {
        case .forgedForm(let fields):
            return try await forgedForm(fields, request: request)
        case .unusableResetLink(let problem, let token):
            return try await pages.render(try await problemPage(problem, token: token, request: request), request: request)
        case .unusableVerificationLink(let problem):
            let page =
                switch problem {
                case .invalid: pages.messagePage(.notFound, title: "This link is not valid", paragraphs: ["The link may be incomplete or copied wrongly."])
                case .expired:
                    pages.messagePage(.gone, title: "This link has expired", paragraphs: ["Ask the application to send you a new verification email."])
                case .used, .superseded, .revoked:
                    pages.messagePage(.gone, title: "This link has already been used", paragraphs: ["Your address may already be verified."])
                }
            return try await pages.render(page, request: request)
        case .resetRefused(let failure, let token, let fields):
            return try await resetRefused(failure, token: token, fields: fields, request: request)
        case .resendWithoutEmail:
            return try await pages.render(try await askEmailPage(request, error: "no-email"), request: request)
        case .resendRefused(let error) where error.kind == .rateLimited:
            let texts = try await pages.resetTexts(request)
            let screen = texts.screen("reset-password", "reset-password-request")
            return try await pages.render(
                pages.messagePage(
                    .tooManyRequests, title: screen["eventTitleTooMany"] ?? "", paragraphs: [screen["descriptionTooMany"] ?? ""], texts: texts),
                request: request)
        case .resendRefused(let error) where error.kind == .invalidInput:
            return try await pages.render(try await askEmailPage(request, error: "invalid-email"), request: request)
        case .resendRefused(let error):
            throw error
        case .authorizeRefused(let title, let message):
            return try await pages.render(pages.messagePage(.badRequest, title: title, paragraphs: [message]), request: request)
        case .loginExpired:
            return try await pages.render(
                pages.messagePage(
                    .badRequest, title: "This sign-in link has expired",
                    paragraphs: [
                        "Go back to the application and start signing in again."
                    ]), request: request)
        case .loginRefused(.wrongCredentials, let form):
            return try await pages.loginPage(request, form, errors: ["Wrong email or password."], status: .unauthorized)
        case .loginRefused(.tooManyAttempts, let form):
            return try await pages.loginPage(
                request, form,
                errors: [
                    "Your account has been blocked after multiple consecutive login attempts. We've sent you an email with instructions on how to unblock it."
                ], status: .tooManyRequests)
        case .loginRefused(.userBlocked, let form):
            // A blocked user is the application's to explain, as Auth0 does.
            return pages.redirect(form.authorization.redirect([("error", "unauthorized"), ("error_description", "user is blocked")]))
        case .actionFailed(let message, let clientName, let cookies):
            var response = try await pages.render(
                pages.messagePage(
                    .badRequest, title: "We could not sign you in",
                    paragraphs: [
                        "A rule of \(clientName) failed while signing you in, so the sign-in was stopped. Try again later or contact the application's support.",
                        "Details: \(message)",
                    ]), request: request)
            for cookie in cookies { response.setCookie(cookie) }
            return response
        case .logoutReturnRefused(let returnTo, let cookies):
            var response = try await pages.render(
                pages.messagePage(
                    .badRequest, title: "You have signed out",
                    paragraphs: [
                        "You are signed out, but we could not take you back: \(returnTo) is not in the application's Allowed Logout URLs."
                    ]), request: request)
            for cookie in cookies { response.setCookie(cookie) }
            return response
        case .templateFailed(let template, let detail):
            let text =
                switch template {
                case .page: "This page could not be shown because its template failed: \(detail)"
                case .loginForm: "The login form could not be rendered: \(detail)"
                case .loginPage: "The login page template failed: \(detail)"
                }
            return HTTPOutput.text(text, status: .internalServerError)
        }
    }

    /// A form that failed the CSRF check: each form says so its own way (the login form is shown again).
    func forgedForm(_ fields: [String: String], request: Request) async throws -> Response {
        var path = Substring(request.uri.path)
        while path.hasSuffix("/") { path = path.dropLast() }
        switch path {
        case "/u/login":
            guard let form = try await pages.openLogin(fields["state"], username: fields["username"] ?? "") else {
                return try await response(for: .loginExpired, request: request)
            }
            return try await pages.loginPage(request, form, errors: ["Your session on this page expired. Please try again."], status: .forbidden)
        case "/lo/verify_email":
            return try await pages.render(
                pages.messagePage(
                    .forbidden, title: "Please try again",
                    paragraphs: [
                        "Open the link from your email again and resubmit."
                    ]), request: request)
        default:
            if path == "/lo/reset", HostedPagesController.wantsJSON(request) {
                return HTTPOutput.json(["name": "ForbiddenError", "message": "Invalid CSRF token", "statusCode": 403], status: .forbidden)
            }
            let texts = try await pages.resetTexts(request)
            let screen = texts.screen("reset-password", "reset-password-error")
            return try await pages.render(
                pages.messagePage(.forbidden, title: screen["eventTitleTryAgain"] ?? "", paragraphs: [screen["descriptionTryAgain"] ?? ""], texts: texts),
                request: request)
        }
    }

    /// "Enter your email address" after a resend without a usable one; `error` is the request screen's key saying why.
    func askEmailPage(_ request: Request, error: String) async throws -> HostedPagesController.Page {
        let texts = try await pages.resetTexts(request)
        let screen = texts.screen("reset-password", "reset-password-request")
        return pages.messagePage(
            .badRequest, title: screen["eventTitleAskEmail"] ?? "", paragraphs: [screen["descriptionAskEmail"] ?? ""], resend: ["ask_email": true],
            errors: [screen[error] ?? ""], texts: texts, screen: "reset-password-request")
    }

    /// The page for a reset link that cannot be used, with "send me a new link", in its owner's language when the
    /// link still names one.
    func problemPage(_ problem: TicketProblem, token: String?, request: Request) async throws -> HostedPagesController.Page {
        var owner: User?
        if problem != .invalid, let token { owner = try await pages.services.passwordResets.ticketOwner(token: token)?.1 }
        let texts = try await pages.resetTexts(request, user: owner)
        let screen = texts.screen("reset-password", "reset-password-error")
        let resendForTicket: JSONObject? = token.map { ["ticket": .string($0)] }
        let (status, name, resend): (HTTPResponse.Status, String, JSONObject?) =
            switch problem {
            case .invalid: (.notFound, "Invalid", ["ask_email": true])
            case .expired: (.gone, "Expired", resendForTicket)
            case .used: (.gone, "Used", resendForTicket)
            case .superseded: (.gone, "Superseded", resendForTicket)
            // No "send me a new link": whoever invited the person withdrew it, and only they can invite again.
            case .revoked: (.gone, "Revoked", nil)
            }
        return pages.messagePage(
            status, title: screen["eventTitle" + name] ?? "", paragraphs: [screen["description" + name] ?? ""], resend: resend, texts: texts)
    }

    /// The reset form after a refused password, shown again with what was wrong (or JSON for the page's script).
    func resetRefused(_ failure: PasswordResetFailure, token: String, fields: [String: String], request: Request) async throws -> Response {
        let json = HostedPagesController.wantsJSON(request)
        let status = HTTPResponse.Status.badRequest
        switch failure {
        case .ticket(let problem):
            if json {
                let text =
                    problem == .expired ? "This ticket was expired." : problem == .invalid ? "This ticket is not valid." : "This ticket was already used."
                return HTTPOutput.json(
                    ["name": "InvalidTicketError", "message": .string(text), "code": .string(problem.rawValue)],
                    status: problem == .invalid ? .notFound : .gone)
            }
            return try await pages.render(try await problemPage(problem, token: token, request: request), request: request)
        case .resultURLNotAllowed(let url):
            if json {
                return HTTPOutput.json(
                    ["name": "InvalidResultURL", "message": .string("The result URL \(url) is not allowed for this application")], status: status)
            }
            return try await pages.render(
                pages.messagePage(
                    .badRequest, title: "This link cannot be completed",
                    paragraphs: [
                        "The application this link returns you to (\(url)) is not on the list of addresses it is allowed to use, so your password was not changed.",
                        "Please contact the application's support; the link keeps working once they fix its settings.",
                    ]), request: request)
        case .passwordMissing, .passwordMismatch, .policy:
            break
        }
        /// What was wrong, in the words of the reset screen's `texts` (the policy's own English where a language has none).
        func messages(_ texts: [String: String]) -> [String] {
            switch failure {
            case .passwordMissing: [texts["no-password"] ?? ""]
            case .passwordMismatch: [texts["password-mismatch"] ?? ""]
            case .policy(let error): [texts["error-\(error.kind)"] ?? error.message] + error.failedRules.map { $0.rule.summary(templates: texts) }
            case .ticket, .resultURLNotAllowed: []
            }
        }
        if json {
            // The page script's (and Auth0's widget's) answer stays in English: it shows its own texts.
            let name = if case .policy(let error) = failure { error.name } else { "BadRequestError" }
            let english = messages(BuiltInPromptTexts.texts(prompt: "reset-password", screen: "reset-password", language: "en"))
            return HTTPOutput.json(["name": .string(name), "message": .string(english.joined(separator: " "))], status: status)
        }
        guard case .success(let state) = try await pages.services.passwordResets.open(token: token) else {
            return try await pages.render(try await problemPage(.invalid, token: token, request: request), request: request)
        }
        let screen = try await pages.resetTexts(request, user: state.user, client: state.client).screen("reset-password", "reset-password")
        var query: [String: String] = [:]
        if let type = fields["type"] { query["type"] = type }
        return try await pages.render(
            try await pages.resetForm(state, query: query, token: token, errors: messages(screen), status: status, request: request), request: request)
    }
}

/// What the dashboard's handlers throw besides `UsherError`.
enum AdminPageError: Error, Sendable {
    /// A form posted without this browser's CSRF token.
    case forgedForm
    /// The signed-in administrator lacks the scope the page or action needs.
    case forbidden(scope: String)
}

/// Renders the dashboard's errors as dashboard pages: a readable title and what to do, with the status the API
/// would answer; anything unexpected is logged with the request id and shown as a generic failure.
struct AdminPageErrorMiddleware: RouterMiddleware {
    typealias Context = UsherRequestContext
    let dashboard: AdminDashboardController

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch AdminPageError.forgedForm {
            return page(.forbidden, "This form has expired", "Go back, reload the page and try again.", request: request)
        } catch AdminPageError.forbidden(let scope) {
            return page(.forbidden, "Not allowed", "Your administrator account may not do this (it needs the \(scope) scope).", request: request)
        } catch let error as UsherError {
            if error.kind == .internalFailure || error.kind == .unavailable {
                context.logger.error("Dashboard request failed", metadata: ["error": "\(error)"])
            }
            let title =
                switch error.kind {
                case .notFound: "Not found"
                case .conflict: "That cannot be done now"
                case .invalidInput, .payloadTooLarge: "That did not work"
                case .rateLimited: "Too many requests"
                default: "Something went wrong"
                }
            return page(APIErrorMiddleware.status(for: error.kind), title, error.message, request: request)
        } catch let error as HTTPError {
            throw error
        } catch {
            context.logger.error("Unhandled dashboard error", metadata: ["error": "\(String(reflecting: error))"])
            return page(.internalServerError, "Something went wrong", "The server could not finish this. Try again in a moment.", request: request)
        }
    }

    func page(_ status: HTTPResponse.Status, _ title: String, _ message: String, request: Request) -> Response {
        let body: HTML = """
            <div class="panel"><h1>\(title)</h1><p>\(message)</p>
            <p><a href="/admin">Back to the dashboard</a></p></div>
            """
        return dashboard.page(title, body, status: status, context: nil, csrfForSignedOut: dashboard.csrf.token(for: request))
    }
}
