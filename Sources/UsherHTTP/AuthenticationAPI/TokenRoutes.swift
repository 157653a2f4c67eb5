import Foundation
import HTTPTypes
import Hummingbird
import UsherCore

/// `/oauth/token` (every grant Usher supports) and `/oauth/revoke`, with OAuth error bodies.
struct TokenRoutes {
    let services: UsherServices

    var collection: RouteCollection<UsherRequestContext> {
        let routes = RouteCollection(context: UsherRequestContext.self).add(middleware: APIErrorMiddleware(style: .oauth))
        let services = self.services
        let tokens = services.machineTokens
        routes.post("oauth/token") { request, context -> Response in
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
            let login = services.login
            var userTokens: UserTokens?
            switch grantType {
            case "client_credentials": break
            case "authorization_code":
                userTokens = try await login.exchangeCode(
                    code: fields["code"], redirectURI: fields["redirect_uri"], codeVerifier: fields["code_verifier"],
                    clientID: clientID, clientSecret: clientSecret)
            case "refresh_token":
                userTokens = try await login.refresh(token: fields["refresh_token"], clientID: clientID, clientSecret: clientSecret)
            case "password", "http://auth0.com/oauth/grant-type/password-realm":
                userTokens = try await login.passwordGrant(
                    grantType: grantType, username: fields["username"], password: fields["password"], realm: fields["realm"], scope: fields["scope"],
                    audience: fields["audience"], clientID: clientID, clientSecret: clientSecret, ip: context.clientAddress,
                    userAgent: request.headers[.userAgent])
            default:
                throw UsherError(.forbidden, "Unsupported grant type: \(grantType)", errorCode: "unsupported_grant_type")
            }
            if let userTokens {
                var response = HTTPOutput.json(userTokens.json)
                response.headers[.cacheControl] = "no-store"
                response.headers[.pragma] = "no-cache"
                return response
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

        routes.post("oauth/revoke") { request, _ -> Response in
            let fields = try await HTTPInput.fields(request)
            var clientID = fields["client_id"]
            var clientSecret = fields["client_secret"]
            if let basic = Self.basicCredentials(request) { (clientID, clientSecret) = (basic.id, basic.secret) }
            try await services.login.revoke(token: fields["token"], clientID: clientID, clientSecret: clientSecret)
            return Response(status: .ok)
        }
        return routes
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
