import Foundation
import UsherJSON

/// Auth0's Actions Management API: drafts, deploys (immutable versions), the post-login trigger's bindings and
/// test runs, plus what a login needs (`boundPostLoginActions`).
///
/// Choices where Auth0 leaves room:
/// - Secrets: values are write-only. On PATCH, `secrets` is the complete new list: `{name, value}` sets a value,
///   `{name}` without a value keeps the stored one (so a GET → PATCH round trip loses nothing), and names not
///   listed are removed. Secrets are snapshotted into each deployed version; a login uses the deployed ones.
/// - Deleting a bound Action is refused with 409 unless `?force=true`, which also removes its bindings.
/// - Code that does not parse is refused on create, update and deploy with 400 and the line and column.
/// - Dependencies are stored and returned but not installed: `require` of them fails at run time.
public struct ActionService: Sendable {
    /// What the service reads and writes: only Actions, their versions and bindings.
    public typealias Store = any ActionStore

    let store: Store
    let clock: any UsherClock
    let runner: any PostLoginActionRunner

    public init(store: Store, clock: any UsherClock, runner: any PostLoginActionRunner) {
        self.store = store
        self.clock = clock
        self.runner = runner
    }

    public static let actionNotFound = UsherError(.notFound, "The action does not exist.", errorCode: "inexistent_action")
    public static let versionNotFound = UsherError(.notFound, "The action version does not exist.", errorCode: "inexistent_action_version")

    static let createFields: Set<String> = ["name", "supported_triggers", "code", "dependencies", "runtime", "secrets", "deploy", "modules"]
    static let updateFields: Set<String> = ["name", "supported_triggers", "code", "dependencies", "runtime", "secrets", "modules"]
    static let maxCodeLength = 100_000
    static let maxSecrets = 50
    static let maxBindings = 50

    // MARK: drafts

    /// `POST /actions/actions`: the new Action and, when `deploy` is true, its first version.
    public func create(_ body: JSONObject) async throws -> Action {
        let input = try PayloadReader(body, allowed: Self.createFields)
        guard let name = try input.string("name", minLength: 1, maxLength: 256).value else {
            throw UsherError.invalidBody("'Missing required property: name'.")
        }
        guard input.has("supported_triggers") else { throw UsherError.invalidBody("'Missing required property: supported_triggers'.") }
        let now = clock.now
        var action = Action(id: Action.generateID(), name: name, supportedTriggers: [], createdAt: now, updatedAt: now)
        try apply(input, to: &action, now: now, creating: true)
        let deploy = try input.bool("deploy").value ?? false
        try await store.insertAction(action)
        if deploy {
            _ = try await store.deployAction(id: action.id, versionID: ActionVersion.generateID(), at: now)
            return try await self.action(id: action.id)
        }
        return action
    }

    public func action(id: String) async throws -> Action {
        guard let action = try await store.action(id: id) else { throw Self.actionNotFound }
        return action
    }

    /// The Action as the API returns it, with its deployed version.
    public func managementJSON(_ action: Action) async throws -> JSONObject {
        guard let versionID = action.deployedVersionID else { return action.managementJSON(deployedVersion: nil) }
        return action.managementJSON(deployedVersion: try await store.actionVersion(id: versionID))
    }

    /// One page of `GET /actions/actions` with Auth0's filters.
    public struct ActionPage: Sendable {
        public var actions: [Action]
        public var total: Int
        public var page: Int
        public var perPage: Int
    }

