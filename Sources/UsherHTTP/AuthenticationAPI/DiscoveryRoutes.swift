import Foundation
import HTTPTypes
import Hummingbird
import UsherCore
import UsherJSON

/// What a client discovers before talking to Usher: the signing keys and the OpenID Connect configuration.
struct DiscoveryRoutes {
    let services: UsherServices

    var collection: RouteCollection<UsherRequestContext> {
        let routes = RouteCollection(context: UsherRequestContext.self)
        let signer = services.signer
        let issuer = services.machineTokens.issuer
        routes.get(".well-known/jwks.json") { _, _ -> Response in
            var response = HTTPOutput.json(signer.jwks)
            response.headers[.cacheControl] = "public, max-age=300"
            return response
        }

        routes.get(".well-known/openid-configuration") { _, _ -> Response in
            HTTPOutput.json([
                "issuer": .string(issuer),
                "authorization_endpoint": .string(issuer + "authorize"),
                "token_endpoint": .string(issuer + "oauth/token"),
                "userinfo_endpoint": .string(issuer + "userinfo"),
                "revocation_endpoint": .string(issuer + "oauth/revoke"),
                "end_session_endpoint": .string(issuer + "v2/logout"),
                "jwks_uri": .string(issuer + ".well-known/jwks.json"),
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "subject_types_supported": ["public"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "claims_supported": [
                    "sub", "iss", "aud", "exp", "iat", "nonce", "name", "nickname", "picture", "given_name", "family_name",
                    "updated_at", "email", "email_verified",
                ],
                "grant_types_supported": [
                    "authorization_code", "refresh_token", "client_credentials", "password",
                    "http://auth0.com/oauth/grant-type/password-realm",
                ],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "request_parameter_supported": false,
            ])
        }
        return routes
    }
}
