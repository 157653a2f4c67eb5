import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import UsherApp
import UsherCore
import UsherJSON
import UsherTesting

/// A decoded JWT payload (signature checked separately where it matters).
func jwtClaims(_ token: String) -> JSONObject {
    let parts = token.split(separator: ".")
    guard parts.count == 3, let bytes = Base64URL.decode(String(parts[1])) else { return [:] }
    return (try? JSONParser.parse(bytes))?.objectValue ?? [:]
}

func queryItems(_ url: String) -> [String: String] {
    var result: [String: String] = [:]
    for item in URLComponents(string: url)?.queryItems ?? [] { result[item.name] = item.value }
    return result
}

struct OIDCApp {
    var clientID: String
    var secret: String?
    static let callback = "https://app.example.com/callback"
}

extension TestServer {
    func createApp(_ client: any TestClientProtocol, token: String, public isPublic: Bool = false, grants: [String]? = nil) async throws -> OIDCApp {
        var body: JSONObject = [
            "name": "Acme Web", "app_type": isPublic ? "spa" : "regular_web", "callbacks": [.string(OIDCApp.callback)],
            "allowed_logout_urls": ["https://app.example.com/bye"],
        ]
        body["grant_types"] = .array(
            (grants ?? ["authorization_code", "refresh_token", "password", "http://auth0.com/oauth/grant-type/password-realm"])
                .map(JSONValue.string))
        let response = try await client.call(.post, "/api/v2/clients", token: token, json: .object(body))
        #expect(response.status == .created, "\(String(buffer: response.body))")
        return OIDCApp(clientID: try #require(response.json["client_id"]?.stringValue), secret: response.json["client_secret"]?.stringValue)
    }

    func form(_ client: any TestClientProtocol, _ uri: String, _ fields: [String: String]) async throws -> TestResponse {
        let body = fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body))
    }
}

/// A browser: cookies by name, following nothing automatically.
struct Browser {
    var cookies: [String: String] = [:]

    mutating func remember(_ response: TestResponse) {
        for field in response.headers where field.name == .setCookie {
            guard let pair = field.value.split(separator: ";").first else { continue }
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { cookies[parts[0]] = parts[1].isEmpty ? nil : parts[1] }
        }
    }

    var cookieHeader: String { cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }

    mutating func get(_ client: any TestClientProtocol, _ uri: String) async throws -> TestResponse {
        let response = try await client.execute(uri: uri, method: .get, headers: cookies.isEmpty ? [:] : [.cookie: cookieHeader], body: nil)
        remember(response)
        return response
    }

    mutating func post(_ client: any TestClientProtocol, _ uri: String, _ fields: [String: String]) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if !cookies.isEmpty { headers[.cookie] = cookieHeader }
        let body = fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        let response = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
        remember(response)
        return response
    }

    /// /authorize → /u/login → submit → the redirect back to the application.
    mutating func signIn(_ client: any TestClientProtocol, authorize: String, email: String, password: String) async throws -> TestResponse {
        let start = try await get(client, authorize)
        guard start.status == .found, let location = start.headers[.location], location.hasPrefix("/u/login") else { return start }
        let page = try await get(client, location)
        let html = String(buffer: page.body)
        return try await post(
            client, "/u/login",
            [
                "state": PageSession.field("state", in: html) ?? "", "_csrf": PageSession.field("_csrf", in: html) ?? "",
                "username": email, "password": password,
            ])
    }
}

@Suite("Login and OpenID Connect over HTTP")
struct LoginFlowTests {
    static let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-padding-to-be-long"

    static func authorizeURL(_ app: OIDCApp, scope: String = "openid profile email offline_access", extra: String = "") -> String {
        "/authorize?response_type=code&client_id=\(app.clientID)&redirect_uri=\(OIDCApp.callback.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
            + "&scope=\(scope.replacingOccurrences(of: " ", with: "%20"))&state=st-123&nonce=n-456&code_challenge=\(PKCE.challenge(for: verifier))"
            + "&code_challenge_method=S256" + extra
    }

