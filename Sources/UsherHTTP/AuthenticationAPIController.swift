import Foundation
import HTTPTypes
import Hummingbird
import UsherCore

/// Auth0's Authentication API: `/oauth/token` and the published signing keys.
public struct AuthenticationAPIController: Sendable {
    let services: UsherServices

    public init(services: UsherServices) { self.services = services }

    public func register(on router: Router<UsherRequestContext>) {
        let tokens = services.machineTokens
        let signer = services.signer
        let issuer = tokens.issuer
        let oauth = router.group().add(middleware: APIErrorMiddleware(style: .oauth))

        oauth.post("oauth/token") { request, _ -> Response in
            let fields = try await HTTPInput.fields(request)
            var clientID = fields["client_id"]
            var clientSecret = fields["client_secret"]
            if let basic = Self.basicCredentials(request) {
                if let clientID, clientID != basic.id {
                    throw UsherError(.invalidInput, "client_id in the body does not match the Authorization header", errorCode: "invalid_request")
                }
                clientID = basic.id
                clientSecret = basic.secret
            }
            guard let grantType = fields["grant_type"], !grantType.isEmpty else {
                throw UsherError(.invalidInput, "Missing required parameter: grant_type", errorCode: "invalid_request")
            }
            guard grantType == "client_credentials" else {
                throw UsherError(.forbidden, "Unsupported grant type: \(grantType)", errorCode: "unsupported_grant_type")
            }
            guard let clientID, !clientID.isEmpty else {
                throw UsherError(.unauthorized, "Missing required parameter: client_id", errorCode: "access_denied")
            }
            let token = try await tokens.clientCredentials(
                clientID: clientID, clientSecret: clientSecret, audience: fields["audience"], requestedScope: fields["scope"])
            var response = HTTPOutput.json(token.json)
            response.headers[.cacheControl] = "no-store"
            response.headers[.pragma] = "no-cache"
            return response
        }

        router.get(".well-known/jwks.json") { _, _ -> Response in
            var response = HTTPOutput.json(signer.jwks)
            response.headers[.cacheControl] = "public, max-age=300"
            return response
        }

        router.get(".well-known/openid-configuration") { _, _ -> Response in
            HTTPOutput.json([
                "issuer": .string(issuer),
                "token_endpoint": .string(issuer + "oauth/token"),
                "jwks_uri": .string(issuer + ".well-known/jwks.json"),
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "id_token_signing_alg_values_supported": ["RS256"],
            ])
        }
    }

    /// `Authorization: Basic base64(client_id:client_secret)`, each part form-decoded per RFC 6749 §2.3.1.
    static func basicCredentials(_ request: Request) -> (id: String, secret: String)? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic", let data = Data(base64Encoded: String(parts[1])),
            let decoded = String(data: data, encoding: .utf8), let colon = decoded.firstIndex(of: ":")
        else { return nil }
        return (HTTPInput.decodeComponent(decoded[..<colon]), HTTPInput.decodeComponent(decoded[decoded.index(after: colon)...]))
    }
}
