import Foundation
import Testing
import UsherActions
import UsherApp
import UsherCore
import UsherJSON

/// `WorkerPoolActionRunner`: the domain's runner over the real JavaScriptCore worker pool.
@Suite("Worker pool action runner")
struct WorkerPoolActionRunnerTests {
    @Test func workerPoolRunnerMapsOutcomes() async throws {
        // A pool of its own with a short limit, so the runaway Action burns half a second of CPU, not five.
        let pool = ActionWorkerPool(
            configuration: .init(
                command: WorkerCommand(executablePath: try UsherBinary.path()), workerCount: 1,
                limits: ActionLimits(timeLimit: .milliseconds(500)), grace: .milliseconds(500), queueTimeout: .seconds(30)))
        let runner = WorkerPoolActionRunner(pool: pool)
        #expect(await runner.run(event: [:], actions: []) == PostLoginOutcome())
        let slow = DeployedAction(actionID: "a1", name: "Slow", code: "exports.onExecutePostLogin = async () => { while (true) {} };")
        let outcome = await runner.run(event: ["user": ["user_id": "auth0|1"]], actions: [slow])
        #expect(outcome.failure == "Action 'Slow': execution time limit exceeded")
        let claims = DeployedAction(
            actionID: "a2", name: "Claims",
            code:
                "exports.onExecutePostLogin = async (event, api) => { console.warn('n', 1.5); api.accessToken.setCustomClaim('https://x/n', 42); api.user.setAppMetadata('ratio', 0.5); };"
        )
        let second = await runner.run(event: ["user": ["user_id": "auth0|1"]], actions: [claims])
        #expect(second.failure == nil && second.accessTokenClaims == ["https://x/n": 42] && second.appMetadataChanges == ["ratio": 0.5])
        #expect(second.console == [ActionConsoleLine(actionName: "Claims", level: "warn", message: "n 1.5")])
        #expect(second.durations.map(\.action) == ["Claims"])
        #expect(runner.syntaxErrors(in: "exports.x = ;").first?.line == 1)
        #expect(runner.syntaxErrors(in: ActionsAPITests.seedCode).isEmpty)
        await pool.shutdown()
        // Without a pool (CLI commands): syntax is still checked, nothing runs.
        let offline = WorkerPoolActionRunner(pool: nil)
        #expect(offline.syntaxErrors(in: "exports.x = ;").count == 1)
        #expect(await offline.run(event: [:], actions: [claims]).failure != nil)
    }

    /// Running ahead (see `LoginService.authenticate`) takes a free worker or nothing, and stops at its own short limit.
    @Test(.timeLimit(.minutes(1))) func runAheadNeverQueuesAndStopsAtItsShortLimit() async throws {
        // The pool's own limit is 90 s: only the shortened one can end the loop below within the test's minute.
        let pool = ActionWorkerPool(
            configuration: .init(
                command: WorkerCommand(executablePath: try UsherBinary.path()), workerCount: 1,
                limits: ActionLimits(timeLimit: .seconds(90)), grace: .milliseconds(500)))
        await pool.start()
        let runner = WorkerPoolActionRunner(pool: pool)
        let event: JSONObject = ["user": ["user_id": "auth0|1"]]
        let fast = DeployedAction(
            actionID: "a1", name: "Fast", code: "exports.onExecutePostLogin = async (event, api) => { api.user.setAppMetadata('seen', event.user.user_id); };")
        let ahead = await runner.runAhead(event: event, actions: [fast], timeLimit: .milliseconds(500))
        let normal = await runner.run(event: event, actions: [fast])
        #expect(ahead != nil && ahead == normal && normal.appMetadataChanges == ["seen": "auth0|1"])
        // What the Action decided stands, failures included…
        let throwing = DeployedAction(actionID: "a2", name: "Throws", code: "exports.onExecutePostLogin = async () => { throw new Error('no'); };")
        #expect(await runner.runAhead(event: event, actions: [throwing], timeLimit: .milliseconds(500))?.failure?.contains("no") == true)
        // …but running out of the short time says nothing about the real run: declined.
        let loop = DeployedAction(actionID: "a3", name: "Loop", code: "exports.onExecutePostLogin = async () => { while (true) {} };")
        let before = await pool.statistics().completedExecutions
        #expect(await runner.runAhead(event: event, actions: [loop], timeLimit: .milliseconds(200)) == nil)
        // Remembered: it is not run ahead again (every login would pay for a run that cannot finish).
        #expect(await runner.runAhead(event: event, actions: [fast, loop], timeLimit: .milliseconds(200)) == nil)
        #expect(await pool.statistics().completedExecutions == before + 1)
        #expect(await runner.runAhead(event: event, actions: [fast], timeLimit: .milliseconds(500)) != nil)

        // The only worker busy: declined at once, nothing queued behind the real execution.
        let slow = DeployedAction(
            actionID: "a4", name: "Slow", code: "exports.onExecutePostLogin = async () => { const end = Date.now() + 1500; while (Date.now() < end) {} };")
        let busy = Task { await runner.run(event: event, actions: [slow]) }
        while await pool.statistics().busyWorkerPIDs.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        #expect(await runner.runAhead(event: event, actions: [fast], timeLimit: .milliseconds(500)) == nil)
        let stats = await pool.statistics()
        #expect(stats.queuedExecutions == 0 && stats.busyWorkerPIDs.count == 1)
        #expect(await busy.value.failure == nil)
        await pool.shutdown()
    }
}
