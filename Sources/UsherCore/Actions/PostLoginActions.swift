import Foundation
import UsherJSON

/// A deployed version of an Action, as the post-login trigger runs it.
public struct DeployedAction: Sendable, Equatable {
    public var actionID: String
    public var name: String
    public var code: String
    /// `event.secrets` for this Action.
    public var secrets: [String: String]

    public init(actionID: String, name: String, code: String, secrets: [String: String] = [:]) {
        self.actionID = actionID
        self.name = name
        self.code = code
        self.secrets = secrets
    }
}

/// One line an Action wrote with `console.*`.
public struct ActionConsoleLine: Sendable, Equatable {
    public var actionName: String
    public var level: String
    public var message: String

    public init(actionName: String, level: String, message: String) {
        self.actionName = actionName
        self.level = level
        self.message = message
    }
}

/// What the post-login Actions of one login decided. Metadata changes are merged over every Action that
/// completed (a `.null` value deletes the key) and are applied once, after all Actions ran, as Auth0 does.
public struct PostLoginOutcome: Sendable, Equatable {
    public var appMetadataChanges: JSONObject
    public var userMetadataChanges: JSONObject
    public var idTokenClaims: JSONObject
    public var accessTokenClaims: JSONObject
    /// `api.access.deny(reason)`: the Action's name and the reason.
    public var denied: (action: String, reason: String)?
    /// Set when an Action threw, timed out, ran out of memory or could not run: the login fails.
    public var failure: String?
    public var console: [ActionConsoleLine]
    /// Time spent per Action, microseconds, in order.
    public var durations: [(action: String, microseconds: Int)]

    public init(
        appMetadataChanges: JSONObject = [:], userMetadataChanges: JSONObject = [:], idTokenClaims: JSONObject = [:],
        accessTokenClaims: JSONObject = [:], denied: (action: String, reason: String)? = nil, failure: String? = nil,
        console: [ActionConsoleLine] = [], durations: [(action: String, microseconds: Int)] = []
    ) {
        self.appMetadataChanges = appMetadataChanges
        self.userMetadataChanges = userMetadataChanges
        self.idTokenClaims = idTokenClaims
        self.accessTokenClaims = accessTokenClaims
        self.denied = denied
        self.failure = failure
        self.console = console
        self.durations = durations
    }

    public static func == (a: PostLoginOutcome, b: PostLoginOutcome) -> Bool {
        a.appMetadataChanges == b.appMetadataChanges && a.userMetadataChanges == b.userMetadataChanges && a.idTokenClaims == b.idTokenClaims
            && a.accessTokenClaims == b.accessTokenClaims && a.denied?.action == b.denied?.action && a.denied?.reason == b.denied?.reason
            && a.failure == b.failure && a.console == b.console
    }
}

/// A syntax error in Action code, for the Management API's 400 on save.
public struct ActionSyntaxError: Sendable, Equatable {
    public var line: Int
    public var column: Int
    public var message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }
}

/// Runs Actions: implemented by `UsherApp` over the supervised JavaScriptCore worker pool (`UsherActions`), so
/// the domain does not depend on the JavaScript engine.
public protocol PostLoginActionRunner: Sendable {
    /// Runs `actions` in order with Auth0's post-login `event` (without `secrets`; each Action gets its own).
    func run(event: JSONObject, actions: [DeployedAction]) async -> PostLoginOutcome
    /// Runs `actions` ahead of need — while the login's password is still being checked — when that is cheap right
    /// now (a worker is free) and under `timeLimit`. nil when declined, or when the result does not stand for a
    /// real run (it ran out of the shortened time, the worker died); the caller then uses `run` once the Actions
    /// are certainly needed.
    func runAhead(event: JSONObject, actions: [DeployedAction], timeLimit: Duration) async -> PostLoginOutcome?
    /// Syntax errors of `code` (empty when it parses).
    func syntaxErrors(in code: String) -> [ActionSyntaxError]
}

extension PostLoginActionRunner {
    /// Runners that cannot run ahead cheaply decline.
    public func runAhead(event: JSONObject, actions: [DeployedAction], timeLimit: Duration) async -> PostLoginOutcome? { nil }
}

/// A runner for deployments with no JavaScript engine wired (tests of other features): runs nothing and says so.
public struct UnavailableActionRunner: PostLoginActionRunner {
    public init() {}
    public func run(event: JSONObject, actions: [DeployedAction]) async -> PostLoginOutcome {
        actions.isEmpty ? PostLoginOutcome() : PostLoginOutcome(failure: "Actions are not available in this process")
    }
    public func syntaxErrors(in code: String) -> [ActionSyntaxError] { [] }
}
