import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/tickets`.
///
/// Links only; nothing is sent.
struct TicketsRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let tickets = services.tickets
        return [
            ManagementRoute(method: .post, path: "tickets/password-change", scopes: ["create:user_tickets"]) { request, _ in
                let link = try await tickets.createPasswordChangeTicket(try await HTTPInput.jsonObjectOrForm(request))
                return HTTPOutput.json(["ticket": .string(link)], status: .created)
            },
            ManagementRoute(method: .post, path: "tickets/email-verification", scopes: ["create:user_tickets"]) { request, _ in
                let link = try await tickets.createEmailVerificationTicket(try await HTTPInput.jsonObjectOrForm(request))
                return HTTPOutput.json(["ticket": .string(link)], status: .created)
            },
        ]
    }
}
