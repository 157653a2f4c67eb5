import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import UsherApp
import UsherCore
import UsherJSON
import UsherTesting

/// A browser for the dashboard: keeps every cookie it is given (CSRF and session) and sends them back.
struct AdminBrowser {
    var cookies: [String: String] = [:]
    /// The CSRF token of the last page that had a form.
    var csrf: String?

    mutating func remember(_ response: TestResponse) {
        for header in response.headers[values: .setCookie] {
            guard let pair = header.split(separator: ";").first, let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            if value.isEmpty { cookies[name] = nil } else { cookies[name] = value }
        }
        if let token = PageSession.field("_csrf", in: String(buffer: response.body)) { csrf = token }
    }

    var cookieHeader: HTTPFields { cookies.isEmpty ? [:] : [.cookie: cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")] }

    mutating func get(_ client: any TestClientProtocol, _ uri: String) async throws -> TestResponse {
        let response = try await client.execute(uri: uri, method: .get, headers: cookieHeader, body: nil)
        remember(response)
        return response
    }

    /// Posts a form with the last page's CSRF token unless `fields` names `_csrf` itself.
    mutating func post(_ client: any TestClientProtocol, _ uri: String, _ fields: [String: String], withCSRF: Bool = true) async throws -> TestResponse {
        var fields = fields
        if withCSRF, fields["_csrf"] == nil, let csrf { fields["_csrf"] = csrf }
        var headers = cookieHeader
        headers[.contentType] = "application/x-www-form-urlencoded"
        let body = fields.map { "\($0.key)=\(HTMLQuery.encode($0.value))" }.joined(separator: "&")
        let response = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
        remember(response)
        return response
    }

    /// Opens the sign-in page and signs in.
    mutating func signIn(_ client: any TestClientProtocol, email: String, password: String) async throws -> TestResponse {
        _ = try await get(client, "/admin/login")
        return try await post(client, "/admin/login", ["email": email, "password": password])
    }
}

enum HTMLQuery {
    static func encode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

@Suite("Admin dashboard")
struct AdminDashboardTests {
    static let email = "root@example.com"
    static let password = "correct horse battery staple"

    func makeAdmin(_ server: TestServer, rights: AdminRights = .full, email: String = Self.email) async throws {
        try await server.server.services.admins.create(email: email, password: Self.password, rights: rights)
    }

    @Test func signingInOpensASessionThePagesHonourUntilSignOut() async throws {
        try await TestServer.run { server, client in
            try await makeAdmin(server)
            var browser = AdminBrowser()
            let away = try await browser.get(client, "/admin/invitations?status=pending")
            #expect(away.status == .seeOther)
            #expect(away.headers[.location] == "/admin/login?next=%2Fadmin%2Finvitations%3Fstatus%3Dpending")

            // Wrong password and unknown address: the same answer, so the page tells nobody who is an administrator.
            let wrong = try await browser.signIn(client, email: Self.email, password: "not the password at all")
            let unknown = try await browser.signIn(client, email: "nobody@example.com", password: Self.password)
            #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
            #expect(String(buffer: wrong.body).contains("Wrong email or password.") && String(buffer: unknown.body).contains("Wrong email or password."))
            #expect(browser.cookies["usher_admin"] == nil)

            _ = try await browser.get(client, "/admin/login?next=%2Fadmin%2Finvitations%3Fstatus%3Dpending")
            let signedIn = try await browser.post(
                client, "/admin/login", ["email": "Root@Example.com", "password": Self.password, "next": "/admin/invitations?status=pending"])
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/admin/invitations?status=pending")
            let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("usher_admin=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/admin") && cookie.contains("Secure"))
            // Only the hash of the cookie is stored.
            let value = try #require(browser.cookies["usher_admin"])
            #expect(try await server.server.store.session(idHash: value) == nil)
            #expect(try await server.server.store.session(idHash: SecureRandom.secretHash(value)) != nil)

            let list = try await browser.get(client, "/admin/invitations")
            #expect(list.status == .ok)
            #expect(list.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(list.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(!String(buffer: list.body).contains("<script>") && !String(buffer: list.body).contains(" style="))

            let out = try await browser.post(client, "/admin/logout", [:])
            #expect(out.status == .seeOther && out.headers[.location] == "/admin/login?signed_out=1")
            // The old cookie no longer opens anything, even if a copy of it was kept.
            var copy = AdminBrowser()
            copy.cookies["usher_admin"] = value
            #expect(try await copy.get(client, "/admin/invitations").status == .seeOther)
        }
    }

    @Test func formsWithoutTheirCSRFTokenAreRefusedAndChangeNothing() async throws {
        try await TestServer.run { server, client in
            try await makeAdmin(server)
            var browser = AdminBrowser()
            // Even signing in needs the form's token.
            _ = try await browser.get(client, "/admin/login")
            let forgedSignIn = try await browser.post(client, "/admin/login", ["email": Self.email, "password": Self.password], withCSRF: false)
            #expect(forgedSignIn.status == .forbidden && browser.cookies["usher_admin"] == nil)

            #expect(try await browser.signIn(client, email: Self.email, password: Self.password).status == .seeOther)
            _ = try await browser.get(client, "/admin/invitations/new")
            let forged = try await browser.post(client, "/admin/invitations", ["emails": "ada@example.com", "send_email": "on"], withCSRF: false)
            #expect(forged.status == .forbidden && String(buffer: forged.body).contains("This form has expired"))
            // A token the hosted pages made is not the dashboard's.
            let hostedToken = server.server.services.signer.pageMAC(try #require(browser.cookies["usher_csrf"]), purpose: "csrf")
            let crossed = try await browser.post(client, "/admin/invitations", ["emails": "ada@example.com", "_csrf": hostedToken])
            #expect(crossed.status == .forbidden)
            #expect(try await server.server.services.invitations.list(InvitationFilter(), offset: 0, limit: 10).total == 0)
        }
    }

    @Test func tenFailuresFromOneAddressLockItForAQuarterOfAnHour() async throws {
        let clock = FakeClock(Date())
        try await TestServer.run(clock: clock) { server, client in
            try await makeAdmin(server)
            var browser = AdminBrowser()
            for _ in 0..<AdminService.bruteForceThreshold {
                #expect(try await browser.signIn(client, email: Self.email, password: "guess-guess-guess").status == .unauthorized)
            }
            let locked = try await browser.signIn(client, email: Self.email, password: Self.password)
            #expect(locked.status == .tooManyRequests && String(buffer: locked.body).contains("Too many failed attempts"))
            clock.advance(by: AdminService.bruteForceWindow + 1)
            #expect(try await browser.signIn(client, email: Self.email, password: Self.password).status == .seeOther)
        }
    }

    @Test func sessionsEndAfterHalfAnHourIdleAndTwelveHoursInAll() async throws {
        let clock = FakeClock(Date())
        try await TestServer.run(clock: clock) { server, client in
            try await makeAdmin(server)
            var browser = AdminBrowser()
            _ = try await browser.signIn(client, email: Self.email, password: Self.password)
            clock.advance(by: 29 * 60)
            #expect(try await browser.get(client, "/admin/invitations").status == .ok)
            clock.advance(by: 31 * 60)
            #expect(try await browser.get(client, "/admin/invitations").status == .seeOther)

            _ = try await browser.signIn(client, email: Self.email, password: Self.password)
            // Busy all day: every 20 minutes a page, and still the session ends at 12 hours.
            for _ in 0..<35 {
                clock.advance(by: 20 * 60)
                #expect(try await browser.get(client, "/admin/invitations").status == .ok)
            }
            clock.advance(by: 20 * 60 + 1)
            #expect(try await browser.get(client, "/admin/invitations").status == .seeOther)
        }
    }

    @Test func invitingResendingAndRevokingFromTheDashboard() async throws {
        try await TestServer.run { server, client in
            try await makeAdmin(server)
            var browser = AdminBrowser()
            _ = try await browser.signIn(client, email: Self.email, password: Self.password)
            #expect(try await browser.get(client, "/admin/invitations/new").status == .ok)
            let results = try await browser.post(
                client, "/admin/invitations",
                ["emails": "ada@example.com\nnot-an-address, grace@example.com", "send_email": "on", "ttl_days": "7"])
            let page = String(buffer: results.body)
            #expect(results.status == .ok)
            #expect(page.contains("2 of 3 invited."))
            #expect(page.contains("<td>not-an-address</td><td>Not invited</td>"))
            let invitations = try await server.server.services.invitations.list(InvitationFilter(), offset: 0, limit: 10).invitations
            #expect(Set(invitations.map(\.email)) == ["ada@example.com", "grace@example.com"])
            #expect(invitations.allSatisfy { $0.inviterName == Self.email && $0.ttlSeconds == 7 * 86_400 })
            let ada = try #require(invitations.first { $0.email == "ada@example.com" })

            let pending = String(buffer: try await browser.get(client, "/admin/invitations?status=pending&email=ad").body)
            #expect(pending.contains(">ada@example.com</a>") && !pending.contains("grace@example.com"))
            #expect(String(buffer: try await browser.get(client, "/admin/invitations?status=accepted").body).contains("No invitation matches."))

            let detail = String(buffer: try await browser.get(client, "/admin/invitations/\(ada.id)").body)
            #expect(detail.contains("Invitation for ada@example.com") && detail.contains("— Invited</li>"))
            let resent = try await browser.post(client, "/admin/invitations/\(ada.id)/resend", [:])
            #expect(resent.status == .ok && String(buffer: resent.body).contains("A new email is on its way"))
            #expect(try await server.server.services.invitations.invitation(id: ada.id).resendCount == 1)

            let revoked = try await browser.post(client, "/admin/invitations/\(ada.id)/revoke", [:])
            #expect(revoked.status == .seeOther)
            let after = String(buffer: try await browser.get(client, try #require(revoked.headers[.location])).body)
            #expect(after.contains("The invitation is revoked") && after.contains("<span class=\"badge revoked\">revoked</span>"))
            #expect(!after.contains("id=\"revoke\""))
            #expect(try await server.server.services.invitations.invitation(id: ada.id).storedStatus == .revoked)
            #expect(try await server.server.store.user(id: ada.userID) != nil)

            // Without the email, the page hands out the link to copy.
            let linkOnly = String(buffer: try await browser.post(client, "/admin/invitations", ["emails": "linus@example.com", "ttl_days": "3"]).body)
            #expect(linkOnly.contains("Invitation link for linus@example.com") && linkOnly.contains("https://id.example.test/lo/reset?ticket="))

            // A bad form keeps what was typed and says what to fix.
            let bad = try await browser.post(client, "/admin/invitations", ["emails": "x@example.com", "ttl_days": "90"])
            #expect(bad.status == .badRequest && String(buffer: bad.body).contains("between 1 and 30") && String(buffer: bad.body).contains("x@example.com"))
            #expect(try await browser.get(client, "/admin/invitations/uinv_missing").status == .notFound)
        }
    }

    @Test func aReadOnlyAdministratorSeesButCannotChange() async throws {
        try await TestServer.run { server, client in
            try await makeAdmin(server, rights: .readOnly, email: "auditor@example.com")
            let invited = try await server.server.services.invitations.create(InvitationRequest(email: "ada@example.com"))
            var browser = AdminBrowser()
            _ = try await browser.signIn(client, email: "auditor@example.com", password: Self.password)
            let list = String(buffer: try await browser.get(client, "/admin/invitations").body)
            #expect(list.contains("ada@example.com") && !list.contains("id=\"invite-people\"") && list.contains("(read-only)"))
            let detail = String(buffer: try await browser.get(client, "/admin/invitations/\(invited.invitation.id)").body)
            #expect(!detail.contains("id=\"resend\"") && !detail.contains("id=\"revoke\""))
            #expect(try await browser.get(client, "/admin/invitations/new").status == .forbidden)
            let refused = try await browser.post(client, "/admin/invitations/\(invited.invitation.id)/revoke", [:])
            #expect(refused.status == .forbidden && String(buffer: refused.body).contains("update:invitations"))
            #expect(try await server.server.services.invitations.invitation(id: invited.invitation.id).storedStatus == .pending)
        }
    }

    @Test func namesFromTheAPIReachTheDashboardAsText() async throws {
        try await TestServer.run { server, client in
            try await makeAdmin(server)
            let token = try await server.adminToken(client)
            let script = "<script>alert('x')</script>"
            _ = try await client.call(.post, "/api/v2/roles", token: token, json: ["name": .string(script), "description": "r"])
            _ = try await client.call(.post, "/api/v2/clients", token: token, json: ["name": "<img src=x onerror=alert(1)>", "app_type": "spa"])
            let invited = try await server.server.services.invitations.create(
                InvitationRequest(email: "ada@example.com", inviterName: "\"><svg onload=alert(2)>"))
            var browser = AdminBrowser()
            _ = try await browser.signIn(client, email: Self.email, password: Self.password)
            let form = String(buffer: try await browser.get(client, "/admin/invitations/new").body)
            #expect(!form.contains(script) && form.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
            #expect(!form.contains("<img src=x") && form.contains("&lt;img src=x onerror=alert(1)&gt;"))
            let detail = String(buffer: try await browser.get(client, "/admin/invitations/\(invited.invitation.id)").body)
            #expect(!detail.contains("<svg") && detail.contains("&quot;&gt;&lt;svg onload=alert(2)&gt;"))
            // A typed address comes back escaped in a refused form too.
            let refused = String(buffer: try await browser.post(client, "/admin/invitations", ["emails": "</textarea><b>x", "ttl_days": "0"]).body)
            #expect(!refused.contains("</textarea><b>") && refused.contains("&lt;/textarea&gt;&lt;b&gt;x"))
        }
    }

    @Test func theBootstrapAdministratorIsCreatedOnceAndKept() async throws {
        var configuration = UsherConfiguration()
        configuration.bootstrapAdminEmail = "first@example.com"
        configuration.bootstrapAdminPassword = "a first long password"
        let server = try await TestServer.start(configuration: configuration)
        do {
            let admins = try await server.server.services.admins.list()
            #expect(admins.map(\.email) == ["first@example.com"] && admins[0].scopes == AdminRights.full.scopes)
            _ = try await server.server.bootstrap(clock: server.clock)
            #expect(try await server.server.services.admins.list().count == 1)
            await server.stop()
        } catch {
            await server.stop()
            throw error
        }
    }
}
