import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/invitations`: Usher's invitation objects, in Auth0's organization-invitation shape.
///
/// The organization-invitation scopes admit a caller too, so an Auth0 application granted those works unchanged.
struct InvitationsRoutes: ManagementRouteCollection {
    let services: UsherServices

    static let readScopes = ["read:invitations", "read:organization_invitations"]
    static let createScopes = ["create:invitations", "create:organization_invitations"]
    static let updateScopes = ["update:invitations", "create:organization_invitations"]
    static let deleteScopes = ["delete:invitations", "delete:organization_invitations"]
    /// Rows in one list request: what one answer can report on without making the caller wait long.
    static let maximumRows = 100

    var routes: [ManagementRoute] {
        let invitations = services.invitations
        return [
            ManagementRoute(method: .post, path: "invitations", scopes: Self.createScopes) { request, _ in
                let bytes = try await HTTPInput.bytes(of: request)
                if case .array(let rows)? = try? JSONParser.parse(bytes) {
                    return try await Self.createRows(rows, invitations)
                }
                let issued = try await invitations.create(try InvitationRequest(body: try HTTPInput.jsonObject(bytes: bytes)))
                return HTTPOutput.json(
                    issued.invitation.managementJSON(now: invitations.now, invitationURL: issued.invitationURL),
                    status: issued.created ? .created : .ok)
            },
            ManagementRoute(method: .get, path: "invitations", scopes: Self.readScopes) { request, _ in
                try await Self.list(HTTPInput.queryParameters(request), invitations)
            },
            ManagementRoute(method: .get, path: "invitations/:id", scopes: Self.readScopes) { _, context in
                HTTPOutput.json(try await invitations.invitation(id: try HTTPInput.pathParameter("id", context)).managementJSON(now: invitations.now))
            },
            ManagementRoute(method: .post, path: "invitations/:id/resend", scopes: Self.updateScopes) { _, context in
                let issued = try await invitations.resend(id: try HTTPInput.pathParameter("id", context))
                return HTTPOutput.json(issued.invitation.managementJSON(now: invitations.now, invitationURL: issued.invitationURL))
            },
            ManagementRoute(method: .post, path: "invitations/:id/revoke", scopes: Self.updateScopes) { request, context in
                let input = try PayloadReader(try await HTTPInput.jsonObject(request), allowed: ["delete_user"])
                let revoked = try await invitations.revoke(
                    id: try HTTPInput.pathParameter("id", context), deleteUser: try input.bool("delete_user").value ?? false)
                return HTTPOutput.json(revoked.managementJSON(now: invitations.now))
            },
            ManagementRoute(method: .delete, path: "invitations/:id", scopes: Self.deleteScopes) { _, context in
                try await invitations.delete(id: try HTTPInput.pathParameter("id", context))
                return HTTPOutput.noContent()
            },
        ]
    }

    /// A list of invitation bodies: one result per row, in order, each `created`, `resend` (the address had a
    /// pending invitation, sent again) or the row's error code with Auth0's error body.
    static func createRows(_ rows: [JSONValue], _ invitations: InvitationService) async throws -> Response {
        guard !rows.isEmpty, rows.count <= maximumRows else {
            throw UsherError.invalidBody("'Array must have between 1 and \(maximumRows) items'.")
        }
        // Rows that do not parse are reported as they are; the others are created together.
        var parsed: [(index: Int, request: InvitationRequest)] = []
        var results: [JSONObject] = rows.indices.map { ["index": .int(Int64($0))] }
        for (index, row) in rows.enumerated() {
            do {
                guard case .object(let body) = row else {
                    throw UsherError.invalidBody("'Expected type object but found type \(row.typeName)'.")
                }
                parsed.append((index, try InvitationRequest(body: body)))
            } catch let error as UsherError {
                results[index]["outcome"] = .string(error.errorCode ?? "error")
                results[index]["error"] = .object(APIErrorMiddleware.managementBody(error))
            }
        }
        let outcomes = await invitations.create(parsed.map(\.request))
        for ((index, _), outcome) in zip(parsed, outcomes) {
            switch outcome {
            case .success(let issued):
                results[index]["outcome"] = .string(issued.created ? "created" : "resend")
                results[index]["invitation"] = .object(issued.invitation.managementJSON(now: invitations.now, invitationURL: issued.invitationURL))
            case .failure(let error):
                results[index]["outcome"] = .string(error.errorCode ?? "error")
                results[index]["error"] = .object(APIErrorMiddleware.managementBody(error))
            }
        }
        return HTTPOutput.jsonValue(.array(results.map(JSONValue.object)))
    }

    /// `GET /api/v2/invitations`: newest first, narrowed by `status`, `delivery`, `email` (a prefix),
    /// `created_from`/`created_to` (ISO 8601), `client_id` and `user_id`, paged as Auth0's lists are.
    static func list(_ query: QueryParameters, _ invitations: InvitationService) async throws -> Response {
        var filter = InvitationFilter()
        if let raw = query["status"] {
            guard let status = InvitationStatus(rawValue: raw) else {
                throw UsherError.invalidQuery("Query validation error: 'status' must be one of pending, accepted, expired, revoked")
            }
            filter.status = status
        }
        if let raw = query["delivery"] {
            guard let state = InvitationDelivery.State(rawValue: raw) else {
                throw UsherError.invalidQuery("Query validation error: 'delivery' must be one of queued, sent, deferred, abandoned")
            }
            filter.delivery = state
        }
        filter.emailPrefix = query["email"].map { String($0.prefix(254)) }
        for (name, keyPath) in [("created_from", \InvitationFilter.createdFrom), ("created_to", \InvitationFilter.createdTo)] {
            guard let raw = query[name] else { continue }
            guard let date = Timestamp.parse(raw) else {
                throw UsherError.invalidQuery("Query validation error: '\(name)' must be an ISO 8601 date-time")
            }
            filter[keyPath: keyPath] = date
        }
        filter.clientID = query["client_id"]
        filter.userID = query["user_id"]

        let (now, narrowed) = (invitations.now, filter)
        return HTTPOutput.jsonValue(
            try await ListPagination.respond(key: "invitations", query: query) { offset, limit, counting in
                func json(_ items: [Invitation]) -> [JSONValue] { items.map { .object($0.managementJSON(now: now)) } }
                if counting {
                    let (items, total) = try await invitations.list(narrowed, offset: offset, limit: limit)
                    return (json(items), total)
                }
                return (json(try await invitations.page(narrowed, offset: offset, limit: limit)), nil)
            })
    }
}
