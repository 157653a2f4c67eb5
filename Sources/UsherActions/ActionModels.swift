import UsherJSON

/// One deployed Action bound to the post-login trigger, as the host hands it to the runner.
///
/// The runner is stateless about Actions: every execution carries the code and secrets it needs, so a
/// deploy takes effect on the next login without telling the workers anything.
public struct ActionDefinition: Codable, Sendable, Hashable {
    /// The Action's id (Auth0: a UUID); echoed in reports so the host can link logs to the Action.
    public var actionID: String
    /// The Action's display name; used in deny reports and failure messages.
    public var name: String
    /// The JavaScript source, a CommonJS module exporting `onExecutePostLogin`.
    public var code: String
    /// Secrets the Action sees as `event.secrets` (only this Action's, never another's).
    public var secrets: [String: String]

    public init(actionID: String, name: String, code: String, secrets: [String: String] = [:]) {
        self.actionID = actionID
        self.name = name
        self.code = code
        self.secrets = secrets
    }
}

/// Everything needed to run the post-login trigger for one login.
public struct PostLoginExecutionRequest: Codable, Sendable, Hashable {
    /// Auth0's post-login `event` object (`user`, `client`, `connection`, `request`, `stats`, `transaction`,
    /// `tenant`, `authorization`, …) without `secrets`: each Action gets its own secrets as `event.secrets`.
    public var event: JSONValue
    /// The bound Actions in execution order (the trigger's binding order).
    public var actions: [ActionDefinition]

    public init(event: JSONValue, actions: [ActionDefinition]) {
        self.event = event
        self.actions = actions
    }
}

/// Limits applied to one execution (one login's list of Actions).
///
/// They travel with each request to the worker, so the pool's configuration is the single source of truth
/// and the pool's own outside deadline is always consistent with the limit the worker enforces inside.
public struct ActionLimits: Codable, Sendable, Hashable {
    /// Wall-clock budget for all Actions of one login together (module evaluation, handler, promise drain).
    public var timeLimit: Duration
    /// How much the process's resident memory may grow above its level when each Action starts.
    public var memoryBudgetBytes: Int
    /// Bound on console output kept per execution, in UTF-16 code units (JavaScript string length); the rest
    /// is dropped with a truncation marker.
    public var maxLogCharacters: Int
    /// Bound on the JSON text recorded through `api.*` calls per Action (metadata values and claims), in
    /// UTF-16 code units; past it the `api` call throws a RangeError inside the Action.
    public var maxRecordedCharacters: Int
    /// How often the in-engine watchdog looks at the clock and at RSS while JavaScript runs.
    public var watchdogSlice: Duration

    public init(
        timeLimit: Duration = .seconds(5),
        memoryBudgetBytes: Int = 128 << 20,
        maxLogCharacters: Int = 64 << 10,
        maxRecordedCharacters: Int = 1 << 20,
        watchdogSlice: Duration = .milliseconds(5)
    ) {
        self.timeLimit = timeLimit
        self.memoryBudgetBytes = memoryBudgetBytes
        self.maxLogCharacters = maxLogCharacters
        self.maxRecordedCharacters = maxRecordedCharacters
        self.watchdogSlice = watchdogSlice
    }
}

/// One line of console output from an Action.
public struct ActionLogEntry: Codable, Sendable, Hashable {
    /// The console method used: `log`, `info`, `warn`, `error` or `debug`.
    public var level: String
    public var message: String

    public init(level: String, message: String) {
        self.level = level
        self.message = message
    }
}

/// A syntax error in an Action's code, positioned for an editor (1-based line and column, UTF-16 units).
public struct ActionCompileError: Codable, Sendable, Hashable, Error, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(line):\(column): SyntaxError: \(message)" }
}

/// Why one Action (or the whole execution) did not complete normally.
public enum ActionFailure: Codable, Sendable, Hashable, Error {
    /// The execution ran past its time limit (inside the worker or, as a backstop, from the outside).
    case timeout
    /// The execution grew memory past its budget (or the worker past its hard bound) or JavaScriptCore
    /// itself ran out of memory.
    case memoryLimit
    /// The Action threw or its promise rejected. `line`/`column` point into the Action's code when known.
    case thrown(message: String, line: Int?, column: Int?)
    /// The code does not parse.
    case compile(line: Int, column: Int, message: String)
    /// The handler's promise was still pending once no more work could run (nothing can settle it).
    case notSettled
    /// The module does not export an `onExecutePostLogin` function.
    case invalidAction(message: String)
    /// The worker process died while running this execution (and has been replaced).
    case workerCrashed
    /// No worker could take the execution (queue full, queue wait exceeded, pool shut down).
    case unavailable(reason: String)
    /// A bug or protocol error in the runner itself.
    case internalError(message: String)
}

