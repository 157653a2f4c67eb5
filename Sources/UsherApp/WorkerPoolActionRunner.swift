import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UsherActions
import UsherCore
import UsherJSON

/// `PostLoginActionRunner` over the supervised JavaScriptCore worker pool (`UsherActions`).
///
/// Without a pool (CLI commands other than `serve`) it still checks syntax, in-process and without running
/// anything, and reports that Actions cannot run here.
public struct WorkerPoolActionRunner: PostLoginActionRunner {
    public let pool: ActionWorkerPool?
    /// Actions (by id and code) that ran out of a run ahead's time or memory: they are not run ahead again, since every
    /// login would pay for a run that cannot finish, then the real one.
    private let tooSlowToRunAhead = SlowActions()

    public init(pool: ActionWorkerPool?) { self.pool = pool }

    public func run(event: JSONObject, actions: [DeployedAction]) async -> PostLoginOutcome {
        // No bindings, no work: a login without Actions never wakes a worker.
        guard !actions.isEmpty else { return PostLoginOutcome() }
        guard let pool else { return await UnavailableActionRunner().run(event: event, actions: actions) }
        let result = await pool.execute(Self.request(event: event, actions: actions))
        return Self.outcome(result, actions: actions)
    }

    public func runAhead(event: JSONObject, actions: [DeployedAction], timeLimit: Duration) async -> PostLoginOutcome? {
        guard !actions.isEmpty, let pool, !tooSlowToRunAhead.containsAny(of: actions) else { return nil }
        guard let result = await pool.executeIfIdle(Self.request(event: event, actions: actions), timeLimit: timeLimit) else { return nil }
        // Only what the Actions decided stands for a real run; a limit hit under the shortened time or a worker lost
        // says nothing about how the real run would end.
        switch result.failure?.kind {
        case nil, .thrown?, .compile?, .notSettled?, .invalidAction?:
            return Self.outcome(result, actions: actions)
        case .timeout?, .memoryLimit?:
            // Either would most likely happen again: remembered, so later logins do not pay for it twice.
            tooSlowToRunAhead.insert(actions)
            return nil
        case .workerCrashed?, .unavailable?, .internalError?:
            return nil
        }
    }

    static func request(event: JSONObject, actions: [DeployedAction]) -> PostLoginExecutionRequest {
        PostLoginExecutionRequest(
            event: .object(event),
            actions: actions.map { ActionDefinition(actionID: $0.actionID, name: $0.name, code: $0.code, secrets: $0.secrets) })
    }

    public func syntaxErrors(in code: String) -> [ActionSyntaxError] {
        ActionCodeChecker.check(code).map { ActionSyntaxError(line: $0.line, column: $0.column, message: $0.message) }
    }

    /// Maps the pool's result onto the domain's outcome; failures read "Action 'X': execution time limit exceeded".
    static func outcome(_ result: PostLoginExecutionResult, actions: [DeployedAction]) -> PostLoginOutcome {
        var outcome = PostLoginOutcome(
            appMetadataChanges: result.appMetadataChanges, userMetadataChanges: result.userMetadataChanges,
            idTokenClaims: result.idTokenClaims, accessTokenClaims: result.accessTokenClaims)
        if let denied = result.denied { outcome.denied = (denied.actionName, denied.reason) }
        if var failure = result.failure {
            // A kill from outside (deadline, memory) loses the worker's reports; name the Action when only one ran,
            // or the one whose report is last.
            if failure.actionName == nil {
                failure.actionName = result.actions.last?.actionName ?? (actions.count == 1 ? actions[0].name : nil)
            }
            outcome.failure = failure.description
        }
        for report in result.actions {
            outcome.console += report.logs.map { ActionConsoleLine(actionName: report.actionName, level: $0.level, message: $0.message) }
            outcome.durations.append((report.actionName, report.durationMicroseconds))
        }
        return outcome
    }
}

/// Deployed Actions (id and code) remembered as too slow (or too big) to run ahead of the password check.
final class SlowActions: Sendable {
    private let keys = Mutex<Set<String>>([])
    /// More than this and the memory starts over (a tenant has a handful of Actions).
    static let capacity = 1_024

    private static func key(_ action: DeployedAction) -> String { action.actionID + "\u{0}" + action.code }

    func containsAny(of actions: [DeployedAction]) -> Bool {
        keys.withLock { keys in !keys.isEmpty && actions.contains { keys.contains(Self.key($0)) } }
    }

    func insert(_ actions: [DeployedAction]) {
        keys.withLock { keys in
            if keys.count >= Self.capacity { keys.removeAll() }
            for action in actions { keys.insert(Self.key(action)) }
        }
    }
}

/// Runs the worker pool beside the HTTP server: warms it at start, shuts the workers down after the server
/// stopped taking requests.
public struct ActionWorkerPoolService: Service {
    let pool: ActionWorkerPool

    public init(pool: ActionWorkerPool) { self.pool = pool }

    public func run() async throws {
        await pool.start()
        try? await gracefulShutdown()
        await pool.shutdown()
    }
}

extension ActionWorkerPool {
    /// This process's executable, for spawning `actions-worker`: `/proc/self/exe` where it exists, else argv[0].
    static var currentExecutablePath: String {
        let proc = "/proc/self/exe"
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: proc), FileManager.default.isExecutableFile(atPath: resolved) {
            return resolved
        }
        if let url = Bundle.main.executableURL { return url.resolvingSymlinksInPath().path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    }
}
