import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/emails/provider`: the SMTP provider.
///
/// Auth0: GET shows name and enabled unless `fields` asks for more; never smtp_pass.
struct EmailProviderRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let mail = services.mail
        return [
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
        ]
    }
}
