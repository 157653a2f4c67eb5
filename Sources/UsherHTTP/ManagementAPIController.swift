import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// One Management API route: where it lives, which scopes admit a caller (any one of them), and what it does.
///
/// Routes are data so that the scope check cannot be forgotten (every route is registered through
/// `ManagementAPIController.register`, which checks first) and so that tests can walk the whole table.
public struct ManagementRoute: Sendable {
    public let method: HTTPRequest.Method
    /// Path below `/api/v2`, with Hummingbird parameters (`users/:id`).
    public let path: String
    public let scopes: [String]
    let handler: @Sendable (Request, UsherRequestContext) async throws -> Response
}

/// `/api/v2`: users, applications, grants and connections, Auth0-compatible.
public struct ManagementAPIController: Sendable {
    let services: UsherServices

    public init(services: UsherServices) { self.services = services }

    /// Every route, in the order registered.
    public var routes: [ManagementRoute] {
        let users = services.users
        let clients = services.clients
        let audience = services.machineTokens.managementAudience
        let mail = services.mail
        let templates = services.emailTemplates
        let tickets = services.tickets
        let logs = services.logs
        let tenant = services.tenant
        let actions = services.actions
        return [
            // MARK: users
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

            // MARK: clients
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

            // MARK: client grants
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

            // MARK: connections
            ManagementRoute(method: .get, path: "connections", scopes: ["read:connections"]) { request, _ in
                let parameters = HTTPInput.query(request)
                let list = try await clients.connections(name: parameters["name"]).map { JSONValue.object($0.managementJSON) }
                return HTTPOutput.jsonValue(try ListPagination.respond(list, key: "connections", parameters: parameters))
            },
            ManagementRoute(method: .get, path: "connections/:id", scopes: ["read:connections"]) { _, context in
                HTTPOutput.json(try await clients.connection(id: try HTTPInput.pathParameter("id", context)).managementJSON)
            },
            ManagementRoute(method: .patch, path: "connections/:id", scopes: ["update:connections"]) { request, context in
                let connection = try await clients.updateConnection(id: try HTTPInput.pathParameter("id", context), body: try await HTTPInput.jsonObject(request))
                return HTTPOutput.json(connection.managementJSON)
            },

            // MARK: email provider (Auth0: GET shows name and enabled unless `fields` asks for more; never smtp_pass)
            ManagementRoute(method: .get, path: "emails/provider", scopes: ["read:email_provider"]) { request, _ in
                let parameters = HTTPInput.query(request)
                let fields = parameters["fields"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                let provider = try await mail.provider()
                guard parameters["include_fields"] == "false", let fields else { return HTTPOutput.json(provider.managementJSON(fields: fields)) }
                // include_fields=false: everything (but the password) except the listed fields.
                let all = provider.fullManagementJSON
                return HTTPOutput.json(JSONObject(all.filter { !fields.contains($0.key) }.map { ($0.key, $0.value) }))
            },
            ManagementRoute(method: .post, path: "emails/provider", scopes: ["create:email_provider"]) { request, _ in
                let provider = try await mail.createProvider(try await HTTPInput.jsonObject(request))
                return HTTPOutput.json(provider.fullManagementJSON, status: .created)
            },
            ManagementRoute(method: .patch, path: "emails/provider", scopes: ["update:email_provider"]) { request, _ in
                HTTPOutput.json(try await mail.updateProvider(try await HTTPInput.jsonObject(request)).fullManagementJSON)
            },
            ManagementRoute(method: .delete, path: "emails/provider", scopes: ["delete:email_provider"]) { _, _ in
                try await mail.deleteProvider()
                return HTTPOutput.noContent()
            },
            ManagementRoute(method: .post, path: "emails/provider/test", scopes: ["update:email_provider"]) { request, _ in
                let message = try await mail.sendTestEmail(try await HTTPInput.jsonObject(request))
                return HTTPOutput.json(message.managementJSON(), status: .accepted)
            },

            // MARK: outbox (Usher extension: what was sent, what is waiting, what gave up and why)
            ManagementRoute(method: .get, path: "emails/outbox", scopes: ["read:email_outbox"]) { request, _ in
                let parameters = HTTPInput.query(request)
                let perPage = try Self.integer(parameters["per_page"], name: "per_page", default: 50, range: 1...100)
                let page = try Self.integer(parameters["page"], name: "page", default: 0, range: 0...1_000_000)
                let result = try await mail.listOutbox(status: parameters["status"], page: page, perPage: perPage)
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

            // MARK: email templates (Auth0: POST answers 200, PATCH of an unconfigured template 404)
            ManagementRoute(method: .post, path: "email-templates", scopes: ["create:email_templates"]) { request, _ in
                HTTPOutput.json(try await templates.create(try await HTTPInput.jsonObject(request)).managementJSON)
            },
            ManagementRoute(method: .get, path: "email-templates/:name", scopes: ["read:email_templates"]) { _, context in
                HTTPOutput.json(try await templates.template(name: try HTTPInput.pathParameter("name", context)).managementJSON)
            },
            ManagementRoute(method: .patch, path: "email-templates/:name", scopes: ["update:email_templates"]) { request, context in
                let name = try HTTPInput.pathParameter("name", context)
                return HTTPOutput.json(try await templates.update(name: name, try await HTTPInput.jsonObject(request), replace: false).managementJSON)
            },
            ManagementRoute(method: .put, path: "email-templates/:name", scopes: ["update:email_templates"]) { request, context in
                let name = try HTTPInput.pathParameter("name", context)
                return HTTPOutput.json(try await templates.update(name: name, try await HTTPInput.jsonObject(request), replace: true).managementJSON)
            },

            // MARK: tickets (links only; nothing is sent)
            ManagementRoute(method: .post, path: "tickets/password-change", scopes: ["create:user_tickets"]) { request, _ in
                let link = try await tickets.createPasswordChangeTicket(try await HTTPInput.jsonObjectOrForm(request))
                return HTTPOutput.json(["ticket": .string(link)], status: .created)
            },
            ManagementRoute(method: .post, path: "tickets/email-verification", scopes: ["create:user_tickets"]) { request, _ in
                let link = try await tickets.createEmailVerificationTicket(try await HTTPInput.jsonObjectOrForm(request))
                return HTTPOutput.json(["ticket": .string(link)], status: .created)
            },

            // MARK: logs
            ManagementRoute(method: .get, path: "logs", scopes: ["read:logs"]) { request, _ in
                let parameters = HTTPInput.query(request)
                let (query, page, includeTotals, checkpoint) = try LogService.query(parameters: parameters)
                let result = try await logs.list(query)
                let items = JSONValue.array(result.events.map { .object($0.managementJSON) })
                guard includeTotals && !checkpoint else { return HTTPOutput.jsonValue(items) }
                return HTTPOutput.json([
                    "start": .int(Int64(page * query.limit)), "limit": .int(Int64(query.limit)), "length": .int(Int64(result.events.count)),
                    "total": .int(Int64(result.total)), "logs": items,
                ])
            },
            ManagementRoute(method: .get, path: "logs/:id", scopes: ["read:logs"]) { _, context in
                HTTPOutput.json(try await logs.event(id: try HTTPInput.pathParameter("id", context)).managementJSON)
            },

            // MARK: tenant settings
            ManagementRoute(method: .get, path: "tenants/settings", scopes: ["read:tenant_settings"]) { _, _ in
                var settings = try await tenant.settings().object
                settings["universal_login_template"] = nil
                return HTTPOutput.json(settings)
            },

            // MARK: Universal Login page template
            ManagementRoute(method: .get, path: "branding/templates/universal-login", scopes: ["read:branding"]) { _, _ in
                HTTPOutput.json(["body": .string(try await tenant.universalLoginTemplate())])
            },
            ManagementRoute(method: .put, path: "branding/templates/universal-login", scopes: ["update:branding"]) { request, _ in
                let template: String
                if request.headers[.contentType]?.lowercased().hasPrefix("text/html") == true {
                    template = String(decoding: try await HTTPInput.bytes(of: request), as: UTF8.self)
                } else {
                    let body = try await HTTPInput.jsonObject(request)
                    guard let text = body["template"]?.stringValue else { throw UsherError.invalidBody("'Missing required property: template'.") }
                    template = text
                }
                let created = try await tenant.setUniversalLoginTemplate(template)
                return Response(status: created ? .created : .noContent)
            },
            ManagementRoute(method: .delete, path: "branding/templates/universal-login", scopes: ["delete:branding"]) { _, _ in
                try await tenant.deleteUniversalLoginTemplate()
                return HTTPOutput.noContent()
            },
            ManagementRoute(method: .patch, path: "tenants/settings", scopes: ["update:tenant_settings"]) { request, _ in
                HTTPOutput.json(try await tenant.update(try await HTTPInput.jsonObject(request)).object)
            },

            // MARK: Actions (post-login only; see ActionService for secrets and deletion rules)
            ManagementRoute(method: .post, path: "actions/actions", scopes: ["create:actions"]) { request, _ in
                let action = try await actions.create(try await HTTPInput.jsonObject(request))
                return HTTPOutput.json(try await actions.managementJSON(action), status: .created)
            },
            ManagementRoute(method: .get, path: "actions/actions", scopes: ["read:actions"]) { request, _ in
                let page = try await actions.list(parameters: HTTPInput.query(request))
                var items: [JSONValue] = []
                for action in page.actions { items.append(.object(try await actions.managementJSON(action))) }
                return HTTPOutput.json([
                    "actions": .array(items), "total": .int(Int64(page.total)), "page": .int(Int64(page.page)), "per_page": .int(Int64(page.perPage)),
                ])
            },
            ManagementRoute(method: .get, path: "actions/actions/:id", scopes: ["read:actions"]) { _, context in
                HTTPOutput.json(try await actions.managementJSON(try await actions.action(id: try HTTPInput.pathParameter("id", context))))
            },
            ManagementRoute(method: .patch, path: "actions/actions/:id", scopes: ["update:actions"]) { request, context in
                let action = try await actions.update(id: try HTTPInput.pathParameter("id", context), body: try await HTTPInput.jsonObject(request))
                return HTTPOutput.json(try await actions.managementJSON(action))
            },
            ManagementRoute(method: .delete, path: "actions/actions/:id", scopes: ["delete:actions"]) { request, context in
                let force = HTTPInput.query(request)["force"] == "true"
                try await actions.delete(id: try HTTPInput.pathParameter("id", context), force: force)
                return HTTPOutput.noContent()
            },
            ManagementRoute(method: .post, path: "actions/actions/:id/deploy", scopes: ["create:actions"]) { _, context in
                let (version, action) = try await actions.deploy(id: try HTTPInput.pathParameter("id", context))
                return HTTPOutput.json(version.managementJSON(action: action, deployed: true), status: .accepted)
            },
            ManagementRoute(method: .get, path: "actions/actions/:id/versions", scopes: ["read:actions"]) { request, context in
                let parameters = HTTPInput.query(request)
                let pageNumber = try Self.integer(parameters["page"], name: "page", default: 0, range: 0...1_000_000)
                let perPage = try Self.integer(parameters["per_page"], name: "per_page", default: 50, range: 1...100)
                let (versions, action) = try await actions.versions(actionID: try HTTPInput.pathParameter("id", context))
                let start = min(pageNumber * perPage, versions.count)
                let items = versions[start..<min(versions.count, start + perPage)].map {
                    JSONValue.object($0.managementJSON(action: action, deployed: $0.id == action.deployedVersionID))
                }
                return HTTPOutput.json([
                    "versions": .array(items), "total": .int(Int64(versions.count)), "page": .int(Int64(pageNumber)), "per_page": .int(Int64(perPage)),
                ])
            },
            ManagementRoute(method: .get, path: "actions/actions/:id/versions/:versionId", scopes: ["read:actions"]) { _, context in
                let (version, action) = try await actions.version(
                    actionID: try HTTPInput.pathParameter("id", context), id: try HTTPInput.pathParameter("versionId", context))
                return HTTPOutput.json(version.managementJSON(action: action, deployed: version.id == action.deployedVersionID))
            },
            ManagementRoute(method: .post, path: "actions/actions/:id/test", scopes: ["create:actions"]) { request, context in
                HTTPOutput.json(try await actions.test(id: try HTTPInput.pathParameter("id", context), body: try await HTTPInput.jsonObject(request)))
            },
            ManagementRoute(method: .get, path: "actions/triggers", scopes: ["read:actions"]) { _, _ in
                HTTPOutput.json(["triggers": .array([.object([
                    "id": .string(ActionTrigger.postLogin), "version": .string(ActionTrigger.defaultPostLoginVersion), "status": .string("CURRENT"),
                    "runtimes": .array([.string(Action.defaultRuntime)]), "default_runtime": .string(Action.defaultRuntime),
                    "compatible_triggers": .array([]),
                ])])])
            },
            ManagementRoute(method: .get, path: "actions/triggers/:triggerId/bindings", scopes: ["read:actions"]) { request, context in
                let parameters = HTTPInput.query(request)
                let pageNumber = try Self.integer(parameters["page"], name: "page", default: 0, range: 0...1_000_000)
                let perPage = try Self.integer(parameters["per_page"], name: "per_page", default: 50, range: 1...100)
                let bindings = try await actions.bindings(triggerID: try HTTPInput.pathParameter("triggerId", context))
                let start = min(pageNumber * perPage, bindings.count)
                var items: [JSONValue] = []
                for (binding, action) in bindings[start..<min(bindings.count, start + perPage)] {
                    items.append(.object(binding.managementJSON(action: try await actions.managementJSON(action))))
                }
                return HTTPOutput.json([
                    "bindings": .array(items), "total": .int(Int64(bindings.count)), "page": .int(Int64(pageNumber)), "per_page": .int(Int64(perPage)),
                ])
            },
            ManagementRoute(method: .patch, path: "actions/triggers/:triggerId/bindings", scopes: ["update:actions"]) { request, context in
                let bindings = try await actions.replaceBindings(
                    triggerID: try HTTPInput.pathParameter("triggerId", context), body: try await HTTPInput.jsonObject(request))
                var items: [JSONValue] = []
                for (binding, action) in bindings { items.append(.object(binding.managementJSON(action: try await actions.managementJSON(action)))) }
                return HTTPOutput.json(["bindings": .array(items)])
            },
        ]
    }

    /// A bounded integer query parameter, with Auth0's query-validation error.
    static func integer(_ raw: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw else { return value }
        guard let number = Int(raw), range.contains(number) else {
            throw UsherError.invalidQuery("Query validation error: '\(name)' must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// Registers every route under `/api/v2`, each behind the token and scope check.
    public func register(on router: Router<UsherRequestContext>) {
        let group = router.group("api/v2").add(middleware: APIErrorMiddleware(style: .management))
        let tokens = services.machineTokens
        for route in routes {
            let scopes = route.scopes
            let handler = route.handler
            group.on(RouterPath(route.path), method: route.method) { request, context -> Response in
                var context = context
                context.accessToken = try await Self.authorize(request, scopes: scopes, tokens: tokens)
                return try await handler(request, context)
            }
        }
    }

    /// 401 for a missing, malformed, badly signed or expired token; 403 when no required scope is held.
    static func authorize(_ request: Request, scopes: [String], tokens: MachineTokenService) async throws -> AccessTokenClaims {
        guard let header = request.headers[.authorization] else { throw UsherError.missingToken }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw UsherError.invalidToken }
        // No trimming: `split` already dropped the separator, and Foundation's trimming of an 800-byte token
        // was the single largest cost of a GET in the profile.
        let claims = try await tokens.verifyManagementToken(String(parts[1]))
        guard claims.hasAnyScope(of: scopes) else { throw UsherError.insufficientScope(scopes) }
        return claims
    }
}
