import Foundation
import Testing
import UsherActions
import UsherApp
import UsherCore

/// `WorkerPoolActionRunner`: the domain's runner over the real JavaScriptCore worker pool.
@Suite("Worker pool action runner")
struct WorkerPoolActionRunnerTests {
    @Test func workerPoolRunnerMapsOutcomes() async throws {
        // A pool of its own with a short limit, so the runaway Action burns half a second of CPU, not five.
        let pool = ActionWorkerPool(configuration: .init(
            command: WorkerCommand(executablePath: try UsherBinary.path()), workerCount: 1,
            limits: ActionLimits(timeLimit: .milliseconds(500)), grace: .milliseconds(500), queueTimeout: .seconds(30)))
        let runner = WorkerPoolActionRunner(pool: pool)
        #expect(await runner.run(event: [:], actions: []) == PostLoginOutcome())
        let slow = DeployedAction(actionID: "a1", name: "Slow", code: "exports.onExecutePostLogin = async () => { while (true) {} };")
        let outcome = await runner.run(event: ["user": ["user_id": "auth0|1"]], actions: [slow])
        #expect(outcome.failure == "Action 'Slow': execution time limit exceeded")
        let claims = DeployedAction(
            actionID: "a2", name: "Claims",
            code: "exports.onExecutePostLogin = async (event, api) => { console.warn('n', 1.5); api.accessToken.setCustomClaim('https://x/n', 42); api.user.setAppMetadata('ratio', 0.5); };")
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
}
