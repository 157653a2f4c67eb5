import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import UsherApp
import UsherCore
import UsherJSON
import UsherTesting

/// A runner at the domain's seam that records what the login asked of it: runs ahead of the password check, and
/// normal runs after it. Each kind answers with a metadata key naming it, so a test sees whose result was applied.
final class RecordingActionRunner: PostLoginActionRunner {
    struct Calls: Sendable {
        var ahead = 0
        var afterCheck = 0
        var aheadTimeLimits: [Duration] = []
    }
    let calls = Mutex(Calls())
    let declinesToRunAhead: Bool

    init(declinesToRunAhead: Bool = false) { self.declinesToRunAhead = declinesToRunAhead }

    var snapshot: Calls { calls.withLock { $0 } }

    func run(event: JSONObject, actions: [DeployedAction]) async -> PostLoginOutcome {
        calls.withLock { $0.afterCheck += 1 }
        return PostLoginOutcome(appMetadataChanges: ["ranAfterCheck": true])
    }

    func runAhead(event: JSONObject, actions: [DeployedAction], timeLimit: Duration) async -> PostLoginOutcome? {
        calls.withLock {
            $0.ahead += 1
            $0.aheadTimeLimits.append(timeLimit)
        }
        return declinesToRunAhead ? nil : PostLoginOutcome(appMetadataChanges: ["ranAhead": true], idTokenClaims: ["https://example.com/ahead": true])
    }

    func syntaxErrors(in code: String) -> [ActionSyntaxError] { [] }
}

/// Plain-text hashes whose verification does not finish before the runner was asked to run ahead (up to 5 s): a
/// login that ran its Actions only after the check would wait here, and the test would see `sawActionsRunning` false.
final class HashWaitingForActions: PasswordHasher {
    let runner: RecordingActionRunner
    let verifications = Mutex<[Bool]>([])

    init(runner: RecordingActionRunner) { self.runner = runner }

    /// For each verification: whether the Actions had started by the time it finished.
    var sawActionsRunning: [Bool] { verifications.withLock { $0 } }

    func hash(_ password: String) async throws -> String { try await PlainTextPasswordHasher().hash(password) }

    func verify(_ password: String, hash: String) async -> Bool {
        let before = runner.snapshot.ahead
        for _ in 0..<500 where runner.snapshot.ahead == before {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let started = runner.snapshot.ahead > before
        verifications.withLock { $0.append(started) }
        return await PlainTextPasswordHasher().verify(password, hash: hash)
    }
}

/// Post-login Actions start while the password is verified, and only a right password lets their result count.
@Suite("Post-login Actions run ahead of the password check")
struct ActionsRunAheadTests {
    static let password = "Ahead-Secret-Pass-1"

    /// An Action bound to post-login, a user with `password`, an application with the password-realm grant.
    func setUp(_ server: TestServer, _ client: any TestClientProtocol, bind: Bool = true) async throws -> (token: String, userID: String, app: OIDCApp) {
        let token = try await server.adminToken(client)
        if bind {
            let id = try await ActionsAPITests.create(client, token, "Recorded", deploy: true)
            #expect(try await ActionsAPITests.bind(client, token, [ActionsAPITests.ref(id: id)]).status == .ok)
        }
        let userID = try await server.createUser(client, token: token, email: "ahead@example.com", invited: true, password: Self.password)
        return (token, userID, try await server.createApp(client, token: token))
    }

    func realmLogin(_ client: any TestClientProtocol, _ app: OIDCApp, password: String) async throws -> TestResponse {
        try await client.call(
            .post, "/oauth/token", token: nil,
            json: [
                "grant_type": "http://auth0.com/oauth/grant-type/password-realm", "username": "ahead@example.com", "password": .string(password),
                "realm": "Username-Password-Authentication", "client_id": .string(app.clientID), "client_secret": .string(app.secret!),
                "scope": "openid email",
            ])
    }

    func appMetadata(_ server: TestServer, _ userID: String) async throws -> JSONObject {
        try #require(try await server.server.store.user(id: userID)).appMetadata
    }

    @Test func aRightPasswordUsesWhatTheActionsDecidedWhileItWasChecked() async throws {
        let runner = RecordingActionRunner()
        let hasher = HashWaitingForActions(runner: runner)
        try await TestServer.run(actions: .runner(runner), passwordHasher: hasher) { server, client in
            let (_, userID, app) = try await setUp(server, client)
            let login = try await realmLogin(client, app, password: Self.password)
            #expect(login.status == .ok, "\(String(buffer: login.body))")
            #expect(hasher.sawActionsRunning == [true])
            #expect(runner.snapshot.ahead == 1 && runner.snapshot.afterCheck == 0)
            #expect(runner.snapshot.aheadTimeLimits == [LoginService.actionsRunAheadTimeLimit])
            // Their decisions were applied once, as after a normal run: metadata and the ID token's claim.
            let metadata = try await appMetadata(server, userID)
            #expect(metadata["ranAhead"] == true && metadata["ranAfterCheck"] == nil)
            #expect(jwtClaims(try #require(login.json["id_token"]?.stringValue))["https://example.com/ahead"] == true)

            // The hosted login page does the same.
            var browser = Browser()
            let signedIn = try await browser.signIn(client, authorize: LoginFlowTests.authorizeURL(app), email: "ahead@example.com", password: Self.password)
            #expect(signedIn.status == .found && (signedIn.headers[.location] ?? "").hasPrefix(OIDCApp.callback))
            #expect(runner.snapshot.ahead == 2 && runner.snapshot.afterCheck == 0)
            #expect(hasher.sawActionsRunning == [true, true])
        }
    }

    @Test func aWrongPasswordDropsWhatTheyDecided() async throws {
        let runner = RecordingActionRunner()
        let hasher = HashWaitingForActions(runner: runner)
        try await TestServer.run(actions: .runner(runner), passwordHasher: hasher) { server, client in
            let (_, userID, app) = try await setUp(server, client)
            let before = try await appMetadata(server, userID)
            let wrong = try await realmLogin(client, app, password: "not-the-password")
            #expect(wrong.status == .forbidden && wrong.json["error"] == "invalid_grant")
            #expect(runner.snapshot.ahead == 1 && runner.snapshot.afterCheck == 0)
            #expect(try await appMetadata(server, userID) == before)
            #expect(try await server.server.store.user(id: userID)?.loginsCount == 0)
        }
    }

    @Test func whenTheRunnerDeclinesTheActionsRunAfterTheCheck() async throws {
        let runner = RecordingActionRunner(declinesToRunAhead: true)
        try await TestServer.run(actions: .runner(runner)) { server, client in
            let (_, userID, app) = try await setUp(server, client)
            #expect(try await realmLogin(client, app, password: Self.password).status == .ok)
            #expect(runner.snapshot.ahead == 1 && runner.snapshot.afterCheck == 1)
            let metadata = try await appMetadata(server, userID)
            #expect(metadata["ranAfterCheck"] == true && metadata["ranAhead"] == nil)
        }
    }

    @Test func withNothingBoundTheRunnerIsNotAsked() async throws {
        let runner = RecordingActionRunner()
        try await TestServer.run(actions: .runner(runner)) { server, client in
            let (_, _, app) = try await setUp(server, client, bind: false)
            #expect(try await realmLogin(client, app, password: Self.password).status == .ok)
            #expect(runner.snapshot.ahead == 0 && runner.snapshot.afterCheck == 0)
        }
    }
}
