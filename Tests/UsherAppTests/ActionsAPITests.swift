import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import UsherApp
import UsherCore
import UsherJSON
import UsherTesting

/// `/api/v2/actions/…`: drafts, deploys, post-login bindings, test runs, and what a login then runs.
@Suite("Actions Management API")
struct ActionsAPITests {
    static let seedCode = """
        exports.onExecutePostLogin = async (event, api) => {
            if (event.user.app_metadata.needsInvitation) {
                api.user.setAppMetadata("needsInvitation", false);
            }
        };
        """

    static func body(_ name: String, code: String = seedCode, secrets: [(String, String)] = [], deploy: Bool? = nil) -> JSONValue {
        var object: JSONObject = [
            "name": .string(name), "supported_triggers": [["id": "post-login", "version": "v3"]], "code": .string(code),
            "secrets": .array(secrets.map { .object(["name": .string($0.0), "value": .string($0.1)]) }),
        ]
        if let deploy { object["deploy"] = .bool(deploy) }
        return .object(object)
    }

    /// Creates an Action through the API and returns its id.
    static func create(
        _ client: any TestClientProtocol, _ token: String, _ name: String, code: String = seedCode,
        secrets: [(String, String)] = [], deploy: Bool? = nil
    ) async throws -> String {
        let response = try await client.call(.post, "/api/v2/actions/actions", token: token, json: body(name, code: code, secrets: secrets, deploy: deploy))
        #expect(response.status == .created, "\(String(buffer: response.body))")
        return try #require(response.json["id"]?.stringValue)
    }

    static func bind(_ client: any TestClientProtocol, _ token: String, _ refs: [JSONValue]) async throws -> TestResponse {
        try await client.call(.patch, "/api/v2/actions/triggers/post-login/bindings", token: token, json: ["bindings": .array(refs)])
    }

    static func ref(id: String) -> JSONValue { ["ref": ["type": "action_id", "value": .string(id)]] }

    @Test func createAnswers201AndNeverReturnsSecretValues() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let response = try await client.call(
                .post, "/api/v2/actions/actions", token: token, json: Self.body("Invite flag", secrets: [("API_KEY", "very-secret-value")]))
            #expect(response.status == .created)
            let action = response.json
            let id = try #require(action["id"]?.stringValue)
            #expect(UUID(uuidString: id) != nil)
            #expect(action["name"] == "Invite flag" && action["runtime"] == "node22" && action["status"] == "built")
            #expect(action["all_changes_deployed"] == false && action["deployed_version"] == nil)
            #expect(action["supported_triggers"] == [["id": "post-login", "version": "v3"]])
            #expect(action["code"]?.stringValue == Self.seedCode && action["dependencies"] == [])
            let secret = try #require(action["secrets"]?.arrayValue?.first?.objectValue)
            #expect(secret["name"] == "API_KEY" && secret["updated_at"]?.stringValue != nil && secret["value"] == nil)
            #expect(!String(buffer: response.body).contains("very-secret-value"))

            let fetched = try await client.call(.get, "/api/v2/actions/actions/\(id)", token: token)
            #expect(fetched.status == .ok && fetched.json["id"] == .string(id))
            #expect(!String(buffer: fetched.body).contains("very-secret-value"))
            let listed = try await client.call(.get, "/api/v2/actions/actions", token: token)
            #expect(!String(buffer: listed.body).contains("very-secret-value"))

