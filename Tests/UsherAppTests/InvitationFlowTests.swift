import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import UsherApp
import UsherCore
import UsherJSON
import UsherTesting

/// A browser-like session against the in-process router: keeps the CSRF cookie, reads forms.
struct PageSession {
    var cookie: String?

    static func field(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    static func title(_ html: String) -> String? {
        guard let start = html.range(of: "<h1 id=\"title\""), let close = html[start.upperBound...].firstIndex(of: ">"),
            let end = html[close...].range(of: "</h1>")
        else { return nil }
        return String(html[html.index(after: close)..<end.lowerBound])
    }

    mutating func get(_ client: any TestClientProtocol, _ uri: String) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = cookie }
        let response = try await client.execute(uri: uri, method: .get, headers: headers, body: nil)
        if let set = response.headers[.setCookie], let pair = set.split(separator: ";").first { cookie = String(pair) }
        return response
    }

    func post(_ client: any TestClientProtocol, _ uri: String, _ fields: [String: String], accept: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        if let accept { headers[.accept] = accept }
        let body = fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

extension TestServer {
    func createUser(_ client: any TestClientProtocol, token: String, email: String, invited: Bool, password: String? = nil) async throws -> String {
        var body: JSONObject = ["email": .string(email), "connection": "Username-Password-Authentication", "email_verified": false]
        if invited { body["app_metadata"] = ["needsInvitation": true] }
        if let password { body["password"] = .string(password) }
        let response = try await client.call(.post, "/api/v2/users", token: token, json: .object(body))
        #expect(response.status == .created, "\(String(buffer: response.body))")
        return try #require(response.json["user_id"]?.stringValue)
    }

    func changePassword(_ client: any TestClientProtocol, email: String, clientID: String? = nil) async throws -> TestResponse {
        var body: JSONObject = ["email": .string(email), "connection": "Username-Password-Authentication"]
        if let clientID { body["client_id"] = .string(clientID) }
        return try await client.call(.post, "/dbconnections/change_password", token: nil, json: .object(body))
    }

    /// Processes queued reset requests and returns the newest queued email to `email`.
    func latestMail(to email: String) async throws -> OutboxMessage? {
        await server.services.passwordResets.processQueued()
        return try await server.store.listOutbox(status: nil, offset: 0, limit: 100).messages.first { $0.to == email }
    }

    static func link(in html: String) -> String? {
        guard let start = html.range(of: "https://id.example.test/lo/reset?ticket=") else { return nil }
        let rest = html[start.lowerBound...]
        return String(rest.prefix { $0 != "\"" && $0 != "<" && !$0.isWhitespace })
    }
}

/// `/lo/reset?ticket=…#type=…` → the path and query the browser requests (the fragment stays in the browser).
func requestPath(_ link: String) -> String {
    let withoutFragment = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
    return String(withoutFragment.dropFirst("https://id.example.test".count))
}

@Suite("Invitation and password reset flow over HTTP")
struct InvitationFlowTests {
    @Test func inviteJourneyFromChangePasswordToNewPassword() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let appResponse = try await client.call(
                .post, "/api/v2/clients", token: token,
                json: [
                    "name": "Acme App", "app_type": "regular_web", "callbacks": ["https://app.example.com/callback"],
                    "allowed_logout_urls": ["https://app.example.com/after-invite"],
                ])
            let clientID = try #require(appResponse.json["client_id"]?.stringValue)
            let patched = try await client.call(.patch, "/api/v2/email-templates/reset_email", token: token, json: ["enabled": true])
            expectAuth0Error(patched, .notFound, messageContains: "Template not found and cannot be updated.")
            let created = try await client.call(
                .post, "/api/v2/email-templates", token: token,
                json: [
                    "template": "reset_email", "enabled": true, "syntax": "liquid", "from": "Acme <no-reply@acme.example>",
                    "subject": "{% if user.app_metadata.needsInvitation %}Join {{ application.name }}{% else %}Reset{% endif %}",
                    "body":
                        "{% if user.app_metadata.needsInvitation %}<a href=\"{{ url }}type=invite\">Accept</a>{% else %}<a href=\"{{ url }}type=reset\">Reset</a>{% endif %}",
                    "resultUrl": "https://app.example.com/after-invite", "urlLifetimeInSeconds": 3600, "includeEmailInRedirect": true,
                ])
            #expect(created.status == .ok, "\(String(buffer: created.body))")
            let userID = try await server.createUser(client, token: token, email: "ana@example.com", invited: true, password: "Random-Initial-Password-1")

            let answer = try await server.changePassword(client, email: "ana@example.com", clientID: clientID)
            #expect(answer.status == .ok && String(buffer: answer.body) == "We've just sent you an email to reset your password.")
            #expect(answer.headers[.contentType]?.hasPrefix("text/plain") == true)
            let mail = try #require(try await server.latestMail(to: "ana@example.com"))
            #expect(mail.subject == "Join Acme App" && mail.from == "Acme <no-reply@acme.example>" && mail.purpose == "user_invitation")
            let link = try #require(TestServer.link(in: mail.html))
            #expect(link.hasSuffix("#type=invite"))

            var browser = PageSession()
            // Opening the link twice (a mail scanner, then the person) consumes nothing.
            _ = try await browser.get(client, requestPath(link))
            let page = try await browser.get(client, requestPath(link))
            let html = String(buffer: page.body)
            #expect(page.status == .ok)
            #expect(PageSession.title(html) == "Welcome — choose a password to activate your account")
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'nonce-") == true)
            let csrf = try #require(PageSession.field("_csrf", in: html))
            let ticket = try #require(PageSession.field("ticket", in: html))
            #expect(PageSession.field("email", in: html) == "ana@example.com")

            let done = try await browser.post(
                client, "/lo/reset",
                [
                    "_csrf": csrf, "ticket": ticket, "email": "ana@example.com",
                    "newPassword": "Tr0ub4dor&3-horse", "confirmNewPassword": "Tr0ub4dor&3-horse",
                ])
            #expect(done.status == .found)
            let location = try #require(done.headers[.location])
            #expect(location.hasPrefix("https://app.example.com/after-invite?success=true&message=") && location.contains("email=ana@example.com"))
            let user = try #require(try await server.server.store.user(id: userID))
            #expect(user.emailVerified && user.lastPasswordReset != nil)
            #expect(await PlainTextPasswordHasher().verify("Tr0ub4dor&3-horse", hash: user.passwordHash ?? ""))

            let again = try await browser.post(
                client, "/lo/reset", ["_csrf": csrf, "ticket": ticket, "newPassword": "Another-Pass-42", "confirmNewPassword": "Another-Pass-42"])
            #expect(again.status == .gone && PageSession.title(String(buffer: again.body)) == "This link has already been used")

            let logs = try await client.call(
                .get, "/api/v2/logs?q=user_id:%22\(userID.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)%22", token: token)
            let types = logs.jsonValue?.arrayValue?.compactMap { $0.objectValue?["type"]?.stringValue } ?? []
            #expect(types.contains("scpr") && types.contains("scp") && types.contains("fcp"), "types: \(types)")
        }
    }

    @Test func unknownAddressGetsTheSameAnswerAndNoEmail() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            _ = try await server.createUser(client, token: token, email: "known@example.com", invited: false)
            let known = try await server.changePassword(client, email: "known@example.com")
            let unknown = try await server.changePassword(client, email: "nobody@example.com")
            #expect(known.status == unknown.status && String(buffer: known.body) == String(buffer: unknown.body))
            #expect(known.headers[.contentType] == unknown.headers[.contentType])
            #expect(try await server.latestMail(to: "nobody@example.com") == nil)
            let mail = try #require(try await server.latestMail(to: "known@example.com"))
            #expect(mail.subject.contains("Reset your") && TestServer.link(in: mail.html)?.hasSuffix("#type=reset") == true)
            let logs = try await client.call(.get, "/api/v2/logs?q=type:fcpr", token: token)
            let entry = try #require(logs.jsonValue?.arrayValue?.first?.objectValue)
            #expect(entry["description"] == "User does not exist." && entry["user_name"] == "nobody@example.com")
            // Both requests were processed and nothing waits: what /metrics tells an operator.
            let metrics = String(buffer: try await client.call(.get, "/metrics", token: nil).body)
            #expect(metrics.contains("usher_password_reset_requests_processed_total 2"), "\(metrics)")
            #expect(metrics.contains("usher_password_reset_queue_depth 0"), "\(metrics)")
        }
    }

    @Test func changePasswordIsRateLimitedPerAddressAndValidated() async throws {
        try await TestServer.run { server, client in
            for _ in 0..<10 { #expect(try await server.changePassword(client, email: "flood@example.com").status == .ok) }
            let limited = try await server.changePassword(client, email: "flood@example.com")
            #expect(limited.status == .tooManyRequests && limited.json["error"] == "too_many_requests")
            // Another address from the same client is not affected.
            #expect(try await server.changePassword(client, email: "other@example.com").status == .ok)
            let missing = try await client.call(.post, "/dbconnections/change_password", token: nil, json: ["email": "a@example.com"])
            #expect(missing.status == .badRequest && missing.json["error"] == "invalid_request")
            let withPassword = try await client.call(
                .post, "/dbconnections/change_password", token: nil,
                json: ["email": "a@example.com", "connection": "Username-Password-Authentication", "password": "x"])
            #expect(withPassword.status == .badRequest)
        }
    }

    @Test func resetPageRefusesBadInputWithoutConsumingTheTicket() async throws {
        let clock = FakeClock(Date())
        try await TestServer.run(clock: clock) { server, client in
            let token = try await server.adminToken(client)
            let userID = try await server.createUser(client, token: token, email: "bea@example.com", invited: false, password: "Old-Password-1")
            let response = try await client.call(
                .post, "/api/v2/tickets/password-change", token: token,
                json: [
                    "user_id": .string(userID), "ttl_sec": 600, "mark_email_as_verified": false,
                ])
            #expect(response.status == .created)
            let link = try #require(response.json["ticket"]?.stringValue)
            #expect(link.hasPrefix("https://id.example.test/lo/reset?ticket=") && link.hasSuffix("#"))
            #expect(try await server.server.store.listOutbox(status: nil, offset: 0, limit: 10).total == 0)

            var browser = PageSession()
            let page = try await browser.get(client, requestPath(link))
            let html = String(buffer: page.body)
            #expect(PageSession.title(html) == "Reset your password")
            let csrf = try #require(PageSession.field("_csrf", in: html))
            let ticket = try #require(PageSession.field("ticket", in: html))
            func submit(_ fields: [String: String], session: PageSession? = nil) async throws -> TestResponse {
                try await (session ?? browser).post(client, "/lo/reset", fields)
            }
            // No CSRF token, a wrong one, or a token without its cookie: 403.
            #expect(try await submit(["ticket": ticket, "newPassword": "Good-Password-1", "confirmNewPassword": "Good-Password-1"]).status == .forbidden)
            #expect(
                try await submit(["_csrf": "forged", "ticket": ticket, "newPassword": "Good-Password-1", "confirmNewPassword": "Good-Password-1"]).status
                    == .forbidden)
            #expect(
                try await submit(
                    ["_csrf": csrf, "ticket": ticket, "newPassword": "Good-Password-1", "confirmNewPassword": "Good-Password-1"],
                    session: PageSession()
                ).status == .forbidden)
            let mismatch = try await submit(["_csrf": csrf, "ticket": ticket, "newPassword": "Good-Password-1", "confirmNewPassword": "Good-Password-2"])
            #expect(mismatch.status == .badRequest && String(buffer: mismatch.body).contains("Passwords don&#39;t match"))
            let weak = try await submit(["_csrf": csrf, "ticket": ticket, "newPassword": "short", "confirmNewPassword": "short"])
            #expect(weak.status == .badRequest && String(buffer: weak.body).contains("Password is too weak"))
            #expect(String(buffer: weak.body).contains("At least 8 characters in length"))
            let tampered = try await submit([
                "_csrf": csrf, "ticket": String(ticket.dropLast()) + "X", "newPassword": "Good-Password-1", "confirmNewPassword": "Good-Password-1",
            ])
            #expect(tampered.status == .notFound && PageSession.title(String(buffer: tampered.body)) == "This link is not valid")
            let json = try await browser.post(
                client, "/lo/reset", ["_csrf": csrf, "ticket": ticket, "newPassword": "aaaa", "confirmNewPassword": "aaaa"],
                accept: "application/json")
            #expect(json.status == .badRequest && json.json["name"] == "PasswordStrengthError")
            // None of the refused submissions changed anything, and the ticket still works.
            let user = try #require(try await server.server.store.user(id: userID))
            #expect(user.lastPasswordReset == nil && user.passwordHash == "plain:Old-Password-1")
            let done = try await submit(["_csrf": csrf, "ticket": ticket, "newPassword": "Good-Password-1", "confirmNewPassword": "Good-Password-1"])
            #expect(done.status == .ok && PageSession.title(String(buffer: done.body)) == "Your password has been set")
            // mark_email_as_verified was false: the address stays unverified.
            #expect(try await server.server.store.user(id: userID)?.emailVerified == false)
        }
    }

    @Test func expiredAndSupersededLinksExplainThemselvesAndOfferANewOne() async throws {
        let clock = FakeClock(Date())
        try await TestServer.run(clock: clock) { server, client in
            let token = try await server.adminToken(client)
            let userID = try await server.createUser(client, token: token, email: "cy@example.com", invited: true)
            let first = try #require(
                try await client.call(
                    .post, "/api/v2/tickets/password-change", token: token,
                    json: ["user_id": .string(userID), "ttl_sec": 60]
                ).json["ticket"]?.stringValue)
            var browser = PageSession()
            clock.advance(by: 61)
            let expired = try await browser.get(client, requestPath(first))
            #expect(expired.status == .gone && PageSession.title(String(buffer: expired.body)) == "This link has expired")
            let csrf = try #require(PageSession.field("_csrf", in: String(buffer: expired.body)))
            let oldTicket = try #require(PageSession.field("ticket", in: String(buffer: expired.body)))
            let resent = try await browser.post(client, "/lo/reset/resend", ["_csrf": csrf, "ticket": oldTicket])
            #expect(resent.status == .ok && PageSession.title(String(buffer: resent.body)) == "Check your email")
            let mail = try #require(try await server.latestMail(to: "cy@example.com"))
            let fresh = try #require(TestServer.link(in: mail.html))
            #expect(try await browser.get(client, requestPath(fresh)).status == .ok)
            // A newer link replaces the fresh one.
            _ = try await client.call(.post, "/api/v2/tickets/password-change", token: token, json: ["user_id": .string(userID)])
            let superseded = try await browser.get(client, requestPath(fresh))
            #expect(superseded.status == .gone && PageSession.title(String(buffer: superseded.body)) == "This link has been replaced by a newer one")
            // Resend for an unknown address: same page, no email.
            let unknown = try await browser.post(client, "/lo/reset/resend", ["_csrf": csrf, "email": "ghost@example.com"])
            #expect(unknown.status == .ok && PageSession.title(String(buffer: unknown.body)) == "Check your email")
            #expect(try await server.latestMail(to: "ghost@example.com") == nil)
        }
    }

    @Test func fiftyConcurrentSubmissionsOfOneTicketHaveOneWinner() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let userID = try await server.createUser(client, token: token, email: "race@example.com", invited: true)
            let link = try #require(
                try await client.call(
                    .post, "/api/v2/tickets/password-change", token: token,
                    json: ["user_id": .string(userID)]
                ).json["ticket"]?.stringValue)
            var browser = PageSession()
            let html = String(buffer: try await browser.get(client, requestPath(link)).body)
            let csrf = try #require(PageSession.field("_csrf", in: html))
            let ticket = try #require(PageSession.field("ticket", in: html))
            let session = browser
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for i in 0..<50 {
                    group.addTask {
                        let password = "Concurrent-Pass-\(i)"
                        return try await session.post(
                            client, "/lo/reset", ["_csrf": csrf, "ticket": ticket, "newPassword": password, "confirmNewPassword": password]
                        ).status
                    }
                }
                var all: [HTTPResponse.Status] = []
                for try await status in group { all.append(status) }
                return all
            }
            #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .gone }.count == 49)
        }
    }

    @Test func resultURLMustBeAnAllowedURL() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let userID = try await server.createUser(client, token: token, email: "dee@example.com", invited: true)
            let refused = try await client.call(
                .post, "/api/v2/tickets/password-change", token: token,
                json: ["user_id": .string(userID), "result_url": "https://evil.example.net/phish"])
            expectAuth0Error(refused, .badRequest, errorCode: "invalid_body", messageContains: "is not in any application's Allowed")
            let template = try await client.call(
                .post, "/api/v2/email-templates", token: token,
                json: [
                    "template": "reset_email", "enabled": true, "syntax": "liquid", "from": "", "subject": "", "body": "{{ url }}",
                    "resultUrl": "https://evil.example.net/phish",
                ])
            #expect(template.status == .ok)
            _ = try await server.changePassword(client, email: "dee@example.com")
            // Not sent, and the reason is in the log (never a silent fallback to no redirect).
            #expect(try await server.latestMail(to: "dee@example.com") == nil)
            let logs = try await client.call(.get, "/api/v2/logs?q=type:fcpr", token: token)
            #expect(logs.jsonValue?.arrayValue?.first?.objectValue?["description"]?.stringValue?.contains("Redirect To is not allowed") == true)
            let missingUser = try await client.call(.post, "/api/v2/tickets/password-change", token: token, json: ["user_id": "auth0|000000000000000000000000"])
            expectAuth0Error(missingUser, .notFound)
        }
    }

    @Test func emailTemplatesAPIValidatesLiquidOnSave() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            expectAuth0Error(try await client.call(.get, "/api/v2/email-templates/reset_email", token: token), .notFound)
            expectAuth0Error(try await client.call(.get, "/api/v2/email-templates/not_a_template", token: token), .badRequest)
            let broken = try await client.call(
                .post, "/api/v2/email-templates", token: token,
                json: [
                    "template": "verify_email", "enabled": true, "syntax": "liquid", "from": "a@example.com", "subject": "s",
                    "body": "<p>Hello</p>\n{% if user.name %}\n  {{ user.name }\n{% endfi %}",
                ])
            expectAuth0Error(broken, .badRequest, errorCode: "invalid_body", messageContains: "line ")
            #expect(broken.json["message"]?.stringValue?.contains("column") == true)
            let good: JSONValue = [
                "template": "verify_email", "enabled": true, "syntax": "liquid", "from": "a@example.com", "subject": "s", "body": "<p>{{ url }}</p>",
            ]
            #expect(try await client.call(.post, "/api/v2/email-templates", token: token, json: good).status == .ok)
            expectAuth0Error(
                try await client.call(.post, "/api/v2/email-templates", token: token, json: good), .conflict,
                messageContains: "Template (verify_email) already exists.")
            let fetched = try await client.call(.get, "/api/v2/email-templates/verify_email", token: token)
            #expect(fetched.json["urlLifetimeInSeconds"] == .null && fetched.json["includeEmailInRedirect"] == true && fetched.json["syntax"] == "liquid")
            let put = try await client.call(.put, "/api/v2/email-templates/verify_email", token: token, json: ["body": "x"])
            expectAuth0Error(put, .badRequest, messageContains: "Missing required property")
            let patched = try await client.call(
                .patch, "/api/v2/email-templates/verify_email", token: token, json: ["urlLifetimeInSeconds": 120, "enabled": false])
            #expect(patched.json["urlLifetimeInSeconds"] == 120 && patched.json["enabled"] == false && patched.json["body"] == "<p>{{ url }}</p>")
        }
    }

    @Test func signupHonoursDisableSignupAndDoesNotEnumerate() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let app = try await client.call(.post, "/api/v2/clients", token: token, json: ["name": "Spa", "app_type": "spa"])
            let clientID = try #require(app.json["client_id"]?.stringValue)
            let body: JSONValue = [
                "client_id": .string(clientID), "email": "eve@example.com", "password": "Sign-Up-Pass-1", "connection": "Username-Password-Authentication",
            ]
            let ok = try await client.call(.post, "/dbconnections/signup", token: nil, json: body)
            #expect(ok.status == .ok && ok.json["email"] == "eve@example.com" && ok.json["email_verified"] == false, "\(String(buffer: ok.body))")
            let again = try await client.call(.post, "/dbconnections/signup", token: nil, json: body)
            #expect(again.status == .badRequest && again.json["code"] == "invalid_signup" && again.json["description"] == "Invalid sign up")
            let weak = try await client.call(
                .post, "/dbconnections/signup", token: nil,
                json: [
                    "client_id": .string(clientID), "email": "fay@example.com", "password": "weak", "connection": "Username-Password-Authentication",
                ])
            #expect(weak.status == .badRequest && weak.json["name"] == "PasswordStrengthError" && weak.json["code"] == "invalid_password")
            // The verification email was queued for the new user.
            #expect(
                try await server.server.store.listOutbox(status: nil, offset: 0, limit: 10).messages.contains {
                    $0.to == "eve@example.com" && $0.purpose == "verify_email"
                })

            let connections = try await client.call(.get, "/api/v2/connections?name=Username-Password-Authentication", token: token)
            let connectionID = try #require(connections.jsonValue?.arrayValue?.first?.objectValue?["id"]?.stringValue)
            let disabled = try await client.call(.patch, "/api/v2/connections/\(connectionID)", token: token, json: ["options": ["disable_signup": true]])
            #expect(disabled.status == .ok, "\(String(buffer: disabled.body))")
            let refused = try await client.call(
                .post, "/dbconnections/signup", token: nil,
                json: [
                    "client_id": .string(clientID), "email": "gus@example.com", "password": "Sign-Up-Pass-1", "connection": "Username-Password-Authentication",
                ])
            #expect(refused.status == .badRequest && refused.json["code"] == "operation_not_allowed")
            #expect(try await server.server.store.user(connection: "Username-Password-Authentication", email: "gus@example.com") == nil)
        }
    }

    @Test func emailVerificationTicketNeedsAConfirmingPost() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let userID = try await server.createUser(client, token: token, email: "hal@example.com", invited: false)
            let link = try #require(
                try await client.call(
                    .post, "/api/v2/tickets/email-verification", token: token,
                    json: ["user_id": .string(userID)]
                ).json["ticket"]?.stringValue)
            #expect(link.contains("/lo/verify_email?ticket=") && link.hasSuffix("#"))
            var browser = PageSession()
            let page = try await browser.get(client, requestPath(link))
            #expect(try await server.server.store.user(id: userID)?.emailVerified == false)
            let html = String(buffer: page.body)
            let confirmed = try await browser.post(
                client, "/lo/verify_email",
                [
                    "_csrf": try #require(PageSession.field("_csrf", in: html)),
                    "ticket": try #require(PageSession.field("ticket", in: html)),
                ])
            #expect(confirmed.status == .ok && PageSession.title(String(buffer: confirmed.body)) == "Your email address is verified")
            #expect(try await server.server.store.user(id: userID)?.emailVerified == true)
        }
    }

    @Test func tenantSettingsCustomResetPageIsUsedAndValidated() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let bad = try await client.call(.patch, "/api/v2/tenants/settings", token: token, json: ["change_password": ["enabled": true, "html": "{% if %}"]])
            expectAuth0Error(bad, .badRequest, messageContains: "line 1")
            let page =
                "<h1 id=\"title\">Custom {{ email | escape }}</h1><form><input name=\"_csrf\" value=\"{{ csrf_token }}\"><input name=\"ticket\" value=\"{{ ticket }}\"></form>{{ password_policy }}"
            let ok = try await client.call(
                .patch, "/api/v2/tenants/settings", token: token, json: ["friendly_name": "Acme", "change_password": ["enabled": true, "html": .string(page)]])
            #expect(ok.status == .ok && ok.json["friendly_name"] == "Acme")
            let userID = try await server.createUser(client, token: token, email: "ivy@example.com", invited: true)
            let link = try #require(
                try await client.call(.post, "/api/v2/tickets/password-change", token: token, json: ["user_id": .string(userID)]).json["ticket"]?.stringValue)
            var browser = PageSession()
            let html = String(buffer: try await browser.get(client, requestPath(link)).body)
            #expect(PageSession.title(html) == "Custom ivy@example.com" && html.hasSuffix("good"))
        }
    }

    @Test func passwordHistoryIsEnforcedAcrossAPIAndResetPage() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let connections = try await client.call(.get, "/api/v2/connections?name=Username-Password-Authentication", token: token)
            let connectionID = try #require(connections.jsonValue?.arrayValue?.first?.objectValue?["id"]?.stringValue)
            #expect(
                try await client.call(
                    .patch, "/api/v2/connections/\(connectionID)", token: token,
                    json: ["options": ["passwordPolicy": "good", "password_history": ["enable": true, "size": 3]]]
                ).status == .ok)
            let userID = try await server.createUser(client, token: token, email: "kim@example.com", invited: false, password: "First-Password-1")
            #expect(try await client.call(.patch, "/api/v2/users/\(userID)", token: token, json: ["password": "Second-Password-2"]).status == .ok)
            let reuse = try await client.call(.patch, "/api/v2/users/\(userID)", token: token, json: ["password": "First-Password-1"])
            expectAuth0Error(reuse, .badRequest, messageContains: "PasswordHistoryError")

            let link = try #require(
                try await client.call(.post, "/api/v2/tickets/password-change", token: token, json: ["user_id": .string(userID)]).json["ticket"]?.stringValue)
            var browser = PageSession()
            let html = String(buffer: try await browser.get(client, requestPath(link)).body)
            #expect(html.contains("Not one of your last 3 passwords"))
            let fields = ["_csrf": try #require(PageSession.field("_csrf", in: html)), "ticket": try #require(PageSession.field("ticket", in: html))]
            let old = try await browser.post(
                client, "/lo/reset", fields.merging(["newPassword": "First-Password-1", "confirmNewPassword": "First-Password-1"]) { a, _ in a },
                accept: "application/json")
            #expect(old.status == .badRequest && old.json["name"] == "PasswordHistoryError", "\(String(buffer: old.body))")
            let fresh = try await browser.post(
                client, "/lo/reset", fields.merging(["newPassword": "Third-Password-3", "confirmNewPassword": "Third-Password-3"]) { a, _ in a })
            #expect(fresh.status == .ok)
            #expect(try await server.server.store.passwordHistory(userID: userID, limit: 10).count == 3)
        }
    }

    @Test func onlyTheNewestLinkWorksEvenWithinOneBatch() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            _ = try await server.createUser(client, token: token, email: "ora@example.com", invited: false)
            for _ in 0..<3 { #expect(try await server.changePassword(client, email: "ora@example.com").status == .ok) }
            _ = try await server.changePassword(client, email: "nobody-batch@example.com")
            await server.server.services.passwordResets.processQueued()
            let mails = try await server.server.store.listOutbox(status: nil, offset: 0, limit: 10).messages.filter { $0.to == "ora@example.com" }
            #expect(mails.count == 3)
            // The three were written in one transaction in request order; exactly one link (the last) still works.
            var browser = PageSession()
            var statuses: [HTTPResponse.Status] = []
            for mail in mails { statuses.append(try await browser.get(client, requestPath(try #require(TestServer.link(in: mail.html)))).status) }
            #expect(statuses.filter { $0 == .ok }.count == 1 && statuses.filter { $0 == .gone }.count == 2, "\(statuses)")
            let logs = try await client.call(.get, "/api/v2/logs?q=type:(scpr OR fcpr)&include_totals=true", token: token)
            #expect(logs.json["total"] == 4)
        }
    }
}
