import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import UsherApp
import UsherCore
import UsherHTTP
import UsherJSON
import UsherTesting

@Suite("Management API: users")
struct UsersAPITests {
    @Test func createReadSearchPatchDelete() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let created = try await client.call(
                .post, "/api/v2/users", token: token,
                json: [
                    "connection": "Username-Password-Authentication", "email": "Invitee@Example.com", "email_verified": false,
                    "verify_email": false, "name": "Ada Invitee", "app_metadata": ["needsInvitation": true],
                ])
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let user = created.json
            let id = try #require(user["user_id"]?.stringValue)
            #expect(id.hasPrefix("auth0|") && id.count == 30)
            let hexDigits = id.dropFirst(6).allSatisfy { $0.isHexDigit }
            #expect(hexDigits)
            #expect(user["email"] == "invitee@example.com")
            #expect(user["email_verified"] == false)
            #expect(user["app_metadata"] == ["needsInvitation": true])
            #expect(user["logins_count"] == 0)
            #expect(
                user["identities"] == [
                    ["connection": "Username-Password-Authentication", "user_id": .string(String(id.dropFirst(6))), "provider": "auth0", "isSocial": false]
                ])
            #expect(user["created_at"]?.stringValue?.hasSuffix("Z") == true)
            #expect(user["password_hash"] == nil)

            let encoded = id.replacingOccurrences(of: "|", with: "%7C")
            let fetched = try await client.call(.get, "/api/v2/users/\(encoded)", token: token)
            #expect(fetched.status == .ok)
            #expect(fetched.json["user_id"] == .string(id))

            let search = try await client.call(.get, "/api/v2/users?q=app_metadata.needsInvitation%3Atrue&include_totals=true&search_engine=v3", token: token)
            #expect(search.status == .ok, "\(String(buffer: search.body))")
            #expect(search.json["total"] == 1)
            #expect(search.json["users"]?.jsonString.contains(id) == true)

            let patched = try await client.call(
                .patch, "/api/v2/users/\(encoded)", token: token,
                json: [
                    "app_metadata": ["needsInvitation": false, "plan": "pro"], "user_metadata": ["lang": "fr"],
                ])
            #expect(patched.status == .ok)
            #expect(patched.json["app_metadata"] == ["needsInvitation": false, "plan": "pro"])
            let removed = try await client.call(.patch, "/api/v2/users/\(encoded)", token: token, json: ["app_metadata": ["plan": .null]])
            #expect(removed.json["app_metadata"] == ["needsInvitation": false])

            let none = try await client.call(.get, "/api/v2/users?q=app_metadata.needsInvitation%3Atrue", token: token)
            #expect(none.jsonValue == .array([]))

            let byEmail = try await client.call(.get, "/api/v2/users-by-email?email=INVITEE%40example.com", token: token)
            #expect(byEmail.jsonValue?.jsonString.contains(id) == true)

            let deleted = try await client.call(.delete, "/api/v2/users/\(encoded)", token: token)
            #expect(deleted.status == .noContent)
            expectAuth0Error(
                try await client.call(.get, "/api/v2/users/\(encoded)", token: token), .notFound, errorCode: "inexistent_user",
                messageContains: "The user does not exist.")
        }
    }

    @Test func duplicateEmailIs409() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let body: JSONValue = ["connection": "Username-Password-Authentication", "email": "dup@example.com"]
            #expect(try await client.call(.post, "/api/v2/users", token: token, json: body).status == .created)
            let again = try await client.call(
                .post, "/api/v2/users", token: token, json: ["connection": "Username-Password-Authentication", "email": "DUP@example.com"])
            expectAuth0Error(again, .conflict, errorCode: "auth0_idp_error", messageContains: "The user already exists.")
        }
    }

    @Test func badInputIsA400NamingTheField() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let cases: [(JSONValue?, String?, String)] = [
                (nil, "{\"connection\": ", "Invalid request payload JSON format"),
                (nil, "[1,2]", "Expected type object"),
                (["connection": "Username-Password-Authentication", "email": "not-an-email"], nil, "format email"),
                (["connection": "Username-Password-Authentication", "email": "a@example.com", "bogus": 1], nil, "Additional properties not allowed: bogus"),
                (["connection": "Username-Password-Authentication", "email": "a@example.com", "email_verified": "yes"], nil, "property email_verified"),
                (["connection": "Username-Password-Authentication", "email": "a@example.com", "name": 42], nil, "property name"),
                (["connection": "Username-Password-Authentication", "email": "a@example.com", "app_metadata": ["a.b": 1]], nil, "a.b"),
                (["connection": "Username-Password-Authentication", "email": "a@example.com", "app_metadata": ["email": "x"]], nil, "reserved"),
                (["email": "a@example.com"], nil, "Missing required property: connection"),
                (["connection": "Username-Password-Authentication"], nil, "Missing required property: email"),
                (["connection": "nope", "email": "a@example.com"], nil, "The connection does not exist"),
                (["connection": "Username-Password-Authentication", "email": "a@example.com", "phone_number": "555"], nil, "phone_number"),
            ]
            for (json, raw, message) in cases {
                let response = try await client.call(.post, "/api/v2/users", token: token, json: json, rawBody: raw)
                expectAuth0Error(response, .badRequest, messageContains: message)
            }
            // Deeply nested JSON is refused cleanly instead of recursing.
            let deep = String(repeating: "[", count: 100_000)
            expectAuth0Error(try await client.call(.post, "/api/v2/users", token: token, rawBody: deep), .badRequest)
        }
    }

    @Test func hugeBodiesAre413() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let big = "{\"name\":\"" + String(repeating: "x", count: 1_100_000) + "\"}"
            let response = try await client.call(.post, "/api/v2/users", token: token, rawBody: big)
            expectAuth0Error(response, .contentTooLarge)
        }
    }

    @Test func invalidSearchQueriesAre400() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            for query in ["q=email%3A(a", "q=%28%28%28", "per_page=500", "page=-1", "sort=password%3A1", "include_totals=maybe", "page=20&per_page=100"] {
                let response = try await client.call(.get, "/api/v2/users?\(query)", token: token)
                expectAuth0Error(response, .badRequest, errorCode: "invalid_query_string")
            }
        }
    }

    @Test func listPagesWithTotalsAndFields() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            for n in 0..<7 {
                server.clock.advance(by: 1)
                _ = try await client.call(
                    .post, "/api/v2/users", token: token, json: ["connection": "Username-Password-Authentication", "email": .string("p\(n)@example.com")])
            }
            let page = try await client.call(.get, "/api/v2/users?page=1&per_page=3&include_totals=true&sort=created_at%3A1&fields=email,user_id", token: token)
            #expect(page.json["start"] == 3)
            #expect(page.json["limit"] == 3)
            #expect(page.json["length"] == 3)
            #expect(page.json["total"] == 7)
            guard case .array(let users)? = page.json["users"] else {
                Issue.record("no users")
                return
            }
            #expect(users.map { $0["email"] } == ["p3@example.com", "p4@example.com", "p5@example.com"])
            #expect(users.allSatisfy { $0.objectValue?.keys.sorted() == ["email", "user_id"] })
            let wildcard = try await client.call(.get, "/api/v2/users?q=email%3Ap*%20AND%20NOT%20email%3Ap1%40example.com&per_page=100", token: token)
            guard case .array(let matched)? = wildcard.jsonValue else {
                Issue.record("no array")
                return
            }
            #expect(matched.count == 6)
        }
    }

    @Test func patchRulesAndPasswordHandling() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let created = try await client.call(
                .post, "/api/v2/users", token: token,
                json: [
                    "connection": "Username-Password-Authentication", "email": "pw@example.com", "password": "Correct-Horse-9",
                ])
            let id = try #require(created.json["user_id"]?.stringValue)
            let stored = try #require(try await server.server.store.user(id: id))
            #expect(stored.passwordHash == "plain:Correct-Horse-9")
            let both = try await client.call(.patch, "/api/v2/users/\(id)", token: token, json: ["password": "x-Y-z-123456", "email": "n@example.com"])
            expectAuth0Error(both, .badRequest, messageContains: "Cannot update password and email simultaneously")
            let unknown = try await client.call(.patch, "/api/v2/users/auth0%7C000000000000000000000000", token: token, json: ["name": "x"])
            expectAuth0Error(unknown, .notFound, errorCode: "inexistent_user")
            let wipe = try await client.call(.patch, "/api/v2/users/\(id)", token: token, json: ["user_metadata": ["a": 1]])
            #expect(wipe.json["user_metadata"] == ["a": 1])
            let wiped = try await client.call(.patch, "/api/v2/users/\(id)", token: token, json: ["user_metadata": [:]])
            #expect(wiped.json["user_metadata"] == [:])
        }
    }
}