    @Test func discoveryDescribesTheProvider() async throws {
        try await TestServer.run { _, client in
            let response = try await client.execute(uri: "/.well-known/openid-configuration", method: .get)
            let doc = response.json
            #expect(doc["issuer"] == "https://id.example.test/" && doc["authorization_endpoint"] == "https://id.example.test/authorize")
            #expect(doc["code_challenge_methods_supported"] == ["S256"] && doc["userinfo_endpoint"] == "https://id.example.test/userinfo")
        }
    }

    @Test func authorizationCodeWithPKCEEndToEnd() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let app = try await server.createApp(client, token: token)
            let userID = try await server.createUser(client, token: token, email: "lia@example.com", invited: true, password: "Lia-Secret-Pass-1")
            var browser = Browser()
            let login = try await browser.get(client, Self.authorizeURL(app))
            #expect(login.status == .found && login.headers[.location]?.hasPrefix("/u/login?state=") == true)
            let page = try await browser.get(client, try #require(login.headers[.location]))
            let html = String(buffer: page.body)
            #expect(html.contains("<label for=\"username\">Email address</label>") && html.contains("Forgot password?") && html.contains("Acme Web"))
            // Wrong password: the same words whether or not the address exists.
            let wrong = try await browser.post(
                client, "/u/login",
                [
                    "state": PageSession.field("state", in: html)!, "_csrf": PageSession.field("_csrf", in: html)!,
                    "username": "lia@example.com", "password": "nope",
                ])
            let unknown = try await browser.post(
                client, "/u/login",
                [
                    "state": PageSession.field("state", in: html)!, "_csrf": PageSession.field("_csrf", in: html)!,
                    "username": "nobody@example.com", "password": "nope",
                ])
            #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
            #expect(String(buffer: wrong.body).contains("Wrong email or password.") && String(buffer: unknown.body).contains("Wrong email or password."))
            let noCSRF = try await server.form(
                client, "/u/login", ["state": PageSession.field("state", in: html)!, "username": "lia@example.com", "password": "Lia-Secret-Pass-1"])
            #expect(noCSRF.status == .forbidden)

            let done = try await browser.post(
                client, "/u/login",
                [
                    "state": PageSession.field("state", in: html)!, "_csrf": PageSession.field("_csrf", in: html)!,
                    "username": "lia@example.com", "password": "Lia-Secret-Pass-1",
                ])
            #expect(done.status == .found)
            let back = try #require(done.headers[.location])
            #expect(back.hasPrefix(OIDCApp.callback + "?code="))
            let params = queryItems(back)
            #expect(params["state"] == "st-123")
            let code = try #require(params["code"])
            let session = try #require(browser.cookies["usher_session"])
            #expect(
                done.headers[values: .setCookie].contains {
                    $0.hasPrefix("usher_session=") && $0.contains("HttpOnly") && $0.contains("SameSite=Lax") && $0.contains("Secure")
                })

            // Wrong verifier, wrong secret, wrong redirect_uri: refused, and the code stays usable.
            let badVerifier = try await server.form(
                client, "/oauth/token",
                [
                    "grant_type": "authorization_code", "code": code, "redirect_uri": OIDCApp.callback,
                    "client_id": app.clientID, "client_secret": app.secret!, "code_verifier": Self.verifier + "x",
                ])
            #expect(badVerifier.status == .forbidden && badVerifier.json["error"] == "invalid_grant")
            let badSecret = try await server.form(
                client, "/oauth/token",
                [
                    "grant_type": "authorization_code", "code": code, "redirect_uri": OIDCApp.callback,
                    "client_id": app.clientID, "client_secret": "wrong", "code_verifier": Self.verifier,
                ])
            #expect(badSecret.status == .unauthorized && badSecret.json["error"] == "invalid_client")
            let badRedirect = try await server.form(
                client, "/oauth/token",
                [
                    "grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example.com/other",
                    "client_id": app.clientID, "client_secret": app.secret!, "code_verifier": Self.verifier,
                ])
            #expect(badRedirect.json["error"] == "invalid_grant")
            let tokens = try await server.form(
                client, "/oauth/token",
                [
                    "grant_type": "authorization_code", "code": code, "redirect_uri": OIDCApp.callback,
                    "client_id": app.clientID, "client_secret": app.secret!, "code_verifier": Self.verifier,
                ])
            #expect(tokens.status == .ok, "\(String(buffer: tokens.body))")
            let idToken = try #require(tokens.json["id_token"]?.stringValue)
            let claims = jwtClaims(idToken)
            #expect(claims["sub"] == .string(userID) && claims["aud"] == .string(app.clientID) && claims["nonce"] == "n-456")
            #expect(claims["email"] == "lia@example.com" && claims["iss"] == "https://id.example.test/" && claims["email_verified"] == false)
            let verified = try await server.server.services.signer.verify(idToken, as: ClaimSet.self)
            #expect(verified.subject == userID)
            let access = try #require(tokens.json["access_token"]?.stringValue)
            let info = try await client.execute(uri: "/userinfo", method: .get, headers: [.authorization: "Bearer \(access)"])
            #expect(info.status == .ok && info.json["sub"] == .string(userID) && info.json["email"] == "lia@example.com")
            // The access token is not a Management API token.
            expectAuth0Error(try await client.call(.get, "/api/v2/users", token: access), .unauthorized)