/// A failure with the Action it happened in, when known.
public struct ActionExecutionFailure: Codable, Sendable, Hashable, CustomStringConvertible {
    public var actionID: String?
    public var actionName: String?
    public var kind: ActionFailure

    public init(actionID: String? = nil, actionName: String? = nil, kind: ActionFailure) {
        self.actionID = actionID
        self.actionName = actionName
        self.kind = kind
    }

    public var description: String {
        let place = actionName.map { "Action '\($0)': " } ?? ""
        switch kind {
        case .timeout: return place + "execution time limit exceeded"
        case .memoryLimit: return place + "memory limit exceeded"
        case .thrown(let message, let line, let column):
            if let line, let column { return place + "\(message) (line \(line), column \(column))" }
            return place + message
        case .compile(let line, let column, let message): return place + "SyntaxError at \(line):\(column): \(message)"
        case .notSettled: return place + "action did not settle"
        case .invalidAction(let message): return place + message
        case .workerCrashed: return place + "the action worker crashed"
        case .unavailable(let reason): return place + "actions unavailable: \(reason)"
        case .internalError(let message): return place + "internal error: \(message)"
        }
    }
}

/// An Action's `api.access.deny(reason)` call.
public struct ActionDenial: Codable, Sendable, Hashable {
    public var actionID: String
    public var actionName: String
    public var reason: String

    public init(actionID: String, actionName: String, reason: String) {
        self.actionID = actionID
        self.actionName = actionName
        self.reason = reason
    }
}

/// What happened in one Action of the list.
public struct ActionRunReport: Codable, Sendable, Hashable {
    public var actionID: String
    public var actionName: String
    /// Console output, in order, bounded by `ActionLimits.maxLogCharacters` over the whole execution.
    public var logs: [ActionLogEntry]
    /// Wall-clock time spent in this Action, microseconds.
    public var durationMicroseconds: Int
    /// Set when this Action failed; its own `api` calls are then discarded.
    public var failure: ActionFailure?

    public init(
        actionID: String, actionName: String, logs: [ActionLogEntry] = [], durationMicroseconds: Int = 0,
        failure: ActionFailure? = nil
    ) {
        self.actionID = actionID
        self.actionName = actionName
        self.logs = logs
        self.durationMicroseconds = durationMicroseconds
        self.failure = failure
    }
}

/// The outcome of running the post-login trigger for one login.
///
/// Changes are merged over all Actions that completed (later calls win per key) and are meant to be applied
/// by the host once, after the flow (Auth0 batches them the same way). A `JSONValue.null` value means
/// "delete this key". On `denied`, changes made up to and including the denying Action are still reported:
/// Auth0 does not cancel them. On `failure`, changes of the Actions that completed before the failing one are
/// reported, the failing Action's own are not; the host should fail the login.
public struct PostLoginExecutionResult: Codable, Sendable, Hashable {
    public var appMetadataChanges: JSONObject
    public var userMetadataChanges: JSONObject
    public var idTokenClaims: JSONObject
    public var accessTokenClaims: JSONObject
    public var denied: ActionDenial?
    /// One report per Action that started, in order.
    public var actions: [ActionRunReport]
    public var failure: ActionExecutionFailure?

    public init(
        appMetadataChanges: JSONObject = [:], userMetadataChanges: JSONObject = [:],
        idTokenClaims: JSONObject = [:], accessTokenClaims: JSONObject = [:],
        denied: ActionDenial? = nil, actions: [ActionRunReport] = [], failure: ActionExecutionFailure? = nil
    ) {
        self.appMetadataChanges = appMetadataChanges
        self.userMetadataChanges = userMetadataChanges
        self.idTokenClaims = idTokenClaims
        self.accessTokenClaims = accessTokenClaims
        self.denied = denied
        self.actions = actions
        self.failure = failure
    }

    /// A result that only carries a failure (nothing ran, or the worker's answer was lost).
    public static func failed(_ kind: ActionFailure, actionID: String? = nil, actionName: String? = nil) -> Self {
        PostLoginExecutionResult(failure: ActionExecutionFailure(actionID: actionID, actionName: actionName, kind: kind))
    }

    /// All console output of the execution, in order.
    public var logs: [ActionLogEntry] { actions.flatMap(\.logs) }
}
