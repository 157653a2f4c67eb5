import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/users` and `/api/v2/users-by-email`.
struct UsersRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let users = services.users
        let invitations = services.invitations
        return [
            ManagementRoute(method: .post, path: "users", scopes: ["create:users"]) { request, _ in
                let user = try await users.createUser(try await HTTPInput.jsonObject(request))
                return HTTPOutput.json(user.managementJSON, status: .created)
            },
            ManagementRoute(method: .get, path: "users", scopes: ["read:users"]) { request, _ in
                let parameters = HTTPInput.query(request)
                let search = try UserSearchRequest(parameters: parameters)
                let result = try await users.search(search)
                let list = JSONValue.array(result.users.map { .object($0.managementJSON.selecting(fields: search.fields, include: search.includeFields)) })
                guard search.includeTotals else { return HTTPOutput.jsonValue(list) }
                return HTTPOutput.json([
                    "start": .int(Int64(result.start)), "limit": .int(Int64(result.limit)),
                    "length": .int(Int64(result.users.count)), "total": .int(Int64(result.total)), "users": list,
                ])
            },
            ManagementRoute(method: .get, path: "users/:id", scopes: ["read:users"]) { request, context in
                let parameters = HTTPInput.query(request)
                let user = try await users.user(id: try HTTPInput.pathParameter("id", context))
                let fields = parameters["fields"].map { $0.split(separator: ",").map(String.init) }
                return HTTPOutput.json(user.managementJSON.selecting(fields: fields, include: parameters["include_fields"] != "false"))
            },
            ManagementRoute(method: .patch, path: "users/:id", scopes: ["update:users", "update:users_app_metadata"]) { request, context in
                let id = try HTTPInput.pathParameter("id", context)
                let body = try await HTTPInput.jsonObject(request)
                // `update:users_app_metadata` alone may only touch metadata, as in Auth0.
                if context.accessToken?.hasAnyScope(of: ["update:users"]) != true {
                    let allowed: Set<String> = ["app_metadata", "user_metadata"]
                    if body.keys.contains(where: { !allowed.contains($0) }) { throw UsherError.insufficientScope(["update:users"]) }
                }
                let user = try await users.updateUser(id: id, body: body)
                if body["email"] != nil { _ = try await invitations.followEmailChange(of: user) }
                return HTTPOutput.json(user.managementJSON)
            },
            ManagementRoute(method: .delete, path: "users/:id", scopes: ["delete:users"]) { _, context in
                try await users.deleteUser(id: try HTTPInput.pathParameter("id", context))
                return HTTPOutput.noContent()
            },
            ManagementRoute(method: .get, path: "users-by-email", scopes: ["read:users"]) { request, _ in
                let parameters = HTTPInput.query(request)
                guard let email = parameters["email"], !email.isEmpty else {
                    throw UsherError.invalidQuery("Query validation error: 'Missing required property: email' on property email.")
                }
                let fields = parameters["fields"].map { $0.split(separator: ",").map(String.init) }
                let include = parameters["include_fields"] != "false"
                let found = try await users.users(email: email)
                return HTTPOutput.jsonValue(.array(found.map { .object($0.managementJSON.selecting(fields: fields, include: include)) }))
            },
        ]
    }
}
