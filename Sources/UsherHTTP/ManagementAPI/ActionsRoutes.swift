import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/actions`: post-login Actions, their versions and trigger bindings.
///
/// Post-login only; see ActionService for secrets and deletion rules.
struct ActionsRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let actions = services.actions
        return [
            ManagementRoute(method: .post, path: "actions/actions", scopes: ["create:actions"]) { request, _ in
                let action = try await actions.create(try await HTTPInput.jsonObject(request))
                return HTTPOutput.json(try await actions.managementJSON(action), status: .created)
            },
            ManagementRoute(method: .get, path: "actions/actions", scopes: ["read:actions"]) { request, _ in
                let page = try await actions.list(parameters: HTTPInput.query(request))
                var items: [JSONValue] = []
                for action in page.actions { items.append(.object(try await actions.managementJSON(action))) }
                return HTTPOutput.json([
                    "actions": .array(items), "total": .int(Int64(page.total)), "page": .int(Int64(page.page)), "per_page": .int(Int64(page.perPage)),
                ])
            },
            ManagementRoute(method: .get, path: "actions/actions/:id", scopes: ["read:actions"]) { _, context in
                HTTPOutput.json(try await actions.managementJSON(try await actions.action(id: try HTTPInput.pathParameter("id", context))))
            },
            ManagementRoute(method: .patch, path: "actions/actions/:id", scopes: ["update:actions"]) { request, context in
                let action = try await actions.update(id: try HTTPInput.pathParameter("id", context), body: try await HTTPInput.jsonObject(request))
                return HTTPOutput.json(try await actions.managementJSON(action))
            },
            ManagementRoute(method: .delete, path: "actions/actions/:id", scopes: ["delete:actions"]) { request, context in
                let force = HTTPInput.query(request)["force"] == "true"
                try await actions.delete(id: try HTTPInput.pathParameter("id", context), force: force)
                return HTTPOutput.noContent()
            },
            ManagementRoute(method: .post, path: "actions/actions/:id/deploy", scopes: ["create:actions"]) { _, context in
                let (version, action) = try await actions.deploy(id: try HTTPInput.pathParameter("id", context))
                return HTTPOutput.json(version.managementJSON(action: action, deployed: true), status: .accepted)
            },
            ManagementRoute(method: .get, path: "actions/actions/:id/versions", scopes: ["read:actions"]) { request, context in
                let query = HTTPInput.queryParameters(request)
                let pageNumber = try query.integer("page", default: 0, range: 0...1_000_000)
                let perPage = try query.integer("per_page", default: 50, range: 1...100)
                let (versions, action) = try await actions.versions(actionID: try HTTPInput.pathParameter("id", context))
                let start = min(QueryParameters.offset(page: pageNumber, perPage: perPage), versions.count)
                let items = versions[start..<min(versions.count, start + perPage)].map {
                    JSONValue.object($0.managementJSON(action: action, deployed: $0.id == action.deployedVersionID))
                }
                return HTTPOutput.json([
                    "versions": .array(items), "total": .int(Int64(versions.count)), "page": .int(Int64(pageNumber)), "per_page": .int(Int64(perPage)),
                ])
            },
            ManagementRoute(method: .get, path: "actions/actions/:id/versions/:versionId", scopes: ["read:actions"]) { _, context in
                let (version, action) = try await actions.version(
                    actionID: try HTTPInput.pathParameter("id", context), id: try HTTPInput.pathParameter("versionId", context))
                return HTTPOutput.json(version.managementJSON(action: action, deployed: version.id == action.deployedVersionID))
            },
            ManagementRoute(method: .post, path: "actions/actions/:id/test", scopes: ["create:actions"]) { request, context in
                HTTPOutput.json(try await actions.test(id: try HTTPInput.pathParameter("id", context), body: try await HTTPInput.jsonObject(request)))
            },
            ManagementRoute(method: .get, path: "actions/triggers", scopes: ["read:actions"]) { _, _ in
                HTTPOutput.json([
                    "triggers": .array([
                        .object([
                            "id": .string(ActionTrigger.postLogin), "version": .string(ActionTrigger.defaultPostLoginVersion), "status": .string("CURRENT"),
                            "runtimes": .array([.string(Action.defaultRuntime)]), "default_runtime": .string(Action.defaultRuntime),
                            "compatible_triggers": .array([]),
                        ])
                    ])
                ])
            },
            ManagementRoute(method: .get, path: "actions/triggers/:triggerId/bindings", scopes: ["read:actions"]) { request, context in
                let query = HTTPInput.queryParameters(request)
                let pageNumber = try query.integer("page", default: 0, range: 0...1_000_000)
                let perPage = try query.integer("per_page", default: 50, range: 1...100)
                let bindings = try await actions.bindings(triggerID: try HTTPInput.pathParameter("triggerId", context))
                let start = min(QueryParameters.offset(page: pageNumber, perPage: perPage), bindings.count)
                var items: [JSONValue] = []
                for (binding, action) in bindings[start..<min(bindings.count, start + perPage)] {
                    items.append(.object(binding.managementJSON(action: try await actions.managementJSON(action))))
                }
                return HTTPOutput.json([
                    "bindings": .array(items), "total": .int(Int64(bindings.count)), "page": .int(Int64(pageNumber)), "per_page": .int(Int64(perPage)),
                ])
            },
            ManagementRoute(method: .patch, path: "actions/triggers/:triggerId/bindings", scopes: ["update:actions"]) { request, context in
                let bindings = try await actions.replaceBindings(
                    triggerID: try HTTPInput.pathParameter("triggerId", context), body: try await HTTPInput.jsonObject(request))
                var items: [JSONValue] = []
                for (binding, action) in bindings { items.append(.object(binding.managementJSON(action: try await actions.managementJSON(action)))) }
                return HTTPOutput.json(["bindings": .array(items)])
            },
        ]
    }
}
