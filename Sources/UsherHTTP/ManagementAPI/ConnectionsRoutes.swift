import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/connections`: the database connections.
struct ConnectionsRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let clients = services.clients
        return [
            ManagementRoute(method: .get, path: "connections", scopes: ["read:connections"]) { request, _ in
                let parameters = HTTPInput.query(request)
                let list = try await clients.connections(name: parameters["name"]).map { JSONValue.object($0.managementJSON) }
                return HTTPOutput.jsonValue(try ListPagination.respond(list, key: "connections", parameters: parameters))
            },
            ManagementRoute(method: .get, path: "connections/:id", scopes: ["read:connections"]) { _, context in
                HTTPOutput.json(try await clients.connection(id: try HTTPInput.pathParameter("id", context)).managementJSON)
            },
            ManagementRoute(method: .patch, path: "connections/:id", scopes: ["update:connections"]) { request, context in
                let connection = try await clients.updateConnection(
                    id: try HTTPInput.pathParameter("id", context), body: try await HTTPInput.jsonObject(request))
                return HTTPOutput.json(connection.managementJSON)
            },
        ]
    }
}
