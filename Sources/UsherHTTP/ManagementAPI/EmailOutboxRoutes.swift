import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/emails/outbox`.
///
/// Usher extension: what was sent, what is waiting, what gave up and why.
struct EmailOutboxRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let mail = services.mail
        return [
            ManagementRoute(method: .get, path: "emails/outbox", scopes: ["read:email_outbox"]) { request, _ in
                let parameters = HTTPInput.queryParameters(request)
                let perPage = try parameters.integer("per_page", default: 50, range: 1...100)
                let page = try parameters.integer("page", default: 0, range: 0...1_000_000)
                // `user_id`: one user's mail, e.g. the invitation that never arrived.
                let result = try await mail.listOutbox(status: parameters["status"], page: page, perPage: perPage, userID: parameters["user_id"])
                let items = JSONValue.array(result.messages.map { .object($0.managementJSON()) })
                guard parameters["include_totals"] == "true" else { return HTTPOutput.jsonValue(items) }
                return HTTPOutput.json([
                    "start": .int(Int64(result.start)), "limit": .int(Int64(perPage)), "total": .int(Int64(result.total)), "messages": items,
                ])
            },
            ManagementRoute(method: .get, path: "emails/outbox/:id", scopes: ["read:email_outbox"]) { _, context in
                HTTPOutput.json(try await mail.outboxMessage(id: try HTTPInput.pathParameter("id", context)).managementJSON(includeBodies: true))
            },
            ManagementRoute(method: .post, path: "emails/outbox/:id/retry", scopes: ["update:email_outbox"]) { _, context in
                HTTPOutput.json(try await mail.retry(id: try HTTPInput.pathParameter("id", context)).managementJSON())
            },
        ]
    }
}
