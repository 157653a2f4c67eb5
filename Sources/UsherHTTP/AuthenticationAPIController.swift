import Foundation
import HTTPTypes
import Hummingbird
import UsherCore
import UsherJSON

/// Auth0's Authentication API: `/oauth/token` and the published signing keys.
public struct AuthenticationAPIController: Sendable {
    let services: UsherServices

    public init(services: UsherServices) { self.services = services }

    public func register(on router: Router<UsherRequestContext>) {
        let tokens = services.machineTokens
        let signer = services.signer
        let issuer = tokens.issuer
        let oauth = router.group().add(middleware: APIErrorMiddleware(style: .oauth))

        let services = self.services
        oauth.post("oauth/token") { request, context -> Response in
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
                userTokens = try await login.exchangeCode(code: fields["code"], redirectURI: fields["redirect_uri"], codeVerifier: fields["code_verifier"],
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

        let resets = services.passwordResets
        oauth.post("dbconnections/change_password") { request, context -> Response in
            let fields = try await HTTPInput.fields(request)
            if fields["password"] != nil {
                // Lock 8 once set the password here; Auth0 now refuses it, and so does Usher.
                throw UsherError(.invalidInput, "Password is not allowed", errorCode: "invalid_request")
            }
            let decision = try resets.request(
                email: fields["email"], connection: fields["connection"], clientID: fields["client_id"], ip: context.clientAddress,
                userAgent: request.headers[.userAgent], language: request.headers[.acceptLanguage])
            var response = HTTPOutput.text(PasswordResetService.successMessage)
            response.headers[HTTPField.Name("X-RateLimit-Limit")!] = String(resets.requestLimiter.burst)
            response.headers[HTTPField.Name("X-RateLimit-Remaining")!] = String(decision.remaining)
            response.headers[HTTPField.Name("X-RateLimit-Reset")!] = String(Int(decision.resetAt.timeIntervalSince1970.rounded(.up)))
            return response
        }

        let signups = services.signups
        let signupLimiter = services.signupLimiter
        router.post("dbconnections/signup") { request, context -> Response in
            guard signupLimiter.take(context.clientAddress ?? "-").allowed else {
                return HTTPOutput.json(SignupError(statusCode: 429, name: "TooManyRequestsError", code: "too_many_requests",
                                                   description: "Too many sign-ups from your network. Wait a few minutes and try again.").json,
                                       status: .tooManyRequests)
            }
            do {
                let body = try await HTTPInput.jsonObjectOrForm(request)
                let created = try await signups.signup(body, ip: context.clientAddress, userAgent: request.headers[.userAgent])
                return HTTPOutput.json(created)
            } catch let error as SignupError {
                return HTTPOutput.json(error.json, status: HTTPResponse.Status(code: error.statusCode))
            } catch let error as UsherError where error.kind == .invalidInput || error.kind == .payloadTooLarge {
                return HTTPOutput.json(SignupError(statusCode: 400, name: "BadRequestError", code: "invalid_signup", description: .string(error.message)).json,
                                       status: .badRequest)
            }
        }

        router.get(".well-known/jwks.json") { _, _ -> Response in
            var response = HTTPOutput.json(signer.jwks)
            response.headers[.cacheControl] = "public, max-age=300"
            return response
        }

        oauth.post("oauth/revoke") { request, _ -> Response in
            let fields = try await HTTPInput.fields(request)
            var clientID = fields["client_id"], clientSecret = fields["client_secret"]
            if let basic = Self.basicCredentials(request) { (clientID, clientSecret) = (basic.id, basic.secret) }
            try await services.login.revoke(token: fields["token"], clientID: clientID, clientSecret: clientSecret)
            return Response(status: .ok)
        }

        let userinfo: @Sendable (Request, UsherRequestContext) async throws -> Response = { request, _ in
            guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
                var response = HTTPOutput.json(["error": "invalid_token", "error_description": "Missing bearer token"], status: .unauthorized)
                response.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
                return response
            }
            do {
                return HTTPOutput.json(try await services.login.userinfo(accessToken: String(header.dropFirst(7))))
            } catch let error as UsherError where error.kind == .unauthorized {
                var response = HTTPOutput.json(["error": "invalid_token", "error_description": .string(error.message)], status: .unauthorized)
                response.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
                return response
            }
        }
        router.get("userinfo", use: userinfo)
        router.post("userinfo", use: userinfo)

        router.get(".well-known/openid-configuration") { _, _ -> Response in
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
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "nickname", "picture", "given_name", "family_name",
                                     "updated_at", "email", "email_verified"],
                "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "password",
                                          "http://auth0.com/oauth/grant-type/password-realm"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "request_parameter_supported": false,
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