    public func list(parameters: [String: String]) async throws -> ActionPage {
        let query = QueryParameters(parameters)
        let page = try query.integer("page", default: 0, range: 0...1_000_000)
        let perPage = try query.integer("per_page", default: 50, range: 1...100)
        var actions = try await store.listActions()
        if let trigger = parameters["triggerId"] ?? parameters["trigger_id"] {
            actions = actions.filter { $0.supportedTriggers.contains { $0.id == trigger } }
        }
        if let name = parameters["actionName"] ?? parameters["action_name"] { actions = actions.filter { $0.name == name } }
        if let deployed = parameters["deployed"] {
            guard let flag = Bool(deployed) else { throw UsherError.invalidQuery("Query validation error: 'deployed' must be true or false") }
            actions = actions.filter { ($0.deployedVersionID != nil) == flag }
        }
        // Usher has no marketplace integrations: `installed=true` matches nothing.
        if parameters["installed"] == "true" { actions = [] }
        let start = min(QueryParameters.offset(page: page, perPage: perPage), actions.count)
        return ActionPage(actions: Array(actions[start..<min(actions.count, start + perPage)]), total: actions.count, page: page, perPage: perPage)
    }

    /// `PATCH /actions/actions/{id}`: any field of the draft; the draft then differs from the deployed version.
    public func update(id: String, body: JSONObject) async throws -> Action {
        let input = try PayloadReader(body, allowed: Self.updateFields)
        var action = try await self.action(id: id)
        let before = action
        let now = clock.now
        try apply(input, to: &action, now: now, creating: false)
        if action != before {
            action.updatedAt = now
            action.allChangesDeployed = false
        }
        try await store.updateAction(action)
        return action
    }

    /// `DELETE /actions/actions/{id}`: refused while bound unless `force`, which also unbinds.
    public func delete(id: String, force: Bool) async throws {
        _ = try await self.action(id: id)
        let bound = try await store.triggerBindings(triggerID: ActionTrigger.postLogin).contains { $0.actionID == id }
        if bound && !force {
            throw UsherError(
                .conflict, "The action is bound to the post-login trigger. Remove the binding first, or delete with force=true.",
                errorCode: "action_bound")
        }
        guard try await store.deleteAction(id: id) else { throw Self.actionNotFound }
    }

    // MARK: versions

    /// `POST /actions/actions/{id}/deploy`: snapshots the draft as a new version and makes it the one that runs.
    public func deploy(id: String) async throws -> (version: ActionVersion, action: Action) {
        let draft = try await self.action(id: id)
        try checkSyntax(draft.code)
        guard let version = try await store.deployAction(id: id, versionID: ActionVersion.generateID(), at: clock.now) else {
            throw Self.actionNotFound
        }
        return (version, try await self.action(id: id))
    }

    public func versions(actionID: String) async throws -> (versions: [ActionVersion], action: Action) {
        let action = try await self.action(id: actionID)
        return (try await store.actionVersions(actionID: actionID), action)
    }

    public func version(actionID: String, id: String) async throws -> (version: ActionVersion, action: Action) {
        let action = try await self.action(id: actionID)
        guard let version = try await store.actionVersion(id: id), version.actionID == actionID else { throw Self.versionNotFound }
        return (version, action)
    }

    // MARK: bindings

    /// Refuses every trigger but post-login with a clear 400.
    public static func checkTrigger(_ triggerID: String) throws(UsherError) {
        guard triggerID == ActionTrigger.postLogin else {
            throw UsherError(
                .invalidInput,
                "Trigger '\(triggerID)' is not supported: Usher runs Actions on the post-login trigger only (versions \(ActionTrigger.postLoginVersions.joined(separator: ", "))).",
                errorCode: "invalid_trigger")
        }
    }

    /// The trigger's bindings in execution order, each with its Action.
    public func bindings(triggerID: String) async throws -> [(binding: TriggerBinding, action: Action)] {
        try Self.checkTrigger(triggerID)
        let bindings = try await store.triggerBindings(triggerID: triggerID)
        var result: [(binding: TriggerBinding, action: Action)] = []
        for binding in bindings {
            if let action = try await store.action(id: binding.actionID) { result.append((binding, action)) }
        }
        return result
    }

