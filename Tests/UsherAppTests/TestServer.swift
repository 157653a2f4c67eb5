import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import UsherApp
import UsherCore
import UsherJSON
import UsherStorage
import UsherTesting

/// An Usher on a throwaway SQLite file, bootstrapped with known credentials, driven in-process.
struct TestServer {
    static let adminID = "test-admin-client"
    static let adminSecret = "test-admin-secret-0123456789"

    let server: UsherServer
    let clock: FakeClock
    let path: String

    /// `configuration` gives the keys a test cares about; the database, public URL and bootstrap client are set here.
    static func start(
        clock: FakeClock = FakeClock(Date()), actions: ActionsSetup = .syntaxCheckOnly,
        passwordHasher: any PasswordHasher = PlainTextPasswordHasher(),
        configuration: UsherConfiguration = UsherConfiguration()
    ) async throws -> TestServer {
        var configuration = configuration
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("usher-http-\(UUID().uuidString).sqlite").path
        configuration.database = .sqlite(path: path)
        configuration.publicURL = "https://id.example.test"
        configuration.bootstrapClientID = adminID
        configuration.bootstrapClientSecret = adminSecret
        configuration.actionsWorkers = 1
        var logger = Logger(label: "usher-test")
        logger.logLevel = .warning
        let server = try await UsherServer.open(configuration, logger: logger, clock: clock, passwordHasher: passwordHasher, actions: actions)
        let test = TestServer(server: server, clock: clock, path: path)
        do {
            _ = try await server.bootstrap(clock: clock)
        } catch {
            await test.stop()
            throw error
        }
        return test
    }

    func stop() async {
        await server.close()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    var audience: String { server.services.machineTokens.managementAudience }

    /// Runs `body` against the router, then shuts the server down.
    static func run(
        clock: FakeClock = FakeClock(Date()), actions: ActionsSetup = .syntaxCheckOnly,
        passwordHasher: any PasswordHasher = PlainTextPasswordHasher(),
        _ body: @Sendable (TestServer, any TestClientProtocol) async throws -> Void
    ) async throws {
        let test = try await start(clock: clock, actions: actions, passwordHasher: passwordHasher)
        do {
            var quiet = Logger(label: "usher-test-http")
            quiet.logLevel = .warning
            let app = Application(router: test.server.makeRouter(), logger: quiet)
            try await app.test(.router) { client in try await body(test, client) }
            await test.stop()
        } catch {
            await test.stop()
            throw error
        }
    }

    /// A token for a new client granted exactly `scopes`.
    func token(scopes: [String], client: any TestClientProtocol) async throws -> String {
        let (created, secret) = try await server.services.clients.createClient(["name": "scoped", "app_type": "non_interactive"])
        if !scopes.isEmpty {
            _ = try await server.services.clients.createGrant(
                ["client_id": .string(created.clientID), "audience": .string(audience), "scope": .array(scopes.map(JSONValue.string))],
                managementAudience: audience)
        } else {
            // A grant with no scopes at all.
            _ = try await server.services.clients.createGrant(
                ["client_id": .string(created.clientID), "audience": .string(audience), "scope": []], managementAudience: audience)
        }
        return try await fetchToken(client: client, id: created.clientID, secret: secret ?? "")
    }

    func adminToken(_ client: any TestClientProtocol) async throws -> String {
        try await fetchToken(client: client, id: Self.adminID, secret: Self.adminSecret)
    }

    func fetchToken(client: any TestClientProtocol, id: String, secret: String) async throws -> String {
        let body =
            "grant_type=client_credentials&client_id=\(id)&client_secret=\(secret)&audience=\(audience.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
        let response = try await client.execute(
            uri: "/oauth/token", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body))
        #expect(response.status == .ok, "token request failed: \(String(buffer: response.body))")
        return try #require(response.json["access_token"]?.stringValue)
    }
}

extension TestResponse {
    /// The body parsed as a JSON object (empty if it is not one).
    var json: JSONObject { (try? JSONParser.parse(Array(body.readableBytesView)))?.objectValue ?? [:] }
    var jsonValue: JSONValue? { try? JSONParser.parse(Array(body.readableBytesView)) }
}

extension TestClientProtocol {
    /// A request with a bearer token and, optionally, a JSON body.
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: JSONValue? = nil, rawBody: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: json.jsonString)
        } else if let rawBody {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: rawBody)
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }
}

/// Checks that `response` carries Auth0's Management API error body with `status`.
func expectAuth0Error(
    _ response: TestResponse, _ status: HTTPResponse.Status, errorCode: String? = nil, messageContains: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(response.status == status, "body: \(String(buffer: response.body))", sourceLocation: sourceLocation)
    let body = response.json
    #expect(body["statusCode"] == .int(Int64(status.code)), sourceLocation: sourceLocation)
    #expect(body["error"] == .string(status.reasonPhrase), sourceLocation: sourceLocation)
    #expect(body["message"]?.stringValue != nil, sourceLocation: sourceLocation)
    if let errorCode { #expect(body["errorCode"] == .string(errorCode), sourceLocation: sourceLocation) }
    if let messageContains {
        #expect(
            body["message"]?.stringValue?.contains(messageContains) == true, "message: \(body["message"]?.stringValue ?? "-")", sourceLocation: sourceLocation)
    }
}
