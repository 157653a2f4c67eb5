import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/tenants/settings`.
struct TenantSettingsRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let tenant = services.tenant
        return [
            ManagementRoute(method: .get, path: "tenants/settings", scopes: ["read:tenant_settings"]) { _, _ in
                var settings = try await tenant.settings().object
                settings["universal_login_template"] = nil
                return HTTPOutput.json(settings)
            },
            ManagementRoute(method: .patch, path: "tenants/settings", scopes: ["update:tenant_settings"]) { request, _ in
                HTTPOutput.json(try await tenant.update(try await HTTPInput.jsonObject(request)).object)
            },
        ]
    }
}