@Suite("Management API: authorization")
struct AuthorizationTests {
    /// Walks the whole route table: without the route's scope every route answers 403, and without a token 401.
    @Test func everyRouteRequiresItsScope() async throws {
        try await TestServer.run { server, client in
            let routes = ManagementAPIController(services: server.server.services).routes
            #expect(routes.count >= 17)
            var tokens: [String: String] = [:]
            for route in routes {
                let others = ManagementScope.all.filter { !route.scopes.contains($0) }
                let key = others.joined(separator: " ")
                let token: String
                if let cached = tokens[key] {
                    token = cached
                } else {
                    token = try await server.token(scopes: others, client: client)
                    tokens[key] = token
                }
                let path = "/api/v2/" + route.path.replacingOccurrences(of: ":id", with: "auth0%7Cabc")
                let json: JSONValue? = [.post, .patch, .put].contains(route.method) ? [:] : nil
                let forbidden = try await client.call(route.method, path, token: token, json: json)
                expectAuth0Error(forbidden, .forbidden, errorCode: "insufficient_scope", messageContains: route.scopes[0])
                let anonymous = try await client.call(route.method, path, token: nil, json: json)
                expectAuth0Error(anonymous, .unauthorized)
                let garbage = try await client.call(route.method, path, token: "not.a.jwt", json: json)
                expectAuth0Error(garbage, .unauthorized, messageContains: "Invalid token")
            }
        }
    }

