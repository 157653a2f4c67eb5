import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/roles` and the roles of a user (`/api/v2/users/{id}/roles`), with Auth0's status codes: creating a
/// role is 200, deleting one 200 `{}`, changing a user's roles 204.
struct RolesRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let roles = services.roles
        return [
            ManagementRoute(method: .post, path: "roles", scopes: ["create:roles"]) { request, _ in
                HTTPOutput.json(try await roles.create(try await HTTPInput.jsonObject(request)).managementJSON)
            },
            ManagementRoute(method: .get, path: "roles", scopes: ["read:roles"]) { request, _ in
                let query = HTTPInput.queryParameters(request)
                return HTTPOutput.jsonValue(
                    try await ListPagination.respond(key: "roles", query: query, checkpoints: false) { offset, limit, _ in
                        let (page, total) = try await roles.list(nameFilter: query["name_filter"], offset: offset, limit: limit)
                        return (page.map { .object($0.managementJSON) }, total)
                    })
            },
            ManagementRoute(method: .get, path: "roles/:id", scopes: ["read:roles"]) { _, context in
                HTTPOutput.json(try await roles.role(id: try HTTPInput.pathParameter("id", context)).managementJSON)
            },
            ManagementRoute(method: .patch, path: "roles/:id", scopes: ["update:roles"]) { request, context in
                HTTPOutput.json(
                    try await roles.update(id: try HTTPInput.pathParameter("id", context), body: try await HTTPInput.jsonObject(request)).managementJSON)
            },
            ManagementRoute(method: .delete, path: "roles/:id", scopes: ["delete:roles"]) { _, context in
                try await roles.delete(id: try HTTPInput.pathParameter("id", context))
                return HTTPOutput.json([:])
            },
            ManagementRoute(method: .get, path: "roles/:id/users", scopes: ["read:users", "read:roles", "read:role_members"]) { request, context in
                let id = try HTTPInput.pathParameter("id", context)
                return HTTPOutput.jsonValue(
                    try await ListPagination.respond(key: "users", query: HTTPInput.queryParameters(request)) { offset, limit, _ in
                        let (users, total) = try await roles.users(roleID: id, offset: offset, limit: limit)
                        return (users.map(JSONValue.object), total)
                    })
            },
            ManagementRoute(method: .post, path: "roles/:id/users", scopes: ["update:roles", "create:role_members"]) { request, context in
                try await roles.addUsers(roleID: try HTTPInput.pathParameter("id", context), body: try await HTTPInput.jsonObject(request))
                return HTTPOutput.json([:])
            },
            ManagementRoute(method: .get, path: "users/:id/roles", scopes: ["read:users", "read:roles", "read:role_members"]) { request, context in
                let query = HTTPInput.queryParameters(request)
                let all = try await roles.userRoles(userID: try HTTPInput.pathParameter("id", context))
                return HTTPOutput.jsonValue(try ListPagination.respond(all.map { .object($0.managementJSON) }, key: "roles", parameters: query.values))
            },
            ManagementRoute(method: .post, path: "users/:id/roles", scopes: ["update:users", "create:role_members"]) { request, context in
                try await roles.assign(userID: try HTTPInput.pathParameter("id", context), body: try await HTTPInput.jsonObject(request))
                return HTTPOutput.noContent()
            },
            ManagementRoute(method: .delete, path: "users/:id/roles", scopes: ["update:users", "delete:role_members"]) { request, context in
                try await roles.remove(userID: try HTTPInput.pathParameter("id", context), body: try await HTTPInput.jsonObject(request))
                return HTTPOutput.noContent()
            },
        ]
    }
}
