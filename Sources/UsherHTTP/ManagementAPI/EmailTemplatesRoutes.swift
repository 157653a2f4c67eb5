import Foundation
import Hummingbird
import UsherCore

/// `/api/v2/email-templates`.
///
/// Auth0: POST answers 200, PATCH of an unconfigured template 404.
struct EmailTemplatesRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let templates = services.emailTemplates
        return [
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
        ]
    }
}
