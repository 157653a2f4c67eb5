import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/clients`: applications.
struct ClientsRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let clients = services.clients
        return [
            ManagementRoute(method: .post, path: "clients", scopes: ["create:clients"]) { request, _ in
                let (client, secret) = try await clients.createClient(try await HTTPInput.jsonObject(request))
                return HTTPOutput.json(client.managementJSON(secret: secret), status: .created)
            },
            ManagementRoute(method: .get, path: "clients", scopes: ["read:clients"]) { request, _ in
                let items = try await clients.listClients().map { JSONValue.object($0.managementJSON()) }
                return HTTPOutput.jsonValue(try ListPagination.respond(items, key: "clients", parameters: HTTPInput.query(request)))
            },
            ManagementRoute(method: .get, path: "clients/:id", scopes: ["read:clients"]) { _, context in
                HTTPOutput.json(try await clients.client(id: try HTTPInput.pathParameter("id", context)).managementJSON())
            },
            ManagementRoute(method: .patch, path: "clients/:id", scopes: ["update:clients"]) { request, context in
                let client = try await clients.updateClient(id: try HTTPInput.pathParameter("id", context), body: try await HTTPInput.jsonObject(request))
                return HTTPOutput.json(client.managementJSON())
            },
            ManagementRoute(method: .delete, path: "clients/:id", scopes: ["delete:clients"]) { _, context in
                try await clients.deleteClient(id: try HTTPInput.pathParameter("id", context))
                return HTTPOutput.noContent()
            },
        ]
    }
}
