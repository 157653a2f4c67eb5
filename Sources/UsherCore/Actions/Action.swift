import Foundation
import UsherJSON

/// A trigger an Action is written for (`{"id": "post-login", "version": "v3"}`).
public struct ActionTrigger: Sendable, Hashable {
    public var id: String
    public var version: String

    public init(id: String, version: String) {
        self.id = id
        self.version = version
    }

    public var json: JSONObject { ["id": .string(id), "version": .string(version)] }

    /// The only trigger Usher runs, and the versions of its event/api it accepts.
    public static let postLogin = "post-login"
    public static let postLoginVersions = ["v2", "v3"]
    public static let defaultPostLoginVersion = "v3"
}

/// An npm dependency as Auth0 records it. Usher stores it for compatibility but installs nothing: `require` of
/// anything outside the sandbox fails when the Action runs.
public struct ActionDependency: Sendable, Hashable {
    public var name: String
    public var version: String
    public var registryURL: String?

    public init(name: String, version: String, registryURL: String? = nil) {
        self.name = name
        self.version = version
        self.registryURL = registryURL
    }

    public var json: JSONObject {
        var object: JSONObject = ["name": .string(name), "version": .string(version)]
        if let registryURL { object["registry_url"] = .string(registryURL) }
        return object
    }
}

/// A secret an Action reads as `event.secrets.<name>`. The value is stored but never returned by the API.
public struct ActionSecret: Sendable, Hashable {
    public var name: String
    public var value: String
    public var updatedAt: Date

    public init(name: String, value: String, updatedAt: Date) {
        self.name = name
        self.value = value
        self.updatedAt = updatedAt
    }

    /// What the API shows: the name and when the value last changed.
    public var publicJSON: JSONObject { ["name": .string(name), "updated_at": .string(Timestamp.iso8601(updatedAt))] }
}

/// An Action's draft: what `PATCH /actions/actions/{id}` edits and `/test` runs. Deploying snapshots it as an
/// immutable `ActionVersion`; logins run only deployed versions of bound Actions.
public struct Action: Sendable, Hashable {
    public var id: String
    public var name: String
    public var supportedTriggers: [ActionTrigger]
    public var code: String
    public var dependencies: [ActionDependency]
    public var runtime: String
    public var secrets: [ActionSecret]
    /// The version the last deploy created, if the Action was ever deployed.
    public var deployedVersionID: String?
    /// False once the draft changes after a deploy.
    public var allChangesDeployed: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, name: String, supportedTriggers: [ActionTrigger], code: String = "", dependencies: [ActionDependency] = [],
        runtime: String = Action.defaultRuntime, secrets: [ActionSecret] = [], deployedVersionID: String? = nil,
        allChangesDeployed: Bool = false, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.supportedTriggers = supportedTriggers
        self.code = code
        self.dependencies = dependencies
        self.runtime = runtime
        self.secrets = secrets
        self.deployedVersionID = deployedVersionID
        self.allChangesDeployed = allChangesDeployed
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public static let defaultRuntime = "node22"
    public static func generateID() -> String { UUID().uuidString.lowercased() }

    /// `event.secrets` for this draft.
    public var secretValues: [String: String] { Dictionary(secrets.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }) }

    /// The short form Auth0 nests in a version (`version.action`).
    public var summaryJSON: JSONObject {
        [
            "id": .string(id), "name": .string(name), "supported_triggers": .array(supportedTriggers.map { .object($0.json) }),
            "all_changes_deployed": .bool(allChangesDeployed), "created_at": .string(Timestamp.iso8601(createdAt)),
            "updated_at": .string(Timestamp.iso8601(updatedAt)),
        ]
    }

    /// The full Action as the Management API returns it; `deployedVersion` is the version `deployedVersionID` names.
    public func managementJSON(deployedVersion: ActionVersion?) -> JSONObject {
        var object = summaryJSON
        object["code"] = .string(code)
        object["dependencies"] = .array(dependencies.map { .object($0.json) })
        object["runtime"] = .string(runtime)
        object["secrets"] = .array(secrets.map { .object($0.publicJSON) })
        object["status"] = .string("built")
        if let deployedVersion {
            object["deployed_version"] = .object(deployedVersion.managementJSON(action: nil, deployed: true))
        }
        return object
    }
}

/// An immutable snapshot of an Action made by a deploy, numbered from 1 per Action.
public struct ActionVersion: Sendable, Hashable {
    public var id: String
    public var actionID: String
    public var number: Int
    public var code: String
    public var dependencies: [ActionDependency]
    public var runtime: String
    /// The secrets (with values) as they were when deployed: a login runs with these.
    public var secrets: [ActionSecret]
    public var supportedTriggers: [ActionTrigger]
    public var createdAt: Date

    public init(
        id: String, actionID: String, number: Int, code: String, dependencies: [ActionDependency], runtime: String,
        secrets: [ActionSecret], supportedTriggers: [ActionTrigger], createdAt: Date
    ) {
        self.id = id
        self.actionID = actionID
        self.number = number
        self.code = code
        self.dependencies = dependencies
        self.runtime = runtime
        self.secrets = secrets
        self.supportedTriggers = supportedTriggers
        self.createdAt = createdAt
    }

    public static func generateID() -> String { UUID().uuidString.lowercased() }

    /// The version as the Management API returns it; `action` is nested when given (Auth0 omits it inside
    /// `action.deployed_version`).
    public func managementJSON(action: Action?, deployed: Bool) -> JSONObject {
        let stamp = JSONValue.string(Timestamp.iso8601(createdAt))
        var object: JSONObject = [
            "id": .string(id), "action_id": .string(actionID), "code": .string(code),
            "dependencies": .array(dependencies.map { .object($0.json) }), "deployed": .bool(deployed), "runtime": .string(runtime),
            "secrets": .array(secrets.map { .object($0.publicJSON) }), "status": .string("built"), "number": .int(Int64(number)),
            "errors": .array([]), "built_at": stamp, "created_at": stamp, "updated_at": stamp,
            "supported_triggers": .array(supportedTriggers.map { .object($0.json) }),
        ]
        if let action { object["action"] = .object(action.summaryJSON) }
        return object
    }
}

/// One Action bound to a trigger; the position in the trigger's list is the execution order.
public struct TriggerBinding: Sendable, Hashable {
    public var id: String
    public var triggerID: String
    public var actionID: String
    public var displayName: String
    /// Secrets given with the binding; they override the deployed version's secrets of the same name.
    public var secrets: [ActionSecret]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, triggerID: String, actionID: String, displayName: String, secrets: [ActionSecret] = [], createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.triggerID = triggerID
        self.actionID = actionID
        self.displayName = displayName
        self.secrets = secrets
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public static func generateID() -> String { UUID().uuidString.lowercased() }

    public func managementJSON(action: JSONObject) -> JSONObject {
        [
            "id": .string(id), "trigger_id": .string(triggerID), "display_name": .string(displayName), "action": .object(action),
            "created_at": .string(Timestamp.iso8601(createdAt)), "updated_at": .string(Timestamp.iso8601(updatedAt)),
        ]
    }
}

/// A binding with the deployed version it runs, in binding order: what a login needs, in one query.
public struct BoundActionVersion: Sendable, Hashable {
    public var binding: TriggerBinding
    public var actionName: String
    public var version: ActionVersion

    public init(binding: TriggerBinding, actionName: String, version: ActionVersion) {
        self.binding = binding
        self.actionName = actionName
        self.version = version
    }
}
