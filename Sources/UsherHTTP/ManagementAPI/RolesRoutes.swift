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
                let perPage = try query.integer("per_page", default: 50, range: 1...100)
                let start = QueryParameters.offset(page: try query.integer("page", default: 0, range: 0...Int.max), perPage: perPage)
                let (page, total) = try await roles.list(nameFilter: query["name_filter"], offset: start, limit: perPage)
                let items = JSONValue.array(page.map { .object($0.managementJSON) })
                guard try query.bool("include_totals", default: false) else { return HTTPOutput.jsonValue(items) }
                return HTTPOutput.json(["start": .int(Int64(min(start, total))), "limit": .int(Int64(perPage)), "total": .int(Int64(total)), "roles": items])
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
                let query = HTTPInput.queryParameters(request)
                let id = try HTTPInput.pathParameter("id", context)
                if query.has("from") || query.has("take") {
                    let take = try query.integer("take", default: 50, range: 1...100)
                    let start = try query.integer("from", default: 0, range: 0...Int.max)
                    let (users, total) = try await roles.users(roleID: id, offset: start, limit: take)
                    var body: JSONObject = ["users": .array(users.map(JSONValue.object))]
                    let end = QueryParameters.end(start: start, count: take)
                    if end < total { body["next"] = .string(String(end)) }
                    return HTTPOutput.json(body)
                }
                let perPage = try query.integer("per_page", default: 50, range: 1...100)
                let start = QueryParameters.offset(page: try query.integer("page", default: 0, range: 0...Int.max), perPage: perPage)
                let (users, total) = try await roles.users(roleID: id, offset: start, limit: perPage)
                let items = JSONValue.array(users.map(JSONValue.object))
                guard try query.bool("include_totals", default: false) else { return HTTPOutput.jsonValue(items) }
                return HTTPOutput.json(["start": .int(Int64(min(start, total))), "limit": .int(Int64(perPage)), "total": .int(Int64(total)), "users": items])
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