            // Code reuse: refused, and the refresh token issued from it is revoked.
            let refresh = try #require(tokens.json["refresh_token"]?.stringValue)
            let replay = try await server.form(
                client, "/oauth/token",
                [
                    "grant_type": "authorization_code", "code": code, "redirect_uri": OIDCApp.callback,
                    "client_id": app.clientID, "client_secret": app.secret!, "code_verifier": Self.verifier,
                ])
            #expect(replay.json["error"] == "invalid_grant")
            let afterReplay = try await server.form(
                client, "/oauth/token",
                [
                    "grant_type": "refresh_token", "refresh_token": refresh, "client_id": app.clientID,
                    "client_secret": app.secret!,
                ])
            #expect(afterReplay.json["error"] == "invalid_grant")

            let user = try #require(try await server.server.store.user(id: userID))
            #expect(user.loginsCount == 1 && user.lastLogin != nil)  // last_ip: the in-process client has no peer address
            let logs = try await client.call(.get, "/api/v2/logs?q=type:s", token: token)
            #expect(logs.jsonValue?.arrayValue?.count == 1)

            // Single sign-on: the session skips the form.
            let again = try await browser.get(client, Self.authorizeURL(app))
            #expect(again.status == .found && again.headers[.location]?.hasPrefix(OIDCApp.callback + "?code=") == true)
            #expect(browser.cookies["usher_session"] == session)

