import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/branding/templates/universal-login`: the Universal Login page template.
struct BrandingRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let tenant = services.tenant
        return [
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
        ]
    }
}
