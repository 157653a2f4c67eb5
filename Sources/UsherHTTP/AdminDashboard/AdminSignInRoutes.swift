import Hummingbird
import UsherCore

/// `/admin/login` and `/admin/logout`: the only dashboard pages reachable without a session.
struct AdminSignInRoutes: Sendable {
    let services: UsherServices
    let dashboard: AdminDashboardController

    func register(on group: RouterGroup<UsherRequestContext>) {
        group.get("login") { request, _ in
            if try await dashboard.signedIn(request) != nil {
                return AdminDashboardController.redirect(AdminDashboardController.safeNext(request.uri.queryParameters["next"].map(String.init)))
            }
            return signInPage(request, next: request.uri.queryParameters["next"].map(String.init), email: "", error: nil)
        }
        group.post("login") { request, context in
            let fields = try await HTTPInput.fields(request)
            let email = String((fields["email"] ?? "").prefix(254))
            let outcome = try await services.admins.signIn(
                email: email, password: String((fields["password"] ?? "").prefix(1_024)), ip: context.clientAddress,
                userAgent: request.headers[.userAgent].map { String($0.prefix(512)) })
            switch outcome {
            case .success(let (cookie, _)):
                return AdminDashboardController.redirect(AdminDashboardController.safeNext(fields["next"]), cookies: [dashboard.sessionCookie(cookie)])
            case .failure(.wrongCredentials):
                return signInPage(request, next: fields["next"], email: email, error: "Wrong email or password.", status: .unauthorized)
            case .failure(.tooManyAttempts):
                return signInPage(
                    request, next: fields["next"], email: email,
                    error: "Too many failed attempts for this address from your network. Try again in 15 minutes.", status: .tooManyRequests)
            }
        }
        group.post("logout") { request, _ in
            try await services.admins.signOut(cookie: request.cookies[AdminDashboardController.sessionCookie]?.value)
            return AdminDashboardController.redirect("/admin/login?signed_out=1", cookies: [dashboard.sessionCookie(nil)])
        }
    }

    func signInPage(_ request: Request, next: String?, email: String, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let csrf = dashboard.csrf.token(for: request)
        let signedOut = request.uri.queryParameters["signed_out"] != nil && error == nil
        let body: HTML = """
            <div class="panel">
            <h1>Sign in to Usher</h1>
            \(AdminLayout.notice(signedOut ? "You are signed out." : nil, ok: true))\(AdminLayout.notice(error, ok: false))
            <form method="post" action="/admin/login">
            \(AdminLayout.csrfField(csrf.token))
            <input type="hidden" name="next" value="\(AdminDashboardController.safeNext(next))">
            <label for="email">Email</label>
            <input type="email" id="email" name="email" value="\(email)" autocomplete="email" required autofocus>
            <label for="password">Password</label>
            <input type="password" id="password" name="password" autocomplete="current-password" required>
            <button type="submit" id="sign-in">Sign in</button>
            </form>
            </div>
            """
        return dashboard.page("Sign in", body, status: status, context: nil, csrfForSignedOut: csrf)
    }
}