            // Defaults: no code, default trigger version.
            let minimal = try await client.call(
                .post, "/api/v2/actions/actions", token: token, json: ["name": "minimal", "supported_triggers": [["id": "post-login"]]])
            #expect(minimal.status == .created)
            #expect(minimal.json["supported_triggers"] == [["id": "post-login", "version": "v3"]] && minimal.json["code"] == "")
        }
    }

    @Test func invalidBodiesAre400And409() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            func post(_ json: JSONValue) async throws -> TestResponse { try await client.call(.post, "/api/v2/actions/actions", token: token, json: json) }
            expectAuth0Error(
                try await post(["supported_triggers": [["id": "post-login"]]]), .badRequest, errorCode: "invalid_body",
                messageContains: "Missing required property: name")
            expectAuth0Error(try await post(["name": "x"]), .badRequest, messageContains: "supported_triggers")
            expectAuth0Error(
                try await post(["name": "x", "supported_triggers": [["id": "pre-user-registration", "version": "v2"]]]), .badRequest,
                messageContains: "post-login trigger only")
            expectAuth0Error(
                try await post(["name": "x", "supported_triggers": [["id": "post-login", "version": "v1"]]]), .badRequest,
                messageContains: "v2, v3")
            expectAuth0Error(
                try await post(["name": "x", "supported_triggers": [["id": "post-login"]], "colour": "red"]), .badRequest,
                messageContains: "Additional properties not allowed: colour")
            expectAuth0Error(
                try await post(["name": "x", "supported_triggers": [["id": "post-login"]], "secrets": [["name": "A"]]]), .badRequest,
                messageContains: "value")
            _ = try await Self.create(client, token, "taken")
            expectAuth0Error(try await post(Self.body("taken")), .conflict)
            // Unsupported triggers on the bindings path too.
            expectAuth0Error(
                try await client.call(.get, "/api/v2/actions/triggers/credentials-exchange/bindings", token: token), .badRequest,
                messageContains: "post-login")
        }
    }

    @Test func codeThatDoesNotParseIsRefusedWithLineAndColumn() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let broken = "exports.onExecutePostLogin = async (event, api) => {\n    const x = ;\n};"
            let response = try await client.call(.post, "/api/v2/actions/actions", token: token, json: Self.body("broken", code: broken))
            expectAuth0Error(response, .badRequest, errorCode: "invalid_body", messageContains: "SyntaxError at line 2, column 15")
            #expect(response.json["message"]?.stringValue?.hasSuffix("on property code.") == true)
            #expect(response.json["message"]?.stringValue?.hasPrefix("Payload validation error: 'SyntaxError") == true)
            #expect(try await client.call(.get, "/api/v2/actions/actions", token: token).json["total"] == 0)

            let id = try await Self.create(client, token, "fine")
            let patched = try await client.call(.patch, "/api/v2/actions/actions/\(id)", token: token, json: ["code": "exports.x = {;"])
            expectAuth0Error(patched, .badRequest, messageContains: "SyntaxError at line 1, column")
            #expect(try await client.call(.get, "/api/v2/actions/actions/\(id)", token: token).json["code"]?.stringValue == Self.seedCode)
        }
    }

    @Test func getListPatchDelete() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            // The list is in creation order.
            let first = try await Self.create(client, token, "first", secrets: [("KEEP", "kept-value"), ("DROP", "dropped")])
            server.clock.advance(by: 1)
            let second = try await Self.create(client, token, "second", deploy: true)
            server.clock.advance(by: 1)
            _ = try await Self.create(client, token, "third")

            let all = try await client.call(.get, "/api/v2/actions/actions", token: token).json
            #expect(all["total"] == 3 && all["page"] == 0 && all["per_page"] == 50)
            #expect(all["actions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["first", "second", "third"])
            let paged = try await client.call(.get, "/api/v2/actions/actions?page=1&per_page=2", token: token).json
            #expect(paged["actions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["third"] && paged["total"] == 3)
            let byName = try await client.call(.get, "/api/v2/actions/actions?actionName=second", token: token).json
            #expect(byName["actions"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [second])
            let deployed = try await client.call(.get, "/api/v2/actions/actions?deployed=true", token: token).json
            #expect(deployed["actions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["second"])
            #expect(deployed["actions"]?.arrayValue?.first?["deployed_version"]?["number"] == 1)
            let byTrigger = try await client.call(.get, "/api/v2/actions/actions?triggerId=post-login", token: token).json
            #expect(byTrigger["total"] == 3)
            expectAuth0Error(try await client.call(.get, "/api/v2/actions/actions?per_page=1000", token: token), .badRequest)

            // PATCH: secrets list is complete; a name without value keeps the stored value; unlisted names go.
            let patched = try await client.call(
                .patch, "/api/v2/actions/actions/\(first)", token: token,
                json: ["name": "first renamed", "secrets": [["name": "KEEP"], ["name": "NEW", "value": "new-value"]]])
            #expect(patched.status == .ok, "\(String(buffer: patched.body))")
            #expect(patched.json["name"] == "first renamed")
            #expect(patched.json["secrets"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["KEEP", "NEW"])
            #expect(!String(buffer: patched.body).contains("value\""))
            let stored = try #require(try await server.server.store.action(id: first))
            #expect(stored.secretValues == ["KEEP": "kept-value", "NEW": "new-value"])
            expectAuth0Error(
                try await client.call(.patch, "/api/v2/actions/actions/\(first)", token: token, json: ["secrets": [["name": "NOPE"]]]),
                .badRequest, messageContains: "value")
            expectAuth0Error(try await client.call(.patch, "/api/v2/actions/actions/\(first)", token: token, json: ["name": "second"]), .conflict)

            #expect(try await client.call(.delete, "/api/v2/actions/actions/\(first)", token: token).status == .noContent)
            expectAuth0Error(
                try await client.call(.get, "/api/v2/actions/actions/\(first)", token: token), .notFound, errorCode: "inexistent_action",
                messageContains: "The action does not exist.")
            expectAuth0Error(try await client.call(.delete, "/api/v2/actions/actions/\(first)", token: token), .notFound)
            expectAuth0Error(try await client.call(.patch, "/api/v2/actions/actions/nope", token: token, json: ["name": "x"]), .notFound)
        }
    }

    @Test func deployCreatesImmutableNumberedVersions() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let id = try await Self.create(client, token, "versioned", secrets: [("K", "v1")])
            let deployed = try await client.call(.post, "/api/v2/actions/actions/\(id)/deploy", token: token)
            #expect(deployed.status == .accepted, "\(String(buffer: deployed.body))")
            let v1 = deployed.json
            #expect(v1["number"] == 1 && v1["deployed"] == true && v1["status"] == "built" && v1["errors"] == [])
            #expect(v1["action_id"] == .string(id) && v1["code"]?.stringValue == Self.seedCode && v1["runtime"] == "node22")
            #expect(v1["action"]?["name"] == "versioned" && v1["action"]?["all_changes_deployed"] == true)
            #expect(v1["built_at"]?.stringValue != nil && v1["supported_triggers"] == [["id": "post-login", "version": "v3"]])
            #expect(v1["secrets"]?.arrayValue?.first?["value"] == nil)
            let v1ID = try #require(v1["id"]?.stringValue)

            var action = try await client.call(.get, "/api/v2/actions/actions/\(id)", token: token).json
            #expect(action["all_changes_deployed"] == true && action["deployed_version"]?["id"] == .string(v1ID))

            let newCode = "exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('https://x/v', 2); };"
            _ = try await client.call(.patch, "/api/v2/actions/actions/\(id)", token: token, json: ["code": .string(newCode)])
            action = try await client.call(.get, "/api/v2/actions/actions/\(id)", token: token).json
            #expect(action["all_changes_deployed"] == false && action["deployed_version"]?["code"]?.stringValue == Self.seedCode)
            // Deploying again snapshots the edited draft as version 2.
            let v2 = try await client.call(.post, "/api/v2/actions/actions/\(id)/deploy", token: token).json
            #expect(v2["number"] == 2 && v2["code"]?.stringValue == newCode)

            let versions = try await client.call(.get, "/api/v2/actions/actions/\(id)/versions", token: token).json
            #expect(versions["total"] == 2)
            #expect(versions["versions"]?.arrayValue?.compactMap { $0["number"] } == [2, 1])
            #expect(versions["versions"]?.arrayValue?.compactMap { $0["deployed"] } == [true, false])
            let old = try await client.call(.get, "/api/v2/actions/actions/\(id)/versions/\(v1ID)", token: token)
            #expect(old.status == .ok && old.json["code"]?.stringValue == Self.seedCode && old.json["deployed"] == false)
            expectAuth0Error(try await client.call(.get, "/api/v2/actions/actions/\(id)/versions/nope", token: token), .notFound)
            expectAuth0Error(try await client.call(.post, "/api/v2/actions/actions/nope/deploy", token: token), .notFound, errorCode: "inexistent_action")
        }
    }

    @Test func bindingsReplaceKeepOrderAndRefuseUndeployedActions() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let a = try await Self.create(client, token, "A", code: "exports.onExecutePostLogin = async () => { /* A1 */ };", secrets: [("S", "a")])
            let b = try await Self.create(client, token, "B", code: "exports.onExecutePostLogin = async () => { /* B1 */ };")

            expectAuth0Error(
                try await Self.bind(client, token, [Self.ref(id: a)]), .badRequest, errorCode: "invalid_body",
                messageContains: "never been deployed")
            expectAuth0Error(try await Self.bind(client, token, [["ref": ["type": "action_id", "value": "missing"]]]), .badRequest)
            expectAuth0Error(try await Self.bind(client, token, [["ref": ["type": "bogus", "value": "x"]]]), .badRequest)
            #expect(try await client.call(.post, "/api/v2/actions/actions/\(a)/deploy", token: token).status == .accepted)
            #expect(try await client.call(.post, "/api/v2/actions/actions/\(b)/deploy", token: token).status == .accepted)

            let bound = try await Self.bind(
                client, token,
                [
                    ["ref": ["type": "action_name", "value": "B"], "display_name": "B runs first"], Self.ref(id: a),
                ])
            #expect(bound.status == .ok, "\(String(buffer: bound.body))")
            #expect(bound.json["bindings"]?.arrayValue?.compactMap { $0["display_name"]?.stringValue } == ["B runs first", "A"])
            let listed = try await client.call(.get, "/api/v2/actions/triggers/post-login/bindings", token: token).json
            #expect(listed["total"] == 2 && listed["page"] == 0 && listed["per_page"] == 50)
            let bindings = try #require(listed["bindings"]?.arrayValue)
            #expect(bindings.compactMap { $0["action"]?["id"]?.stringValue } == [b, a])
            #expect(bindings.allSatisfy { $0["trigger_id"] == "post-login" && $0["id"]?.stringValue != nil && $0["created_at"] != nil })
            let bindingOfB = try #require(bindings[0]["id"]?.stringValue)

            // What a login runs: deployed code in binding order with the deployed secrets, not later drafts.
            _ = try await client.call(
                .patch, "/api/v2/actions/actions/\(a)", token: token,
                json: ["code": "exports.onExecutePostLogin = async () => { /* A2 draft */ };", "secrets": [["name": "S", "value": "draft"]]])
            var running = try await server.server.services.actions.boundPostLoginActions()
            #expect(running.map(\.name) == ["B", "A"])
            #expect(
                running.map(\.code) == ["exports.onExecutePostLogin = async () => { /* B1 */ };", "exports.onExecutePostLogin = async () => { /* A1 */ };"])
            #expect(running[1].secrets == ["S": "a"] && running.map(\.actionID) == [b, a])

            // PATCH replaces the whole list; a binding_id ref keeps that binding.
            let replaced = try await Self.bind(client, token, [Self.ref(id: a), ["ref": ["type": "binding_id", "value": .string(bindingOfB)]]])
            #expect(replaced.status == .ok, "\(String(buffer: replaced.body))")
            let after = try await client.call(.get, "/api/v2/actions/triggers/post-login/bindings", token: token).json["bindings"]?.arrayValue ?? []
            #expect(after.compactMap { $0["action"]?["name"]?.stringValue } == ["A", "B"])
            #expect(after[1]["id"] == .string(bindingOfB) && after[1]["display_name"] == "B runs first")
            expectAuth0Error(try await Self.bind(client, token, [Self.ref(id: a), Self.ref(id: a)]), .badRequest, messageContains: "more than once")

            #expect(try await client.call(.post, "/api/v2/actions/actions/\(a)/deploy", token: token).status == .accepted)
            running = try await server.server.services.actions.boundPostLoginActions()
            #expect(running.first?.code.contains("A2 draft") == true && running.first?.secrets == ["S": "draft"])

            // Bound: delete refused without force; force unbinds.
            expectAuth0Error(try await client.call(.delete, "/api/v2/actions/actions/\(a)", token: token), .conflict, messageContains: "force=true")
            #expect(try await client.call(.delete, "/api/v2/actions/actions/\(a)?force=true", token: token).status == .noContent)
            running = try await server.server.services.actions.boundPostLoginActions()
            #expect(running.map(\.name) == ["B"])

            let cleared = try await Self.bind(client, token, [])
            #expect(cleared.status == .ok && cleared.json["bindings"] == [])
            #expect(try await server.server.services.actions.boundPostLoginActions().isEmpty)
        }
    }

    @Test func scopesAreEnforced() async throws {
        try await TestServer.run { server, client in
            let admin = try await server.adminToken(client)
            let id = try await Self.create(client, admin, "scoped")
            let reader = try await server.token(scopes: ["read:actions"], client: client)
            #expect(try await client.call(.get, "/api/v2/actions/actions/\(id)", token: reader).status == .ok)
            #expect(try await client.call(.get, "/api/v2/actions/triggers/post-login/bindings", token: reader).status == .ok)
            expectAuth0Error(
                try await client.call(.post, "/api/v2/actions/actions", token: reader, json: Self.body("nope")), .forbidden,
                errorCode: "insufficient_scope", messageContains: "create:actions")
            expectAuth0Error(try await client.call(.post, "/api/v2/actions/actions/\(id)/deploy", token: reader), .forbidden)
            expectAuth0Error(try await Self.bind(client, reader, []), .forbidden, messageContains: "update:actions")
            expectAuth0Error(try await client.call(.delete, "/api/v2/actions/actions/\(id)", token: reader), .forbidden, messageContains: "delete:actions")
            let writer = try await server.token(scopes: ["update:actions"], client: client)
            expectAuth0Error(try await client.call(.get, "/api/v2/actions/actions", token: writer), .forbidden, messageContains: "read:actions")
            #expect(try await client.call(.patch, "/api/v2/actions/actions/\(id)", token: writer, json: ["name": "renamed"]).status == .ok)
        }
    }

    @Test func testEndpointRunsTheDraftInTheWorkerPool() async throws {
        let binary = try UsherBinary.path()
        try await TestServer.run(actions: .workerPool(executablePath: binary)) { server, client in
            let token = try await server.adminToken(client)
            let code = """
                exports.onExecutePostLogin = async (event, api) => {
                    console.log("hello", event.user.email, event.secrets.GREETING);
                    if (event.user.app_metadata.needsInvitation) {
                        api.user.setAppMetadata("needsInvitation", false);
                    }
                    api.user.setUserMetadata("lang", "fr");
                    api.idToken.setCustomClaim("https://example.com/greeting", event.secrets.GREETING);
                };
                """
            let id = try await Self.create(client, token, "tested", code: code, secrets: [("GREETING", "bonjour")])
            let event: JSONValue = [
                "user": ["user_id": "auth0|1", "email": "ada@example.com", "app_metadata": ["needsInvitation": true], "user_metadata": [:]],
                "secrets": ["GREETING": "ignored"],
            ]
            let response = try await client.call(.post, "/api/v2/actions/actions/\(id)/test", token: token, json: ["payload": event])
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let payload = try #require(response.json["payload"]?.objectValue)
            let result = try #require(payload["result"]?.objectValue)
            #expect(result["app_metadata"] == ["needsInvitation": false])
            #expect(result["user_metadata"] == ["lang": "fr"])
            #expect(result["id_token_claims"] == ["https://example.com/greeting": "bonjour"])
            #expect(result["access"] == ["denied": false])
            #expect(payload["error"] == nil)
            #expect(payload["logs"] == [["level": "log", "message": "hello ada@example.com bonjour"]])
            #expect(payload["stats"]?["action_duration_ms"] != nil && payload["stats"]?["total_duration_ms"] != nil)

            // The draft runs, not the deployed version; failures are reported, not thrown.
            _ = try await client.call(
                .patch, "/api/v2/actions/actions/\(id)", token: token,
                json: ["code": "exports.onExecutePostLogin = async (event, api) => { api.access.deny('no entry'); };"])
            let denied = try await client.call(.post, "/api/v2/actions/actions/\(id)/test", token: token, json: ["payload": event]).json
            #expect(denied["payload"]?["result"]?["access"] == ["denied": true, "reason": "no entry"])
            _ = try await client.call(
                .patch, "/api/v2/actions/actions/\(id)", token: token,
                json: ["code": "exports.onExecutePostLogin = async () => { throw new Error('boom'); };"])
            let failed = try await client.call(.post, "/api/v2/actions/actions/\(id)/test", token: token, json: ["payload": event]).json
            #expect(failed["payload"]?["error"]?["message"]?.stringValue?.contains("Action 'tested'") == true)
            #expect(failed["payload"]?["error"]?["message"]?.stringValue?.contains("boom") == true)

            expectAuth0Error(
                try await client.call(.post, "/api/v2/actions/actions/\(id)/test", token: token, json: [:]), .badRequest,
                messageContains: "payload")
            expectAuth0Error(try await client.call(.post, "/api/v2/actions/actions/nope/test", token: token, json: ["payload": [:]]), .notFound)
        }
    }
}

