import Foundation
import HTTPTypes
import Hummingbird
import UsherCore
import UsherJSON
import UsherLiquid

/// `/lo/reset` (choose a password, for an invitation or a reset), `/lo/reset/resend` ("send me a new link") and
/// `/lo/reset/request` ("forgot your password?").
extension HostedPagesController {
    var resetRoutes: RouteCollection<UsherRequestContext> {
        let pages = self
        let routes = RouteCollection(context: UsherRequestContext.self)
        routes.get("lo/reset") { request, context in try await pages.showReset(request, context) }
        routes.head("lo/reset") { _, _ in Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"]) }
        routes.post("lo/reset") { request, context in try await pages.submitReset(request, context) }
        routes.post("lo/reset/resend") { request, context in try await pages.resend(request, context) }
        routes.get("lo/reset/request") { request, _ in
            let texts = try await pages.resetTexts(request)
            let screen = texts.screen("reset-password", "reset-password-request")
            return try await pages.render(
                pages.messagePage(
                    .ok, title: screen["title"] ?? "", paragraphs: [screen["description"] ?? ""], resend: ["ask_email": true], texts: texts,
                    screen: "reset-password-request"), request: request)
        }
        return routes
    }

    // MARK: /lo/reset

    func showReset(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let query = HTTPInput.query(request)
        let token = query["ticket"] ?? ""
        switch try await services.passwordResets.open(token: token) {
        case .failure(let problem):
            throw HostedPageError.unusableResetLink(problem, token: token)
        case .success(let state):
            return try await render(try await resetForm(state, query: query, token: token, errors: [], request: request), request: request)
        }
    }

    func resetForm(
        _ state: ResetPageState, query: [String: String], token: String, errors: [String], status: HTTPResponse.Status = .ok, request: Request
    ) async throws -> Page {
        let user = state.user
        let requested = query["type"]
        let type = requested == "invite" || requested == "reset" ? requested! : (user.appMetadata["needsInvitation"]?.boolValue == true ? "invite" : "reset")
        let policy = state.policy
        let texts = try await resetTexts(request, user: user, client: state.client)
        let screen = texts.screen("reset-password", "reset-password")
        let values = ["email": user.email ?? "", "clientName": state.client?.name ?? ""]
        func text(_ key: String) -> JSONValue { .string(PromptTextService.fill(screen[key] ?? "", values)) }
        var publicUser = user.managementJSON
        publicUser["identities"] = nil
        var rulesJSON = ""
        policy.rulesJSON.write(to: &rulesJSON)
        // Inside <script>: no way to close the element from data.
        rulesJSON = rulesJSON.replacingOccurrences(of: "<", with: "\\u003c")
        var globals: JSONObject = [
            "page_title": text(type == "invite" ? "inviteTitle" : "title"),
            "titles": ["invite": text("inviteTitle"), "reset": text("title")],
            "intro": ["invite": text(state.client == nil ? "inviteDescription" : "inviteDescriptionWithClient"), "reset": text("description")],
            "texts": .object(Self.object(screen)),
            "match_text": text("passwordsMatch"),
            "mismatch_text": text("password-mismatch"),
            "type": .string(type),
            "email": .string(user.email ?? ""),
            "ticket": .string(token),
            "password_policy": .string(policy.level.rawValue),
            "password_complexity_options": .string(JSONValue.object(["min_length": .int(Int64(policy.effectiveMinLength))]).jsonString),
            "password_dictionary": .bool(policy.dictionary.enabled),
            "password_history": .bool(policy.history.enabled),
            "password_no_personal_info": .bool(policy.noPersonalInfo),
            "user": .object(publicUser),
            "query": .object(JSONObject(query.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })),
            "rules": .array(
                policy.rules.map { rule in
                    .object(["key": .string(Self.ruleKey(rule.id)), "id": .string(rule.id), "text": .string(rule.summary(templates: screen))])
                }),
            "rules_json": .string(rulesJSON),
            "errors": .array(errors.map(JSONValue.string)),
        ]
        if let client = state.client {
            globals["application"] = ["name": .string(client.name), "clientID": .string(client.clientID)]
        }
        if let custom = try await services.tenant.settings().customResetPage {
            do {
                return Page(
                    status: status, template: try LiquidTemplate.parse(custom, name: "change_password.html"), globals: globals, strictCSP: false,
                    texts: texts)
            } catch {
                // Saving refuses templates that do not parse, so this is a template stored before that check; fall back loudly.
                globals["errors"] = .array(
                    (errors + ["(The custom password page failed to parse: \(error.description); showing the default page.)"]).map(JSONValue.string))
            }
        }
        return Page(status: status, template: HostedPageTemplates.parsedResetForm, globals: globals, texts: texts)
    }