    /// `PATCH /actions/triggers/{triggerId}/bindings`: replaces the list; array order is execution order.
    public func replaceBindings(triggerID: String, body: JSONObject) async throws -> [(binding: TriggerBinding, action: Action)] {
        try Self.checkTrigger(triggerID)
        let input = try PayloadReader(body, allowed: ["bindings"])
        guard let raw = input.body["bindings"] else { throw UsherError.invalidBody("'Missing required property: bindings'.") }
        guard case .array(let items) = raw else { throw PayloadReader.typeError("bindings", expected: "array", found: raw) }
        if items.count > Self.maxBindings {
            throw UsherError.invalidBody("'Array is too long (\(items.count)), maximum \(Self.maxBindings)' on property bindings.")
        }
        let existing = try await store.triggerBindings(triggerID: triggerID)
        let now = clock.now
        var result: [(binding: TriggerBinding, action: Action)] = []
        for (index, item) in items.enumerated() {
            let property = "bindings[\(index)]"
            guard case .object(let object) = item else { throw PayloadReader.typeError(property, expected: "object", found: item) }
            let entry = try PayloadReader(object, allowed: ["ref", "display_name", "secrets"])
            guard let ref = try entry.object("ref").value else { throw UsherError.invalidBody("'Missing required property: ref' on property \(property).") }
            let refReader = try PayloadReader(ref, allowed: ["type", "value"])
            guard let type = try refReader.string("type").value, let value = try refReader.string("value", minLength: 1).value else {
                throw UsherError.invalidBody("'Missing required property: type or value' on property \(property).ref.")
            }
            var previous: TriggerBinding?
            let action: Action?
            switch type {
            case "action_id": action = try await store.action(id: value)
            case "action_name": action = try await store.action(name: value)
            case "binding_id":
                previous = existing.first { $0.id == value }
                guard let previous else {
                    throw UsherError.invalidBody("'No binding with id \(value) on trigger \(triggerID)' on property \(property).ref.value.")
                }
                action = try await store.action(id: previous.actionID)
            default:
                throw UsherError.invalidBody("'No enum match for: \(type)' on property \(property).ref.type.")
            }
            guard let action else {
                throw UsherError.invalidBody("'No action with \(type == "action_name" ? "name" : "id") \(value)' on property \(property).ref.value.")
            }
            guard action.supportedTriggers.contains(where: { $0.id == triggerID }) else {
                throw UsherError.invalidBody("'Action \(action.name) does not support the \(triggerID) trigger' on property \(property).ref.")
            }
            guard action.deployedVersionID != nil else {
                throw UsherError.invalidBody("'Action \(action.name) has never been deployed; deploy it before binding it' on property \(property).ref.")
            }
            if result.contains(where: { $0.action.id == action.id }) {
                throw UsherError.invalidBody("'Action \(action.name) is bound more than once' on property \(property).ref.")
            }
            let displayName = try entry.string("display_name", minLength: 1, maxLength: 256).value ?? previous?.displayName ?? action.name
            var secrets = previous?.secrets ?? []
            if entry.has("secrets") {
                secrets = try Self.secrets(entry.body["secrets"]!, property: "\(property).secrets", existing: secrets, now: now, requireValues: previous == nil)
            }
            let binding = TriggerBinding(
                id: previous?.id ?? TriggerBinding.generateID(), triggerID: triggerID, actionID: action.id, displayName: displayName,
                secrets: secrets, createdAt: previous?.createdAt ?? now, updatedAt: now)
            result.append((binding, action))
        }
        try await store.replaceTriggerBindings(triggerID: triggerID, with: result.map(\.binding))
        return result
    }

