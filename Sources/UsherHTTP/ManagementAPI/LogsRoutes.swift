import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/logs`: the tenant log.
struct LogsRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let logs = services.logs
        return [
            ManagementRoute(method: .get, path: "logs", scopes: ["read:logs"]) { request, _ in
                let parameters = HTTPInput.query(request)
                let (query, includeTotals, checkpoint) = try LogService.query(parameters: parameters)
                let result = try await logs.list(query)
                let items = JSONValue.array(result.events.map { .object($0.managementJSON) })
                guard includeTotals && !checkpoint else { return HTTPOutput.jsonValue(items) }
                return HTTPOutput.json([
                    "start": .int(Int64(query.offset)), "limit": .int(Int64(query.limit)), "length": .int(Int64(result.events.count)),
                    "total": .int(Int64(result.total)), "logs": items,
                ])
            },
            ManagementRoute(method: .get, path: "logs/:id", scopes: ["read:logs"]) { _, context in
                HTTPOutput.json(try await logs.event(id: try HTTPInput.pathParameter("id", context)).managementJSON)
            },
        ]
    }
}