    @Test func expiredTokensAre401() async throws {
        let clock = FakeClock(Date())
        try await TestServer.run(clock: clock) { server, client in
            let token = try await server.adminToken(client)
            #expect(try await client.call(.get, "/api/v2/users", token: token).status == .ok)
            clock.advance(by: 86_401)
            expectAuth0Error(try await client.call(.get, "/api/v2/users", token: token), .unauthorized, messageContains: "Expired token")
        }
    }

    @Test func tamperedTokensAre401() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            var parts = token.split(separator: ".").map(String.init)
            // Swap in a payload granting a scope, keeping the original signature.
            parts[1] = Base64URL.encode(
                Array(
                    #"{"iss":"https://id.example.test/","sub":"x","aud":"https://id.example.test/api/v2/","iat":1,"exp":99999999999,"scope":"read:users"}"#.utf8
                ))
            expectAuth0Error(try await client.call(.get, "/api/v2/users", token: parts.joined(separator: ".")), .unauthorized)
        }
    }
}

@Suite("Authentication API: client credentials")
struct ClientCredentialsTests {
    @Test func jsonFormAndBasicAuthAllWork() async throws {
        try await TestServer.run { server, client in
            let audience = server.audience
            let json = try await client.execute(
                uri: "/oauth/token", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(
                    string: JSONValue.object([
                        "grant_type": "client_credentials", "client_id": .string(TestServer.adminID),
                        "client_secret": .string(TestServer.adminSecret), "audience": .string(audience),
                    ]).jsonString))
            #expect(json.status == .ok)
            #expect(json.json["token_type"] == "Bearer")
            #expect(json.json["expires_in"] == 86_400)
            #expect(json.json["scope"]?.stringValue?.contains("create:users") == true)
            #expect(json.headers[.cacheControl] == "no-store")

            let basic = Data("\(TestServer.adminID):\(TestServer.adminSecret)".utf8).base64EncodedString()
            let viaBasic = try await client.execute(
                uri: "/oauth/token", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .authorization: "Basic \(basic)"],
                body: ByteBuffer(string: "grant_type=client_credentials&audience=\(audience)&scope=read:users"))
            #expect(viaBasic.status == .ok)
            #expect(viaBasic.json["scope"] == "read:users")

            // The token's header names the published key.
            let token = try #require(json.json["access_token"]?.stringValue)
            let header = try JSONParser.parse(try #require(Base64URL.decode(String(token.split(separator: ".")[0]))))
            let jwks = try await client.execute(uri: "/.well-known/jwks.json", method: .get)
            #expect(jwks.json["keys"]?.jsonString.contains(try #require(header["kid"]?.stringValue)) == true)
            #expect(header["alg"] == "RS256")
        }
    }

