import Foundation
import Hummingbird
import UsherCore
import UsherJSON

/// `/api/v2/prompts/{prompt}/custom-text/{language}`: the hosted pages' texts per language, as Auth0's API sets them.
struct PromptsRoutes: ManagementRouteCollection {
    let services: UsherServices

    var routes: [ManagementRoute] {
        let texts = services.promptTexts
        return [
            ManagementRoute(method: .get, path: "prompts/:prompt/custom-text/:language", scopes: ["read:prompts"]) { _, context in
                HTTPOutput.json(
                    try await texts.customText(
                        prompt: try HTTPInput.pathParameter("prompt", context), language: try HTTPInput.pathParameter("language", context)))
            },
            ManagementRoute(method: .put, path: "prompts/:prompt/custom-text/:language", scopes: ["update:prompts"]) { request, context in
                HTTPOutput.json(
                    try await texts.setCustomText(
                        prompt: try HTTPInput.pathParameter("prompt", context), language: try HTTPInput.pathParameter("language", context),
                        body: try await HTTPInput.jsonObject(request)))
            },
        ]
    }
}