    /// The deployed versions of the post-login bindings, in binding order, with their secrets: what each login runs.
    public func boundPostLoginActions() async throws -> [DeployedAction] {
        try await store.boundActionVersions(triggerID: ActionTrigger.postLogin).map { bound in
            var secrets = Dictionary(bound.version.secrets.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
            for secret in bound.binding.secrets { secrets[secret.name] = secret.value }
            return DeployedAction(actionID: bound.version.actionID, name: bound.actionName, code: bound.version.code, secrets: secrets)
        }
    }

    // MARK: test

    /// `POST /actions/actions/{id}/test`: runs the current draft once against `payload` (a post-login event) and
    /// reports what its `api` calls would change, its console output and how long it took.
    public func test(id: String, body: JSONObject) async throws -> JSONObject {
        let input = try PayloadReader(body, allowed: ["payload"])
        guard let payload = try input.object("payload").value else { throw UsherError.invalidBody("'Missing required property: payload'.") }
        let action = try await self.action(id: id)
        try checkSyntax(action.code)
        var event = payload
        event["secrets"] = nil  // the Action sees its own secrets, as at login
        let started = ContinuousClock.now
        let outcome = await runner.run(
            event: event, actions: [DeployedAction(actionID: action.id, name: action.name, code: action.code, secrets: action.secretValues)])
        let elapsed = ContinuousClock.now - started
        var access: JSONObject = ["denied": .bool(outcome.denied != nil)]
        if let denied = outcome.denied { access["reason"] = .string(denied.reason) }
        var result: JSONObject = [
            "result": .object([
                "app_metadata": .object(outcome.appMetadataChanges), "user_metadata": .object(outcome.userMetadataChanges),
                "id_token_claims": .object(outcome.idTokenClaims), "access_token_claims": .object(outcome.accessTokenClaims),
                "access": .object(access),
            ]),
            "logs": .array(outcome.console.map { .object(["level": .string($0.level), "message": .string($0.message)]) }),
            "stats": .object([
                "action_duration_ms": .double(Double(outcome.durations.reduce(0) { $0 + $1.microseconds }) / 1000),
                "total_duration_ms": .double(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15),
            ]),
        ]
        if let failure = outcome.failure { result["error"] = .object(["message": .string(failure)]) }
        return ["payload": .object(result)]
    }

    // MARK: validation

    /// 400 with the first syntax error's line and column when `code` does not parse.
    func checkSyntax(_ code: String) throws(UsherError) {
        guard let error = runner.syntaxErrors(in: code).first else { return }
        throw UsherError.invalidBody("'SyntaxError at line \(error.line), column \(error.column): \(error.message)' on property code.")
    }

    private func apply(_ input: PayloadReader, to action: inout Action, now: Date, creating: Bool) throws(UsherError) {
        if let name = try input.string("name", minLength: 1, maxLength: 256).value { action.name = name }
        if let raw = input.body["supported_triggers"] { action.supportedTriggers = try Self.triggers(raw) }
        if let code = try input.string("code", maxLength: Self.maxCodeLength).value {
            try checkSyntax(code)
            action.code = code
        }
        if let raw = input.body["dependencies"] { action.dependencies = try Self.dependencies(raw) }
        if let runtime = try input.string("runtime", minLength: 1, maxLength: 32).value {
            guard runtime.hasPrefix("node"), Int(runtime.dropFirst(4)) != nil else {
                throw .invalidBody("'Runtime \(runtime) is not supported; use a node runtime such as \(Action.defaultRuntime)' on property runtime.")
            }
            action.runtime = runtime
        }
        if let raw = input.body["secrets"] {
            action.secrets = try Self.secrets(raw, property: "secrets", existing: creating ? [] : action.secrets, now: now, requireValues: creating)
        }
        if let raw = input.body["modules"] {
            guard case .array(let modules) = raw else { throw PayloadReader.typeError("modules", expected: "array", found: raw) }
            if !modules.isEmpty { throw .invalidBody("'Action modules are not supported by Usher' on property modules.") }
        }
    }

    static func triggers(_ raw: JSONValue) throws(UsherError) -> [ActionTrigger] {
        guard case .array(let items) = raw else { throw PayloadReader.typeError("supported_triggers", expected: "array", found: raw) }
        guard !items.isEmpty else { throw .invalidBody("'Array is too short (0), minimum 1' on property supported_triggers.") }
        var triggers: [ActionTrigger] = []
        for item in items {
            guard case .object(let object) = item else { throw PayloadReader.typeError("supported_triggers[]", expected: "object", found: item) }
            let reader = try PayloadReader(object, allowed: ["id", "version", "status", "runtimes", "default_runtime", "compatible_triggers"])
            guard let id = try reader.string("id", minLength: 1).value else {
                throw .invalidBody("'Missing required property: id' on property supported_triggers[].")
            }
            guard id == ActionTrigger.postLogin else {
                throw .invalidBody(
                    "'Trigger \(id) is not supported: Usher runs Actions on the post-login trigger only' on property supported_triggers[].id.")
            }
            let version = try reader.string("version", minLength: 1).value ?? ActionTrigger.defaultPostLoginVersion
            guard ActionTrigger.postLoginVersions.contains(version) else {
                throw .invalidBody(
                    "'Version \(version) of post-login is not supported (supported: \(ActionTrigger.postLoginVersions.joined(separator: ", ")))' on property supported_triggers[].version."
                )
            }
            if triggers.contains(where: { $0.id == id }) { throw .invalidBody("'Trigger \(id) is listed more than once' on property supported_triggers.") }
            triggers.append(ActionTrigger(id: id, version: version))
        }
        return triggers
    }

    static func dependencies(_ raw: JSONValue) throws(UsherError) -> [ActionDependency] {
        guard case .array(let items) = raw else { throw PayloadReader.typeError("dependencies", expected: "array", found: raw) }
        var dependencies: [ActionDependency] = []
        for item in items {
            guard case .object(let object) = item else { throw PayloadReader.typeError("dependencies[]", expected: "object", found: item) }
            let reader = try PayloadReader(object, allowed: ["name", "version", "registry_url"])
            guard let name = try reader.string("name", minLength: 1, maxLength: 214).value,
                let version = try reader.string("version", minLength: 1, maxLength: 256).value
            else { throw .invalidBody("'Missing required property: name or version' on property dependencies[].") }
            dependencies.append(ActionDependency(name: name, version: version, registryURL: try reader.optionalString("registry_url", maxLength: 2_048)))
        }
        return dependencies
    }

    /// A complete secrets list: `{name, value}` sets; `{name}` keeps the value in `existing` (an error when there is
    /// none, or when `requireValues`); names not listed are dropped.
    static func secrets(_ raw: JSONValue, property: String, existing: [ActionSecret], now: Date, requireValues: Bool) throws(UsherError)
        -> [ActionSecret]
    {
        guard case .array(let items) = raw else { throw PayloadReader.typeError(property, expected: "array", found: raw) }
        if items.count > maxSecrets { throw .invalidBody("'Array is too long (\(items.count)), maximum \(maxSecrets)' on property \(property).") }
        var result: [ActionSecret] = []
        for item in items {
            guard case .object(let object) = item else { throw PayloadReader.typeError("\(property)[]", expected: "object", found: item) }
            let reader = try PayloadReader(object, allowed: ["name", "value", "updated_at"])
            guard let name = try reader.string("name", minLength: 1, maxLength: 256).value else {
                throw .invalidBody("'Missing required property: name' on property \(property)[].")
            }
            if result.contains(where: { $0.name == name }) { throw .invalidBody("'Secret \(name) is listed more than once' on property \(property).") }
            let old = existing.first { $0.name == name }
            if let value = try reader.string("value", maxLength: 10_000).value {
                result.append(ActionSecret(name: name, value: value, updatedAt: old?.value == value ? old!.updatedAt : now))
            } else if let old, !requireValues {
                result.append(old)
            } else {
                throw .invalidBody("'Missing required property: value' on property \(property)[] (secret \(name)).")
            }
        }
        return result
    }
}