    @Test func failuresUseOAuthErrors() async throws {
        try await TestServer.run { server, client in
            func post(_ body: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/oauth/token", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body))
            }
            let audience = server.audience
            let wrongSecret = try await post("grant_type=client_credentials&client_id=\(TestServer.adminID)&client_secret=wrong&audience=\(audience)")
            #expect(wrongSecret.status == .unauthorized)
            #expect(wrongSecret.json["error"] == "access_denied")
            let unknownClient = try await post("grant_type=client_credentials&client_id=nobody&client_secret=wrong&audience=\(audience)")
            #expect(unknownClient.json == wrongSecret.json)
            let badAudience = try await post(
                "grant_type=client_credentials&client_id=\(TestServer.adminID)&client_secret=\(TestServer.adminSecret)&audience=https://elsewhere/")
            #expect(badAudience.status == .forbidden)
            #expect(badAudience.json["error_description"]?.stringValue?.contains("Service not enabled") == true)
            let badGrant = try await post("grant_type=magic&client_id=\(TestServer.adminID)&client_secret=\(TestServer.adminSecret)")
            #expect(badGrant.json["error"] == "unsupported_grant_type")
            let missing = try await post("")
            #expect(missing.json["error"] == "invalid_request")
            let tooMuch = try await post(
                "grant_type=client_credentials&client_id=\(TestServer.adminID)&client_secret=\(TestServer.adminSecret)&audience=\(audience)&scope=read:users%20launch:rockets"
            )
            #expect(tooMuch.status == .forbidden)
        }
    }
}

@Suite("Operations")
struct OperationsTests {
    @Test func healthAndMetrics() async throws {
        try await TestServer.run { server, client in
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
            #expect(health.json == ["status": "ok", "database": "ok"])
            #expect(health.headers[.init("X-Content-Type-Options")!] == "nosniff")
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(String(buffer: metrics.body).contains("usher_http_requests_total"))
        }
    }

    @Test func clientsAndConnectionsAPI() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let created = try await client.call(
                .post, "/api/v2/clients", token: token,
                json: [
                    "name": "My App", "app_type": "regular_web", "callbacks": ["https://app.example.com/callback"],
                    "allowed_logout_urls": ["https://app.example.com/"], "initiate_login_uri": "https://app.example.com/login",
                ])
            #expect(created.status == .created)
            let id = try #require(created.json["client_id"]?.stringValue)
            #expect(created.json["client_secret"]?.stringValue?.count ?? 0 >= 43)
            let fetched = try await client.call(.get, "/api/v2/clients/\(id)", token: token)
            #expect(fetched.json["client_secret"] == nil)
            #expect(fetched.json["callbacks"] == ["https://app.example.com/callback"])
            let badURL = try await client.call(.post, "/api/v2/clients", token: token, json: ["name": "x", "callbacks": ["javascript:alert(1)"]])
            expectAuth0Error(badURL, .badRequest, messageContains: "callbacks")
            let patched = try await client.call(.patch, "/api/v2/clients/\(id)", token: token, json: ["name": "Renamed"])
            #expect(patched.json["name"] == "Renamed")

            let connections = try await client.call(.get, "/api/v2/connections?name=Username-Password-Authentication", token: token)
            guard case .array(let list)? = connections.jsonValue, let connection = list.first?.objectValue,
                let connectionID = connection["id"]?.stringValue
            else {
                Issue.record("no connection")
                return
            }
            #expect(connectionID.hasPrefix("con_"))
            let patchedConnection = try await client.call(
                .patch, "/api/v2/connections/\(connectionID)", token: token,
                json: [
                    "options": ["passwordPolicy": "excellent", "disable_signup": true], "enabled_clients": [.string(id)],
                ])
            #expect(patchedConnection.json["options"] == ["passwordPolicy": "excellent", "disable_signup": true])
            let badPolicy = try await client.call(.patch, "/api/v2/connections/\(connectionID)", token: token, json: ["options": ["passwordPolicy": "great"]])
            expectAuth0Error(badPolicy, .badRequest)
            #expect(try await client.call(.delete, "/api/v2/clients/\(id)", token: token).status == .noContent)
            expectAuth0Error(try await client.call(.get, "/api/v2/clients/\(id)", token: token), .notFound)
        }
    }
}
