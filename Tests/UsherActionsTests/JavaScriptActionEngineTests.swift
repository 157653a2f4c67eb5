import Foundation
import Testing
import UsherActions
import UsherJSON

/// The in-process engine: Auth0 semantics of `event` and `api`, and the in-engine limits.
@Suite struct JavaScriptActionEngineTests {
    let engine = JavaScriptActionEngine(limits: ActionLimits(timeLimit: .milliseconds(500)))

    @Test func seedActionFlipsNeedsInvitation() {
        let result = engine.execute(Fixtures.request(Fixtures.seedAction, needsInvitation: true))
        #expect(result.failure == nil)
        #expect(result.appMetadataChanges == ["needsInvitation": false])
        #expect(result.userMetadataChanges.isEmpty)
        #expect(result.denied == nil)
    }

    @Test func seedActionDoesNothingWhenFlagIsFalseOrMissing() {
        for flag in [false, nil] as [Bool?] {
            let result = engine.execute(Fixtures.request(Fixtures.seedAction, needsInvitation: flag))
            #expect(result.failure == nil)
            #expect(result.appMetadataChanges.isEmpty)
        }
    }

    @Test func eventCarriesAuth0FieldsAndOwnSecrets() {
        let code = """
            exports.onExecutePostLogin = async (event, api) => {
              api.idToken.setCustomClaim('https://usher/claims', {
                email: event.user.email, verified: event.user.email_verified, logins: event.stats.logins_count,
                client: event.client.client_id, connection: event.connection.name, ip: event.request.ip,
                tenant: event.tenant.id, roles: event.authorization.roles, secret: event.secrets.API_KEY,
                lang: event.user.user_metadata.lang, template: `${event.user.user_id}!`,
              });
            };
            """
        let request = PostLoginExecutionRequest(
            event: Fixtures.event(needsInvitation: true),
            actions: [Fixtures.action(code, secrets: ["API_KEY": "s3cr3t"])])
        let result = engine.execute(request)
        #expect(result.failure == nil)
        #expect(
            result.idTokenClaims["https://usher/claims"]
                == [
                    "email": "ada@example.com", "verified": true, "logins": 3, "client": "client-1",
                    "connection": "Username-Password-Authentication", "ip": "127.0.0.1", "tenant": "usher",
                    "roles": ["admin"], "secret": "s3cr3t", "lang": "en", "template": "auth0|123!",
                ])
    }

    @Test func metadataAndClaimsAreRecordedAndNullDeletes() {
        let code = """
            exports.onExecutePostLogin = async (event, api) => {
              api.user.setAppMetadata('plan', 'pro');
              api.user.setAppMetadata('legacy', null);
              api.user.setUserMetadata('theme', { dark: true });
              api.user.setUserMetadata('gone', undefined);
              api.accessToken.setCustomClaim('https://usher/plan', 'pro');
              const value = { n: 1 };
              api.idToken.setCustomClaim('https://usher/snapshot', value);
              value.n = 2; // recorded at call time
            };
            """
        let result = engine.execute(Fixtures.request(code))
        #expect(result.failure == nil)
        #expect(result.appMetadataChanges == ["plan": "pro", "legacy": .null])
        #expect(result.userMetadataChanges == ["theme": ["dark": true], "gone": .null])
        #expect(result.accessTokenClaims == ["https://usher/plan": "pro"])
        #expect(result.idTokenClaims == ["https://usher/snapshot": ["n": 1]])
    }

    @Test func actionsRunInOrderAndLaterCallsWin() {
        let first = """
            exports.onExecutePostLogin = async (event, api) => {
              api.user.setAppMetadata('order', ['first']);
              api.user.setAppMetadata('onlyFirst', 1);
              api.idToken.setCustomClaim('c', 'first');
            };
            """
        let second = """
            exports.onExecutePostLogin = async (event, api) => {
              // Auth0 batches: earlier Actions' changes are not visible in the event.
              api.user.setAppMetadata('order', ['second', event.user.app_metadata.order === undefined]);
              api.idToken.setCustomClaim('c', 'second');
            };
            """
        let result = engine.execute(Fixtures.request(first, second))
        #expect(result.failure == nil)
        #expect(result.appMetadataChanges == ["order": ["second", true], "onlyFirst": 1])
        #expect(result.idTokenClaims == ["c": "second"])
        #expect(result.actions.map(\.actionName) == ["action 1", "action 2"])
    }

    @Test func denyStopsLaterActionsButKeepsQueuedChanges() {
        let denying = """
            exports.onExecutePostLogin = async (event, api) => {
              api.user.setAppMetadata('seen', true);
              api.access.deny('invitation required');
              console.log('still runs after deny');
            };
            """
        let later = "exports.onExecutePostLogin = async (event, api) => { api.user.setAppMetadata('later', true); };"
        let result = engine.execute(Fixtures.request(Fixtures.seedAction, denying, later))
        #expect(result.failure == nil)
        #expect(result.denied == ActionDenial(actionID: "act_action_2", actionName: "action 2", reason: "invitation required"))
        #expect(result.appMetadataChanges == ["needsInvitation": false, "seen": true])
        #expect(result.actions.count == 2)
        #expect(result.logs == [ActionLogEntry(level: "log", message: "still runs after deny")])
    }

    @Test func consoleIsCapturedAndBounded() {
        let code = """
            exports.onExecutePostLogin = async (event, api) => {
              console.log('hello', { a: 1 }, [1, 2], 3);
              console.info('%s has %d logins', event.user.email, event.stats.logins_count);
              console.warn(new Error('careful'));
              console.error('bad');
              for (let i = 0; i < 100000; i++) console.log('spam ' + i);
            };
            """
        let engine = JavaScriptActionEngine(limits: ActionLimits(maxLogCharacters: 1000))
        let result = engine.execute(Fixtures.request(code))
        #expect(result.failure == nil)
        let logs = result.logs
        #expect(
            logs.prefix(4) == [
                ActionLogEntry(level: "log", message: #"hello {"a":1} [1,2] 3"#),
                ActionLogEntry(level: "info", message: "ada@example.com has 3 logins"),
                ActionLogEntry(level: "warn", message: "Error: careful"),
                ActionLogEntry(level: "error", message: "bad"),
            ])
        #expect(logs.last?.message.hasSuffix("…[log truncated]") == true)
        #expect(logs.map(\.message.count).reduce(0, +) < 1100)
    }

    @Test func eachExecutionSeesACleanGlobalScope() {
        let polluter = """
            globalThis.leaked = 'yes';
            var topLevel = 1;
            Object.prototype.polluted = true;
            Array.prototype.push = function () { throw new Error('tampered'); };
            JSON.stringify = () => 'tampered';
            exports.onExecutePostLogin = async (event, api) => { globalThis.fromHandler = 1; };
            """
        let inspector = """
            exports.onExecutePostLogin = async (event, api) => {
              const seen = [typeof leaked, typeof topLevel, typeof fromHandler, ({}).polluted, JSON.stringify({a: 1})];
              const a = []; a.push(1);
              api.user.setAppMetadata('seen', seen);
            };
            """
        // Across executions on the same engine, and across Actions within one execution.
        #expect(engine.execute(Fixtures.request(polluter)).failure == nil)
        let later = engine.execute(Fixtures.request(inspector))
        let sameLogin = engine.execute(Fixtures.request(polluter, inspector))
        let expected: JSONValue = ["undefined", "undefined", "undefined", .null, #"{"a":1}"#]
        #expect(later.appMetadataChanges["seen"] == expected)
        #expect(sameLogin.appMetadataChanges["seen"] == expected)
    }

    /// The engine reuses an Action's source text between executions; the same Action run for two users must
    /// still start from nothing each time (module scope, globals, prototypes), and a new version under the same
    /// ID must run its own code and secrets.
    @Test func sameActionForTwoUsersSharesNothing() {
        let code = """
            const seen = [];
            exports.onExecutePostLogin = async (event, api) => {
              seen.push(event.user.user_id);
              const before = [globalThis.lastUser, ({}).lastUser, Array.prototype.lastUser];
              globalThis.lastUser = event.user.user_id;
              Object.prototype.lastUser = event.user.user_id;
              Array.prototype.lastUser = event.user.user_id;
              api.user.setAppMetadata('seen', seen);
              api.user.setAppMetadata('before', before);
              api.idToken.setCustomClaim('secret', event.secrets.KEY || null);
            };
            """
        let action = ActionDefinition(actionID: "act_same", name: "same", code: code, secrets: ["KEY": "v1"])
        for user in ["auth0|alice", "auth0|bob", "auth0|carol"] {
            let result = engine.execute(
                PostLoginExecutionRequest(event: Fixtures.event(needsInvitation: true, userID: user), actions: [action]))
            #expect(result.failure == nil)
            #expect(result.appMetadataChanges["seen"] == [.string(user)])
            #expect(result.appMetadataChanges["before"] == [.null, .null, .null])
            #expect(result.idTokenClaims["secret"] == "v1")
        }
        var next = action
        next.code = "exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('secret', 'v2:' + event.secrets.KEY); };"
        next.secrets = ["KEY": "s2"]
        #expect(
            engine.execute(PostLoginExecutionRequest(event: Fixtures.event(needsInvitation: true), actions: [next])).idTokenClaims
                == ["secret": "v2:s2"])
        var rotated = next
        rotated.secrets = ["KEY": "s3"]
        #expect(
            engine.execute(PostLoginExecutionRequest(event: Fixtures.event(needsInvitation: true), actions: [rotated])).idTokenClaims
                == ["secret": "v2:s3"])
    }

    @Test func tamperingWithIntrinsicsCannotForgeTheReport() {
        let code = """
            exports.onExecutePostLogin = async (event, api) => {
              api.user.setAppMetadata('real', 1);
              JSON.stringify = () => '{"forged":true}';
              JSON.parse = () => ({ forged: true });
              Object.defineProperty(Object.prototype, 'forged', { set() { throw new Error('x'); }, get() { return 1; } });
              Object.prototype.toJSON = function () { return 'forged'; };
              Promise.prototype.then = function () { throw new Error('no then'); };
              String.prototype.slice = () => 'forged';
              globalThis.console = undefined;
              api.user.setAppMetadata('after', 'tamper');
            };
            """
        let result = engine.execute(Fixtures.request(code))
        #expect(result.failure == nil)
        // Strings have no toJSON lookup, so even the poisoned Object.prototype cannot change what was recorded.
        #expect(result.appMetadataChanges == ["real": 1, "after": "tamper"])
    }

    @Test func thrownErrorsAndRejectionsFailTheExecution() throws {
        let thrown = engine.execute(
            Fixtures.request(
                """
                exports.onExecutePostLogin = async (event, api) => {
                  api.user.setAppMetadata('partial', true);
                  throw new Error('nope');
                };
                """))
        // JavaScriptCore positions `new Error(…)` at its argument list.
        #expect(thrown.failureKind == .thrown(message: "Error: nope", line: 3, column: 18))
        #expect(thrown.appMetadataChanges.isEmpty)

        let rejected = engine.execute(
            Fixtures.request(
                "exports.onExecutePostLogin = (event, api) => Promise.reject(new TypeError('rejected'));"))
        guard case .thrown(let message, _, _) = rejected.failureKind else {
            Issue.record("expected a thrown failure, got \(String(describing: rejected.failure))")
            return
        }
        #expect(message == "TypeError: rejected")

        let nonError = engine.execute(Fixtures.request("exports.onExecutePostLogin = async () => { throw 42; };"))
        #expect(nonError.failureKind == .thrown(message: "42", line: nil, column: nil))

        // Earlier Actions' changes survive a later failure; the failing Action's own do not.
        let partial = engine.execute(Fixtures.request(Fixtures.seedAction, "exports.onExecutePostLogin = async () => { null.x; };"))
        #expect(partial.appMetadataChanges == ["needsInvitation": false])
        #expect(partial.failure?.actionName == "action 2")
    }

    @Test func neverSettlingPromiseIsReported() {
        let result = engine.execute(
            Fixtures.request(
                "exports.onExecutePostLogin = async (event, api) => { await new Promise(() => {}); };"))
        #expect(result.failureKind == .notSettled)
        #expect(result.failure?.description.contains("did not settle") == true)
    }

    @Test func nodeEscapeHatchesAreAbsent() {
        let fs = engine.execute(
            Fixtures.request(
                "const fs = require('fs'); exports.onExecutePostLogin = async () => {};"))
        #expect(fs.failureKind == .thrown(message: "Error: module 'fs' is not available in Usher Actions", line: 1, column: 19))

        let exit = engine.execute(Fixtures.request("exports.onExecutePostLogin = async () => { process.exit(1); };"))
        guard case .thrown(let message, _, _) = exit.failureKind else {
            Issue.record("expected a thrown failure, got \(String(describing: exit.failure))")
            return
        }
        #expect(message.contains("process"))

        let probe = engine.execute(
            Fixtures.request(
                """
                exports.onExecutePostLogin = async (event, api) => {
                  api.user.setAppMetadata('globals', [typeof fetch, typeof XMLHttpRequest, typeof WebAssembly,
                    typeof FinalizationRegistry, typeof setTimeout, typeof process]);
                };
                """))
        #expect(probe.appMetadataChanges["globals"] == ["undefined", "undefined", "undefined", "undefined", "undefined", "undefined"])
    }

    @Test func missingHandlerIsInvalid() {
        let result = engine.execute(Fixtures.request("exports.somethingElse = 1;"))
        #expect(result.failureKind == .invalidAction(message: "exports.onExecutePostLogin is not a function"))
        let moduleExports = engine.execute(
            Fixtures.request(
                "module.exports = { onExecutePostLogin: async (e, api) => { api.user.setUserMetadata('m', 1); } };"))
        #expect(moduleExports.userMetadataChanges == ["m": 1])
    }

    @Test func syntaxErrorsReportLineAndColumn() {
        let result = engine.execute(Fixtures.request("exports.onExecutePostLogin = async (event, api) => {\n  if (x {\n};"))
        #expect(result.failureKind == .compile(line: 2, column: 9, message: "Unexpected token '{'. Expected ')' to end an 'if' condition."))
    }

    @Test func infiniteLoopsHitTheTimeLimit() {
        for code in [
            "exports.onExecutePostLogin = async () => { while (true) {} };",
            "exports.onExecutePostLogin = async () => { await null; while (true) {} };",
            "while (true) {}",
            "exports.onExecutePostLogin = async () => { for (;;) { try { while (true) {} } catch (e) {} } };",
        ] {
            let clock = ContinuousClock()
            let start = clock.now
            let result = engine.execute(Fixtures.request(code))
            let elapsed = clock.now - start
            #expect(result.failureKind == .timeout, "\(code)")
            #expect(elapsed >= .milliseconds(450) && elapsed < .seconds(2), "\(code): \(elapsed)")
            // The engine is usable afterwards.
            #expect(engine.execute(Fixtures.request(Fixtures.seedAction)).appMetadataChanges == ["needsInvitation": false])
        }
        #expect(engine.terminatedExecutions == 4)
    }

    @Test func nativeWorkThatEndsPastTheDeadlineStillTimesOut() {
        // One backtracking regular expression runs ~0.6 s inside JavaScriptCore's regex engine, where the
        // watchdog does not look; the limit is enforced when it returns.
        let engine = JavaScriptActionEngine(limits: ActionLimits(timeLimit: .milliseconds(200)))
        let result = engine.execute(
            Fixtures.request(
                "exports.onExecutePostLogin = async () => { /^(a+)+$/.test('a'.repeat(40) + 'b'); };"))
        #expect(result.failureKind == .timeout)
    }

    @Test func timeLimitCoversTheWholeList() {
        let slow = "exports.onExecutePostLogin = async () => { const end = Date.now() + 300; while (Date.now() < end) {} };"
        let result = engine.execute(Fixtures.request(slow, slow, slow))
        #expect(result.failureKind == .timeout)
        #expect(result.failure?.actionName == "action 2")
    }

    @Test func recordedChangesAreBounded() {
        let engine = JavaScriptActionEngine(limits: ActionLimits(maxRecordedCharacters: 1000))
        let result = engine.execute(
            Fixtures.request(
                "exports.onExecutePostLogin = async (e, api) => { api.user.setAppMetadata('big', 'x'.repeat(2000)); };"))
        guard case .thrown(let message, _, _) = result.failureKind else {
            Issue.record("expected a thrown failure, got \(String(describing: result.failure))")
            return
        }
        #expect(message.contains("exceed 1000"))
    }

    @Test func unsupportedApiSaysSo() {
        let result = engine.execute(
            Fixtures.request(
                """
                exports.onExecutePostLogin = async (event, api) => {
                  api.user.setAppMetadata('canRedirect', api.redirect.canRedirect());
                  api.redirect.sendUserTo('https://example.com');
                };
                """))
        #expect(result.failureKind == .thrown(message: "Error: api.redirect.sendUserTo is not supported by Usher Actions", line: 3, column: 26))
    }
}