            // Logout: returnTo must be an allowed logout URL.
            let refused = try await browser.get(client, "/v2/logout?client_id=\(app.clientID)&returnTo=https%3A%2F%2Fevil.example.net%2F")
            #expect(refused.status == .badRequest)
            var other = Browser()
            _ = try await other.signIn(client, authorize: Self.authorizeURL(app), email: "lia@example.com", password: "Lia-Secret-Pass-1")
            let bye = try await other.get(client, "/v2/logout?client_id=\(app.clientID)&returnTo=https%3A%2F%2Fapp.example.com%2Fbye")
            #expect(bye.status == .found && bye.headers[.location] == "https://app.example.com/bye")
            let afterLogout = try await other.get(client, Self.authorizeURL(app) + "&prompt=none")
            #expect(queryItems(afterLogout.headers[.location] ?? "")["error"] == "login_required")
        }
    }

    @Test func authorizeRefusesBadRequestsSafely() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let app = try await server.createApp(client, token: token)
            let spa = try await server.createApp(client, token: token, public: true)
            let wrongRedirect = try await client.execute(
                uri: "/authorize?response_type=code&client_id=\(app.clientID)&redirect_uri=https%3A%2F%2Fevil.example.net%2Fcb", method: .get)
            #expect(wrongRedirect.status == .badRequest && wrongRedirect.headers[.location] == nil)
            #expect(String(buffer: wrongRedirect.body).contains("Callback URL mismatch"))
            let unknown = try await client.execute(uri: "/authorize?response_type=code&client_id=nope&redirect_uri=x", method: .get)
            #expect(unknown.status == .badRequest)
            let noPKCE = try await client.execute(
                uri: "/authorize?response_type=code&client_id=\(spa.clientID)&redirect_uri=\(OIDCApp.callback)&state=s1", method: .get)
            let params = queryItems(noPKCE.headers[.location] ?? "")
            #expect(params["error"] == "invalid_request" && params["state"] == "s1")
            let plain = try await client.execute(uri: Self.authorizeURL(app).replacingOccurrences(of: "S256", with: "plain"), method: .get)
            #expect(queryItems(plain.headers[.location] ?? "")["error"] == "invalid_request")
            let implicit = try await client.execute(
                uri: Self.authorizeURL(app).replacingOccurrences(of: "response_type=code", with: "response_type=token"), method: .get)
            #expect(queryItems(implicit.headers[.location] ?? "")["error"] == "unsupported_response_type")
            let tampered = try await client.execute(uri: "/u/login?state=eyJmb28iOiJiYXIifQ.forged", method: .get)
            #expect(tampered.status == .badRequest)
        }
    }

    @Test func expiredCodeAndPublicClientRefreshRotation() async throws {
        let clock = FakeClock(Date())
        try await TestServer.run(clock: clock) { server, client in
            let token = try await server.adminToken(client)
            let spa = try await server.createApp(client, token: token, public: true)
            _ = try await server.createUser(client, token: token, email: "max@example.com", invited: false, password: "Max-Secret-Pass-1")
            var browser = Browser()
            let first = try await browser.signIn(client, authorize: Self.authorizeURL(spa), email: "max@example.com", password: "Max-Secret-Pass-1")
            let oldCode = try #require(queryItems(first.headers[.location] ?? "")["code"])
            clock.advance(by: 121)
            let expired = try await server.form(
                client, "/oauth/token",
                [
                    "grant_type": "authorization_code", "code": oldCode, "redirect_uri": OIDCApp.callback,
                    "client_id": spa.clientID, "code_verifier": Self.verifier,
                ])
            #expect(expired.json["error"] == "invalid_grant")
            let second = try await browser.get(client, Self.authorizeURL(spa))
            let code = try #require(queryItems(second.headers[.location] ?? "")["code"])
            let missingVerifier = try await server.form(
                client, "/oauth/token",
                [
                    "grant_type": "authorization_code", "code": code, "redirect_uri": OIDCApp.callback,
                    "client_id": spa.clientID,
                ])
            #expect(missingVerifier.json["error"] == "invalid_grant")
            let tokens = try await server.form(
                client, "/oauth/token",
                [
                    "grant_type": "authorization_code", "code": code, "redirect_uri": OIDCApp.callback,
                    "client_id": spa.clientID, "code_verifier": Self.verifier,
                ])
            let r1 = try #require(tokens.json["refresh_token"]?.stringValue)
            let rotated = try await server.form(client, "/oauth/token", ["grant_type": "refresh_token", "refresh_token": r1, "client_id": spa.clientID])
            let r2 = try #require(rotated.json["refresh_token"]?.stringValue)
            #expect(r2 != r1 && rotated.json["access_token"] != nil)
            // Reusing r1 is theft: the family, r2 included, is revoked.
            #expect(
                try await server.form(client, "/oauth/token", ["grant_type": "refresh_token", "refresh_token": r1, "client_id": spa.clientID]).json["error"]
                    == "invalid_grant")
            #expect(
                try await server.form(client, "/oauth/token", ["grant_type": "refresh_token", "refresh_token": r2, "client_id": spa.clientID]).json["error"]
                    == "invalid_grant")
        }
    }

    @Test func passwordRealmGrantBruteForceAndResetUnblocks() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let app = try await server.createApp(client, token: token)
            let userID = try await server.createUser(client, token: token, email: "ned@example.com", invited: false, password: "Ned-Secret-Pass-1")
            func realm(_ password: String) async throws -> TestResponse {
                try await client.call(
                    .post, "/oauth/token", token: nil,
                    json: [
                        "grant_type": "http://auth0.com/oauth/grant-type/password-realm", "username": "ned@example.com", "password": .string(password),
                        "realm": "Username-Password-Authentication", "client_id": .string(app.clientID), "client_secret": .string(app.secret!),
                        "scope": "openid email offline_access",
                    ])
            }
            let ok = try await realm("Ned-Secret-Pass-1")
            #expect(ok.status == .ok && ok.json["id_token"] != nil && ok.json["refresh_token"] != nil, "\(String(buffer: ok.body))")
            let refresh = try #require(ok.json["refresh_token"]?.stringValue)
            for _ in 0..<10 {
                let wrong = try await realm("wrong")
                #expect(wrong.status == .forbidden && wrong.json["error"] == "invalid_grant" && wrong.json["error_description"] == "Wrong email or password.")
            }
            let blocked = try await realm("Ned-Secret-Pass-1")
            #expect(blocked.status == .tooManyRequests && blocked.json["error"] == "too_many_attempts")
            #expect(
                try await server.server.store.listOutbox(status: nil, offset: 0, limit: 10).messages.contains {
                    $0.purpose == "blocked_account" && $0.to == "ned@example.com"
                })
            // Not enabled for this client: the plain password grant.
            let other = try await server.createApp(client, token: token, grants: ["authorization_code"])
            let refused = try await client.call(
                .post, "/oauth/token", token: nil,
                json: [
                    "grant_type": "password", "username": "ned@example.com", "password": "Ned-Secret-Pass-1", "client_id": .string(other.clientID),
                    "client_secret": .string(other.secret!),
                ])
            #expect(refused.json["error"] == "unauthorized_client")

            // A password reset lifts the block and ends refresh tokens.
            let link = try #require(
                try await client.call(.post, "/api/v2/tickets/password-change", token: token, json: ["user_id": .string(userID)]).json["ticket"]?.stringValue)
            var page = PageSession()
            let html = String(buffer: try await page.get(client, requestPath(link)).body)
            let reset = try await page.post(
                client, "/lo/reset",
                [
                    "_csrf": PageSession.field("_csrf", in: html)!, "ticket": PageSession.field("ticket", in: html)!,
                    "newPassword": "Ned-New-Pass-2", "confirmNewPassword": "Ned-New-Pass-2",
                ])
            #expect(reset.status == .ok)
            #expect(try await realm("Ned-New-Pass-2").status == .ok)
            let oldRefresh = try await server.form(
                client, "/oauth/token",
                [
                    "grant_type": "refresh_token", "refresh_token": refresh, "client_id": app.clientID,
                    "client_secret": app.secret!,
                ])
            #expect(oldRefresh.json["error"] == "invalid_grant")
            // Revocation endpoint.
            let fresh = try #require(try await realm("Ned-New-Pass-2").json["refresh_token"]?.stringValue)
            #expect(try await server.form(client, "/oauth/revoke", ["token": fresh, "client_id": app.clientID, "client_secret": app.secret!]).status == .ok)
            #expect(
                try await server.form(
                    client, "/oauth/token",
                    [
                        "grant_type": "refresh_token", "refresh_token": fresh, "client_id": app.clientID,
                        "client_secret": app.secret!,
                    ]
                ).json["error"] == "invalid_grant")
        }
    }

    @Test func universalLoginTemplateMustHaveTheSlots() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let missing = try await client.call(
                .put, "/api/v2/branding/templates/universal-login", token: token, json: ["template": "<html>{%- auth0:head -%}</html>"])
            expectAuth0Error(missing, .badRequest, messageContains: "auth0:widget")
            let page =
                "<!doctype html><html><head>{%- auth0:head -%}</head><body><h2>Acme sign-in for {{ application.name }}</h2>{%- auth0:widget -%}</body></html>"
            #expect(
                try await client.call(.put, "/api/v2/branding/templates/universal-login", token: token, json: ["template": .string(page)]).status == .created)
            #expect(
                try await client.call(.put, "/api/v2/branding/templates/universal-login", token: token, json: ["template": .string(page)]).status == .noContent)
            #expect(try await client.call(.get, "/api/v2/branding/templates/universal-login", token: token).json["body"] == .string(page))
            let app = try await server.createApp(client, token: token)
            var browser = Browser()
            let start = try await browser.get(client, Self.authorizeURL(app))
            let html = String(buffer: try await browser.get(client, start.headers[.location]!).body)
            #expect(html.contains("<h2>Acme sign-in for Acme Web</h2>") && html.contains("id=\"login-form\""))
        }
    }
}
