import Foundation
import Synchronization
import UsherJSON

/// The answer to a successful client-credentials request, in Auth0's shape.
public struct MachineToken: Sendable {
    public var accessToken: String
    public var expiresIn: Int
    public var scope: String

    public var json: JSONObject {
        ["access_token": .string(accessToken), "expires_in": .int(Int64(expiresIn)), "scope": .string(scope), "token_type": "Bearer"]
    }
}

/// Issues and checks Management API tokens (OAuth 2 client credentials).
public struct MachineTokenService: Sendable {
    /// Auth0's default lifetime for Management API tokens: a day.
    public static let defaultTokenLifetime = 86_400
    /// Lifetime of the tokens issued, in seconds (`expires_in`).
    public let tokenLifetime: Int

    /// What the service reads and writes: only the applications and grants a client-credentials request names.
    public typealias Store = any ClientStore

    let store: Store
    let signer: TokenSigner
    let clock: any UsherClock
    /// `{public_url}/` — the `iss` claim.
    public let issuer: String
    /// `{public_url}/api/v2/` — the Management API identifier.
    public let managementAudience: String
    let verifiedTokens = VerifiedTokenCache()

    public init(store: Store, signer: TokenSigner, clock: any UsherClock, publicURL: String, tokenLifetime: Int = defaultTokenLifetime) {
        self.store = store
        self.tokenLifetime = tokenLifetime
        self.signer = signer
        self.clock = clock
        let base = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.issuer = base + "/"
        self.managementAudience = base + "/api/v2/"
    }

    /// OAuth error helper: `errorCode` is the OAuth `error`, `message` its `error_description`.
    static func oauth(_ kind: UsherError.Kind, _ error: String, _ description: String) -> UsherError {
        UsherError(kind, description, errorCode: error)
    }

    /// Grants a token if the client authenticates and holds a grant for `audience`.
    public func clientCredentials(clientID: String, clientSecret: String?, audience: String?, requestedScope: String?) async throws -> MachineToken {
        guard let clientSecret, !clientSecret.isEmpty else {
            throw Self.oauth(.unauthorized, "access_denied", "Unauthorized")
        }
        // The same work runs for unknown clients and wrong secrets, so response timing tells nothing.
        let client = try await store.client(id: clientID)
        let secretMatches = client?.verifySecret(clientSecret) ?? SecureRandom.constantTimeEquals(SecureRandom.secretHash(clientSecret), "")
        guard let client, secretMatches else {
            throw Self.oauth(.unauthorized, "access_denied", "Unauthorized")
        }
        guard client.grantTypes.contains("client_credentials") else {
            throw Self.oauth(.forbidden, "unauthorized_client", "Grant type 'client_credentials' not allowed for the client.")
        }
        guard let audience, !audience.isEmpty else {
            throw Self.oauth(.invalidInput, "invalid_request", "Missing required parameter: audience")
        }
        guard audience == managementAudience else {
            throw Self.oauth(.forbidden, "access_denied", "Service not enabled within domain: \(audience)")
        }
        guard let grant = try await store.clientGrant(clientID: client.clientID, audience: audience) else {
            throw Self.oauth(
                .forbidden, "access_denied", "Client is not authorized to access \"\(audience)\". You need to create a \"client-grant\" associated to this API."
            )
        }
        var scopes = grant.scope
        if let requestedScope, !requestedScope.trimmingCharacters(in: .whitespaces).isEmpty {
            let requested = requestedScope.split(separator: " ").map(String.init)
            let missing = requested.filter { !grant.scope.contains($0) }
            if !missing.isEmpty {
                throw Self.oauth(.forbidden, "access_denied", "Client has not been granted scopes: \(missing.joined(separator: ", "))")
            }
            scopes = requested
        }
        let now = Int64(clock.now.timeIntervalSince1970)
        let scope = scopes.joined(separator: " ")
        let claims = AccessTokenClaims(
            iss: issuer, sub: "\(client.clientID)@clients", aud: audience, iat: now, exp: now + Int64(tokenLifetime),
            scope: scope, gty: "client-credentials", azp: client.clientID, jti: SecureRandom.token(byteCount: 16))
        let token = try await signer.sign(claims)
        return MachineToken(accessToken: token, expiresIn: tokenLifetime, scope: scope)
    }

    /// Checks a bearer token for the Management API and returns its claims; 401 errors as Auth0 words them.
    ///
    /// Tokens whose signature, issuer and audience checked out are remembered (by exact token text), so a
    /// client reusing its token for 24 hours pays for the RSA verification and claim decoding once. Expiry is
    /// still checked on every call against the clock.
    public func verifyManagementToken(_ token: String) async throws(UsherError) -> AccessTokenClaims {
        let claims: AccessTokenClaims
        if let cached = verifiedTokens.claims(for: token) {
            claims = cached
        } else {
            do {
                claims = try await signer.verify(token, as: AccessTokenClaims.self)
            } catch {
                throw UsherError.invalidToken
            }
            guard claims.aud == managementAudience, claims.iss == issuer else { throw UsherError.invalidToken }
            verifiedTokens.remember(token, claims)
        }
        let now = Int64(clock.now.timeIntervalSince1970)
        guard claims.exp > now else { throw UsherError.expiredToken }
        return claims
    }
}

/// Claims of tokens that passed full verification, bounded so a flood of distinct valid tokens cannot grow it
/// without limit (it is simply emptied when full; the next request re-verifies).
final class VerifiedTokenCache: Sendable {
    static let capacity = 4_096
    private let entries = Mutex<[String: AccessTokenClaims]>([:])

    func claims(for token: String) -> AccessTokenClaims? {
        entries.withLock { $0[token] }
    }

    func remember(_ token: String, _ claims: AccessTokenClaims) {
        entries.withLock { cache in
            if cache.count >= Self.capacity { cache.removeAll(keepingCapacity: true) }
            cache[token] = claims
        }
    }
}