extension ActionsAPITests {
    /// The invitation recipe end to end: a deployed, bound Action clears `needsInvitation` at login and adds a claim.
    @Test func boundActionRunsAtLogin() async throws {
        let binary = try UsherBinary.path()
        try await TestServer.run(actions: .workerPool(executablePath: binary)) { server, client in
            let token = try await server.adminToken(client)
            let code = """
                exports.onExecutePostLogin = async (event, api) => {
                    if (event.user.app_metadata.needsInvitation) {
                        api.user.setAppMetadata("needsInvitation", false);
                    }
                    api.accessToken.setCustomClaim("https://example.com/plan", event.secrets.PLAN);
                };
                """
            let id = try await Self.create(client, token, "Invitation recipe", code: code, secrets: [("PLAN", "team")], deploy: true)
            #expect(try await Self.bind(client, token, [Self.ref(id: id)]).status == .ok)

            let created = try await client.call(
                .post, "/api/v2/users", token: token,
                json: [
                    "connection": "Username-Password-Authentication", "email": "ada@example.com", "password": "correct horse battery staple 9",
                    "app_metadata": ["needsInvitation": true],
                ])
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let userID = try #require(created.json["user_id"]?.stringValue)
            let app = try await client.call(
                .post, "/api/v2/clients", token: token,
                json: [
                    "name": "Dashboard", "app_type": "regular_web", "grant_types": ["http://auth0.com/oauth/grant-type/password-realm"],
                ])
            let clientID = try #require(app.json["client_id"]?.stringValue)
            let secret = try #require(app.json["client_secret"]?.stringValue)

            let form = [
                "grant_type=http%3A%2F%2Fauth0.com%2Foauth%2Fgrant-type%2Fpassword-realm", "realm=Username-Password-Authentication",
                "username=ada%40example.com", "password=correct%20horse%20battery%20staple%209", "client_id=\(clientID)", "client_secret=\(secret)",
                "audience=https%3A%2F%2Fapi.example.com",
            ].joined(separator: "&")
            let login = try await client.execute(
                uri: "/oauth/token", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: form))
            #expect(login.status == .ok, "\(String(buffer: login.body))")
            let accessToken = try #require(login.json["access_token"]?.stringValue)
            let payload = try #require(accessToken.split(separator: ".").dropFirst().first.flatMap { Base64URL.decode(String($0)) })
            let claims = try JSONParser.parse(payload).objectValue ?? [:]
            #expect(claims["https://example.com/plan"] == "team")

            let user = try await client.call(.get, "/api/v2/users/\(userID.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", token: token)
            #expect(user.json["app_metadata"] == ["needsInvitation": false])

            // A failing Action fails the login with its message.
            _ = try await client.call(
                .patch, "/api/v2/actions/actions/\(id)", token: token,
                json: ["code": "exports.onExecutePostLogin = async () => { throw new Error('closed'); };"])
            #expect(try await client.call(.post, "/api/v2/actions/actions/\(id)/deploy", token: token).status == .accepted)
            let refused = try await client.execute(
                uri: "/oauth/token", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: form))
            #expect(refused.status == .forbidden && String(buffer: refused.body).contains("Action 'Invitation recipe'"), "\(String(buffer: refused.body))")
        }
    }
}

/// The `usher` executable built next to the test bundle (`USHER_BINARY` overrides), for worker-pool tests.
enum UsherBinary {
    struct Missing: Error, CustomStringConvertible {
        var searched: [String]
        var description: String { "no usher executable in \(searched); build it or set USHER_BINARY" }
    }

    static func path() throws -> String {
        if let path = ProcessInfo.processInfo.environment["USHER_BINARY"], !path.isEmpty { return path }
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        for directory in candidates {
            let path = directory.appendingPathComponent("usher").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw Missing(searched: candidates.map(\.path))
    }
}
