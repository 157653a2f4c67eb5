import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/client-grants`: which applications may call which API with which scopes.
struct ClientGrantsRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let clients = services.clients
        let audience = services.machineTokens.managementAudience
        return [
            ManagementRoute(method: .post, path: "client-grants", scopes: ["create:client_grants"]) { request, _ in
                let grant = try await clients.createGrant(try await HTTPInput.jsonObject(request), managementAudience: audience)
                return HTTPOutput.json(grant.managementJSON, status: .created)
            },
            ManagementRoute(method: .get, path: "client-grants", scopes: ["read:client_grants"]) { request, _ in
                let parameters = HTTPInput.query(request)
                let grants = try await clients.grants(clientID: parameters["client_id"]).map { JSONValue.object($0.managementJSON) }
                return HTTPOutput.jsonValue(try ListPagination.respond(grants, key: "client_grants", parameters: parameters))
            },
            ManagementRoute(method: .delete, path: "client-grants/:id", scopes: ["delete:client_grants"]) { _, context in
                try await clients.deleteGrant(id: try HTTPInput.pathParameter("id", context))
                return HTTPOutput.noContent()
            },
        ]
    }
}