    /// Stable keys the page script and tests use for the rules.
    static func ruleKey(_ id: String) -> String {
        switch id {
        case "nonEmpty", "lengthAtLeast": "length"
        case "shouldContain", "containsAtLeast": "characters"
        case "identicalChars": "identical"
        case "maxLength": "max-bytes"
        case "noPersonalInfo": "personal-info"
        default: id
        }
    }

    static func wantsJSON(_ request: Request) -> Bool {
        (request.headers[.accept] ?? "").lowercased().contains("application/json")
    }

    func submitReset(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let fields = try await HTTPInput.fields(request)
        let json = Self.wantsJSON(request)
        let token = fields["ticket"] ?? ""
        let outcome = try await services.passwordResets.complete(
            token: token, newPassword: fields["newPassword"] ?? "", confirmation: fields["confirmNewPassword"] ?? "", ip: context.clientAddress,
            userAgent: request.headers[.userAgent])
        switch outcome {
        case .success(let done):
            if json {
                var body: JSONObject = ["message": "Your password has been reset successfully."]
                if let url = done.redirectURL { body["result_url"] = .string(url) }
                return HTTPOutput.json(body)
            }
            if let url = done.redirectURL {
                return Response(status: .found, headers: [.location: url])
            }
            let texts = try await resetTexts(request, user: done.user)
            let screen = texts.screen("reset-password", "reset-password-success")
            let button =
                done.clientName.map { PromptTextService.fill(screen["buttonText"] ?? "", ["clientName": $0]) } ?? screen["buttonTextWithoutClient"] ?? ""
            return try await render(
                messagePage(
                    .ok, title: screen["eventTitle"] ?? "", paragraphs: [screen["description"] ?? ""], link: done.loginURL.map { ($0, button) }, texts: texts),
                request: request)
        case .failure(let failure):
            throw HostedPageError.resetRefused(failure, token: token, fields: fields)
        }
    }

    // MARK: /lo/reset/resend

    func resend(_ request: Request, _ context: UsherRequestContext) async throws -> Response {
        let fields = try await HTTPInput.fields(request)
        var email: String?
        var connection = fields["connection"] ?? Connection.defaultDatabaseName
        var clientID: String?
        var owner: User?
        if let token = fields["ticket"], let (ticket, user) = try await services.passwordResets.ticketOwner(token: token) {
            email = user.email
            connection = user.connection
            clientID = ticket.clientID
            owner = user
        } else if let given = fields["email"], !given.isEmpty {
            email = given
        }
        guard let email else { throw HostedPageError.resendWithoutEmail }
        do {
            _ = try await services.passwordResets.request(
                email: email, connection: connection, clientID: clientID, ip: context.clientAddress,
                userAgent: request.headers[.userAgent], language: request.headers[.acceptLanguage])
        } catch let error as UsherError {
            throw HostedPageError.resendRefused(error)
        }
        // Only a ticket's owner decides the language: an address typed in must not reveal whose it is.
        let texts = try await resetTexts(request, user: owner)
        let screen = texts.screen("reset-password", "reset-password-email")
        return try await render(messagePage(.ok, title: screen["title"] ?? "", paragraphs: [screen["description"] ?? ""], texts: texts), request: request)
    }
}
