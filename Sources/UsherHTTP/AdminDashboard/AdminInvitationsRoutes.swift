import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/admin/invitations`: the list with its filters, "Invite people", one invitation's page with its history,
/// resend and revoke. Each action goes through `InvitationService`, as the Management API's does, and needs the
/// scope that endpoint needs.
struct AdminInvitationsRoutes: Sendable {
    let services: UsherServices
    let dashboard: AdminDashboardController

    typealias Route = AdminDashboardController.AdminRoute
    /// Rows per list page.
    static let pageSize = 50
    /// Addresses one "Invite people" form may list (the API's list limit).
    static let maximumAddresses = InvitationsRoutes.maximumRows

    var routes: [Route] {
        [
            Route(method: .get, path: "invitations", scope: "read:invitations") { request, _, page in try await list(request, page) },
            Route(method: .get, path: "invitations/new", scope: "create:invitations") { _, _, page in try await inviteForm(page, values: [:], errors: []) },
            Route(method: .post, path: "invitations", scope: "create:invitations") { request, _, page in try await invite(request, page) },
            Route(method: .get, path: "invitations/:id", scope: "read:invitations") { request, context, page in
                try await detail(try HTTPInput.pathParameter("id", context), page, done: request.uri.queryParameters["done"].map(String.init))
            },
            Route(method: .post, path: "invitations/:id/resend", scope: "update:invitations") { _, context, page in
                let issued = try await services.invitations.resend(id: try HTTPInput.pathParameter("id", context))
                return try await detail(issued.invitation.id, page, done: "resent", newLink: issued.invitationURL)
            },
            Route(method: .post, path: "invitations/:id/revoke", scope: "update:invitations") { request, context, _ in
                let fields = try await HTTPInput.fields(request)
                let id = try HTTPInput.pathParameter("id", context)
                _ = try await services.invitations.revoke(id: id, deleteUser: fields["delete_user"] == "on")
                return AdminDashboardController.redirect(HTML.path("/admin/invitations/" + HTML.percentEncoded(id), query: [("done", "revoked")]))
            },
        ]
    }

    // MARK: list

    static let deliveryLabels: [(InvitationDelivery.State, String)] = [
        (.queued, "Queued"), (.sent, "Sent"), (.deferred, "Retrying"), (.abandoned, "Failed"),
    ]

    func list(_ request: Request, _ page: AdminDashboardController.AdminPageContext) async throws -> Response {
        let query = request.uri.queryParameters
        var filter = InvitationFilter()
        filter.status = query["status"].flatMap { InvitationStatus(rawValue: String($0)) }
        filter.delivery = query["delivery"].flatMap { InvitationDelivery.State(rawValue: String($0)) }
        let email = query["email"].map { String($0.prefix(254)).trimmingCharacters(in: .whitespaces) } ?? ""
        filter.emailPrefix = email.isEmpty ? nil : email.lowercased()
        let number = max(1, min(Int(query["page"].map(String.init) ?? "") ?? 1, 100_000))
        let (invitations, total) = try await services.invitations.list(filter, offset: (number - 1) * Self.pageSize, limit: Self.pageSize)
        let now = services.invitations.now

        let statusOptions =
            [AdminLayout.option("", "Any status", selected: filter.status?.rawValue)]
            + InvitationStatus.allCases.map { AdminLayout.option($0.rawValue, $0.rawValue.capitalized, selected: filter.status?.rawValue) }
        let deliveryOptions =
            [AdminLayout.option("", "Any delivery", selected: filter.delivery?.rawValue)]
            + Self.deliveryLabels.map { AdminLayout.option($0.0.rawValue, $0.1, selected: filter.delivery?.rawValue) }
        let rows = invitations.map { invitation -> HTML in
            let status = invitation.status(at: now).rawValue
            return """
                <tr><td><a href="/admin/invitations/\(HTML.percentEncoded(invitation.id))">\(invitation.email)</a></td>
                <td>\(AdminLayout.badge(status))</td>
                <td>\(invitation.delivery.map { AdminLayout.badge($0.state.rawValue) } ?? "<span class=\"muted\">no email</span>")</td>
                <td class="optional">\(AdminLayout.time(invitation.createdAt))</td>
                <td class="optional">\(AdminLayout.time(invitation.expiresAt))</td></tr>
                """
        }
        let table: HTML =
            rows.isEmpty
            ? "<p id=\"no-invitations\">No invitation matches.</p>"
            : """
            <div class="table-wrap"><table id="invitations">
            <caption class="skip">Invitations</caption>
            <thead><tr><th scope="col">Invitee</th><th scope="col">Status</th><th scope="col">Delivery</th><th scope="col" class="optional">Created</th><th scope="col" class="optional">Expires</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
        let pages = max(1, (total + Self.pageSize - 1) / Self.pageSize)
        func pageLink(_ target: Int, _ label: String) -> HTML {
            let href = HTML.path(
                "/admin/invitations",
                query: [("status", filter.status?.rawValue), ("delivery", filter.delivery?.rawValue), ("email", email), ("page", String(target))])
            return "<a href=\"\(href)\">\(label)</a>"
        }
        let pager: HTML = """
            <nav class="pager" aria-label="Pages">\(number > 1 ? pageLink(number - 1, "Previous") : "")
            <span>Page \(min(number, pages)) of \(pages) · \(total) invitation\(total == 1 ? "" : "s")</span>
            \(number < pages ? pageLink(number + 1, "Next") : "")</nav>
            """
        let inviteButton: HTML =
            page.admin.may("create:invitations") ? "<a class=\"button\" id=\"invite-people\" href=\"/admin/invitations/new\">Invite people</a>" : ""
        let body: HTML = """
            <div class="actions"><h1>Invitations</h1>\(inviteButton)</div>
            <form class="panel filters" method="get" action="/admin/invitations" role="search">
            <div><label for="status">Status</label><select id="status" name="status">\(statusOptions)</select></div>
            <div><label for="delivery">Delivery</label><select id="delivery" name="delivery">\(deliveryOptions)</select></div>
            <div><label for="email-filter">Email starts with</label><input type="search" id="email-filter" name="email" value="\(email)"></div>
            <div><button type="submit" id="filter">Filter</button></div>
            </form>
            \(table)
            \(pager)
            """
        return dashboard.page("Invitations", body, section: .invitations, context: page)
    }

    // MARK: invite people

    func inviteForm(_ page: AdminDashboardController.AdminPageContext, values: [String: String], errors: [String], status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let clients = try await services.clients.listClients().filter { $0.appType != "non_interactive" }
        let roles = try await services.roles.list(nameFilter: nil, offset: 0, limit: 100).roles
        let clientOptions =
            [AdminLayout.option("", "None (the tenant's default)", selected: values["client_id"])]
            + clients.map { AdminLayout.option($0.clientID, $0.name, selected: values["client_id"]) }
        let roleBoxes = roles.map { role -> HTML in
            let checked: HTML = values["role_" + role.id] == "on" ? " checked" : ""
            return "<label class=\"check\"><input type=\"checkbox\" name=\"role_\(role.id)\"\(checked)> \(role.name)</label>"
        }
        let sendChecked: HTML = (values["send_email"] ?? "on") == "on" ? " checked" : ""
        let body: HTML = """
            <h1>Invite people</h1>
            \(AdminLayout.notices(errors))
            <form class="panel" method="post" action="/admin/invitations">
            \(AdminLayout.csrfField(page.csrfToken))
            <label for="emails">Email addresses</label>
            <textarea id="emails" name="emails" required aria-describedby="emails-hint">\(values["emails"])</textarea>
            <p class="field-hint" id="emails-hint">One address per line (or separated by commas), up to \(Self.maximumAddresses).</p>
            <label for="name">Name</label>
            <input type="text" id="name" name="name" value="\(values["name"])" aria-describedby="name-hint">
            <p class="field-hint" id="name-hint">Used when you invite one person.</p>
            <label for="client_id">Application</label>
            <select id="client_id" name="client_id">\(clientOptions)</select>
            \(roles.isEmpty ? "" : "<fieldset><legend>Roles</legend>\(roleBoxes)</fieldset>" as HTML)
            <label for="locale">Language</label>
            <input type="text" id="locale" name="locale" value="\(values["locale"])" aria-describedby="locale-hint">
            <p class="field-hint" id="locale-hint">A language tag such as fr or pt-BR; empty to follow the person's browser.</p>
            <label for="ttl_days">Valid for (days)</label>
            <input type="number" id="ttl_days" name="ttl_days" min="1" max="30" value="\(values["ttl_days"] ?? "7")">
            <label class="check"><input type="checkbox" id="send_email" name="send_email"\(sendChecked)> Send the invitation email</label>
            <p class="field-hint">Without the email, you get each person's link to pass on yourself.</p>
            <button type="submit" id="send-invitations">Invite</button>
            </form>
            """
        return dashboard.page("Invite people", body, status: status, section: .invitations, context: page)
    }

    /// The addresses of the form's list: one per line or comma, blanks dropped.
    static func addresses(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "," || $0 == ";" }).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    func invite(_ request: Request, _ page: AdminDashboardController.AdminPageContext) async throws -> Response {
        let values = try await HTTPInput.fields(request)
        let addresses = Self.addresses(values["emails"] ?? "")
        guard !addresses.isEmpty else { return try await inviteForm(page, values: values, errors: ["Enter at least one email address."], status: .badRequest) }
        guard addresses.count <= Self.maximumAddresses else {
            return try await inviteForm(
                page, values: values, errors: ["Enter at most \(Self.maximumAddresses) addresses at once."], status: .badRequest)
        }
        guard let days = Int(values["ttl_days"] ?? "7"), (1...30).contains(days) else {
            return try await inviteForm(page, values: values, errors: ["The number of days must be between 1 and 30."], status: .badRequest)
        }
        let roleIDs = values.keys.filter { $0.hasPrefix("role_") && values[$0] == "on" }.map { String($0.dropFirst(5)) }.sorted()
        let name = (values["name"] ?? "").trimmingCharacters(in: .whitespaces)
        // The API's body, parsed by the API's parser: the same checks and the same messages as POST /api/v2/invitations.
        var requests: [Result<InvitationRequest, UsherError>] = []
        for address in addresses {
            var invitee: JSONObject = ["email": .string(address)]
            if addresses.count == 1, !name.isEmpty { invitee["name"] = .string(name) }
            var body: JSONObject = [
                "invitee": .object(invitee), "inviter": ["name": .string(page.admin.email)], "ttl_sec": .int(Int64(days * 86_400)),
                "send_invitation_email": .bool(values["send_email"] == "on"), "roles": .array(roleIDs.map(JSONValue.string)),
            ]
            if let client = values["client_id"], !client.isEmpty { body["client_id"] = .string(client) }
            if let locale = values["locale"]?.trimmingCharacters(in: .whitespaces), !locale.isEmpty { body["locale"] = .string(locale) }
            requests.append(Result { () throws(UsherError) in try InvitationRequest(body: body) })
        }
        let valid = requests.compactMap { try? $0.get() }
        var outcomes = (await services.invitations.create(valid)).makeIterator()
        let results = requests.map { parsed -> (String, Result<IssuedInvitation, UsherError>) in
            switch parsed {
            case .success(let request): (request.email, outcomes.next() ?? .failure(UsherError(.internalFailure, "No result.")))
            case .failure(let error): ("", .failure(error))
            }
        }
        return resultsPage(zip(addresses, results).map { ($0, $1.1) }, page)
    }

    func resultsPage(_ results: [(String, Result<IssuedInvitation, UsherError>)], _ page: AdminDashboardController.AdminPageContext) -> Response {
        let now = services.invitations.now
        let invited = results.filter { if case .success = $1 { true } else { false } }.count
        let rows = results.enumerated().map { index, result -> HTML in
            let (address, outcome) = result
            switch outcome {
            case .success(let issued):
                let link: HTML =
                    issued.invitation.sendInvitationEmail
                    ? "" : AdminLayout.copyField(id: "link-\(index)", label: "Invitation link for \(address)", value: issued.invitationURL)
                return """
                    <tr><td><a href="/admin/invitations/\(HTML.percentEncoded(issued.invitation.id))">\(issued.invitation.email)</a></td>
                    <td>\(issued.created ? "Invited" : "Invited again (a pending invitation was re-sent)")</td>
                    <td>\(AdminLayout.badge(issued.invitation.status(at: now).rawValue))\(link)</td></tr>
                    """
            case .failure(let error):
                return "<tr class=\"failed\"><td>\(address)</td><td>Not invited</td><td>\(error.message)</td></tr>"
            }
        }
        let body: HTML = """
            <h1>Invitations sent</h1>
            \(AdminLayout.notice("\(invited) of \(results.count) invited.", ok: invited == results.count))
            <div class="table-wrap"><table id="invite-results">
            <thead><tr><th scope="col">Invitee</th><th scope="col">Result</th><th scope="col">Details</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            <p><a href="/admin/invitations">Back to invitations</a> · <a href="/admin/invitations/new">Invite more people</a></p>
            """
        return dashboard.page("Invitations sent", body, section: .invitations, context: page)
    }

    // MARK: one invitation

    static let historyTypes: [LogEvent.EventType] = [
        .invitationCreated, .invitationResent, .invitationReminded, .invitationAccepted, .invitationRevoked, .invitationExpired,
        .failedNotification, .successChangePassword, .successLogin,
    ]

    func detail(_ id: String, _ page: AdminDashboardController.AdminPageContext, done: String?, newLink: String? = nil) async throws -> Response {
        let invitation = try await services.invitations.invitation(id: id)
        let now = services.invitations.now
        let status = invitation.status(at: now)
        let history = try await services.logs.list(
            LogQuery(conditions: [("user_id", [invitation.userID]), ("type", Self.historyTypes.map(\.rawValue))], ascending: true, limit: 100)
        ).events
        let events = history.map { event -> HTML in
            "<li>\(AdminLayout.time(event.date)) — \(Self.describe(event))</li>"
        }
        let delivery: HTML =
            if let delivery = invitation.delivery {
                """
                \(AdminLayout.badge(delivery.state.rawValue)) after \(delivery.attempts) attempt\(delivery.attempts == 1 ? "" : "s")\
                \(delivery.sentAt.map { " · sent " + AdminLayout.time($0).markup }.map { HTML(stringLiteral: $0) } ?? "")\
                \(delivery.lastError.map { "<br><span class=\"muted\">Last error: \($0)</span>" as HTML } ?? "")
                """
            } else {
                "<span class=\"muted\">No email (the link was handed out)</span>"
            }
        var actions: [HTML] = []
        if status == .pending, page.admin.may("update:invitations") {
            actions.append(
                """
                <form method="post" action="/admin/invitations/\(HTML.percentEncoded(invitation.id))/resend">\(AdminLayout.csrfField(page.csrfToken))
                <button type="submit" id="resend">\(invitation.sendInvitationEmail ? "Resend the email" : "Make a new link")</button></form>
                <form method="post" action="/admin/invitations/\(HTML.percentEncoded(invitation.id))/revoke" data-confirm="Revoke the invitation for \(invitation.email)? Its link stops working at once.">\(AdminLayout.csrfField(page.csrfToken))
                <label class="check"><input type="checkbox" name="delete_user" id="delete-user"> Also delete the user</label>
                <button type="submit" class="danger" id="revoke">Revoke</button></form>
                """)
        }
        let message: String? =
            switch done {
            case "resent":
                invitation.sendInvitationEmail
                    ? "A new email is on its way; the previous link no longer works." : "A new link was made; the previous one no longer works."
            case "revoked": "The invitation is revoked; its link no longer works."
            default: nil
            }
        let link: HTML = newLink.map { AdminLayout.copyField(id: "invitation-link", label: "The new link, to pass on yourself", value: $0) } ?? ""
        let body: HTML = """
            <p><a href="/admin/invitations">← Invitations</a></p>
            <h1>Invitation for \(invitation.email)</h1>
            \(AdminLayout.notice(message, ok: true))
            <div class="panel">
            <dl class="facts">
            <dt>Status</dt><dd id="invitation-status">\(AdminLayout.badge(status.rawValue))</dd>
            <dt>Delivery</dt><dd id="invitation-delivery">\(delivery)</dd>
            <dt>Invited by</dt><dd>\(invitation.inviterName ?? "—")</dd>
            <dt>Created</dt><dd>\(AdminLayout.time(invitation.createdAt))</dd>
            <dt>Expires</dt><dd>\(AdminLayout.time(invitation.expiresAt))</dd>
            <dt>Accepted</dt><dd>\(AdminLayout.time(invitation.acceptedAt))</dd>
            <dt>Language</dt><dd>\(invitation.locale ?? "—")</dd>
            <dt>Roles</dt><dd>\(invitation.roles.isEmpty ? "—" : invitation.roles.joined(separator: ", "))</dd>
            <dt>User</dt><dd><code>\(invitation.userID)</code></dd>
            <dt>Invitation id</dt><dd><code>\(invitation.id)</code></dd>
            </dl>
            \(link)
            <div class="actions">\(actions)</div>
            </div>
            <div class="panel"><h2>History</h2>
            \(events.isEmpty ? "<p class=\"muted\">Nothing yet.</p>" : "<ol class=\"history\" id=\"history\">\(events)</ol>" as HTML)
            </div>
            """
        return dashboard.page("Invitation for " + invitation.email, body, section: .invitations, context: page)
    }

    static func describe(_ event: LogEvent) -> String {
        let what: String =
            switch LogEvent.EventType(rawValue: event.type) {
            case .invitationCreated: "Invited"
            case .invitationResent: "Sent again"
            case .invitationReminded: "Reminder sent"
            case .invitationAccepted: "Accepted: the password was set"
            case .invitationRevoked: "Revoked"
            case .invitationExpired: "Expired"
            case .failedNotification: "Email not delivered"
            case .successChangePassword: "Password set"
            case .successLogin: "Logged in"
            default: event.type
            }
        guard let description = event.description, !description.isEmpty, LogEvent.EventType(rawValue: event.type) == .failedNotification else { return what }
        return what + ": " + description
    }
}
