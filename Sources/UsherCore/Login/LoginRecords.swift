import Foundation
import UsherJSON

/// A browser's signed-in session at Usher (the `usher_session` cookie), for single sign-on across applications.
public struct LoginSession: Sendable, Equatable {
    /// SHA-256 of the cookie's random value.
    public var idHash: String
    public var userID: String
    public var createdAt: Date
    public var lastSeenAt: Date
    /// Absolute end (tenant `session_lifetime`, Auth0 default 168 h).
    public var expiresAt: Date
    public var ip: String?
    public var userAgent: String?
    public var revokedAt: Date?

    public init(idHash: String, userID: String, createdAt: Date, lastSeenAt: Date, expiresAt: Date, ip: String?, userAgent: String?, revokedAt: Date? = nil) {
        self.idHash = idHash
        self.userID = userID
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
        self.ip = ip
        self.userAgent = userAgent
        self.revokedAt = revokedAt
    }
}

/// An authorization code waiting to be exchanged at `/oauth/token` (single use, short-lived).
public struct AuthorizationCode: Sendable, Equatable {
    public var codeHash: String
    public var clientID: String
    public var userID: String
    public var redirectURI: String
    public var scope: String
    public var audience: String?
    public var nonce: String?
    public var codeChallenge: String?
    public var codeChallengeMethod: String?
    /// Claims the post-login Actions added, carried to the tokens issued for this code.
    public var idTokenClaims: JSONObject
    public var accessTokenClaims: JSONObject
    public var createdAt: Date
    public var expiresAt: Date
    public var usedAt: Date?

    public init(
        codeHash: String, clientID: String, userID: String, redirectURI: String, scope: String, audience: String?, nonce: String?,
        codeChallenge: String?, codeChallengeMethod: String?, idTokenClaims: JSONObject, accessTokenClaims: JSONObject, createdAt: Date,
        expiresAt: Date, usedAt: Date? = nil
    ) {
        self.codeHash = codeHash
        self.clientID = clientID
        self.userID = userID
        self.redirectURI = redirectURI
        self.scope = scope
        self.audience = audience
        self.nonce = nonce
        self.codeChallenge = codeChallenge
        self.codeChallengeMethod = codeChallengeMethod
        self.idTokenClaims = idTokenClaims
        self.accessTokenClaims = accessTokenClaims
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// A refresh token. Each use rotates it (a new one in the same family); presenting a rotated one again is
/// reuse, which revokes the whole family (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP §4.14).
public struct RefreshTokenRecord: Sendable, Equatable {
    public var tokenHash: String
    /// The first token's id, shared by every rotation of it.
    public var familyID: String
    public var clientID: String
    public var userID: String
    public var scope: String
    public var audience: String?
    /// The authorization code this family came from (revoked if that code is replayed).
    public var codeHash: String?
    public var createdAt: Date
    public var expiresAt: Date
    public var rotatedAt: Date?
    public var revokedAt: Date?

    public init(
        tokenHash: String, familyID: String, clientID: String, userID: String, scope: String, audience: String?, codeHash: String?,
        createdAt: Date, expiresAt: Date, rotatedAt: Date? = nil, revokedAt: Date? = nil
    ) {
        self.tokenHash = tokenHash
        self.familyID = familyID
        self.clientID = clientID
        self.userID = userID
        self.scope = scope
        self.audience = audience
        self.codeHash = codeHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.rotatedAt = rotatedAt
        self.revokedAt = revokedAt
    }
}

/// Persistence of sessions, codes, refresh tokens and brute-force counters.
public protocol LoginStore: Sendable {
    func insertSession(_ session: LoginSession) async throws
    func session(idHash: String) async throws -> LoginSession?
    func touchSession(idHash: String, at: Date) async throws
    func revokeSession(idHash: String, at: Date) async throws
    /// Revokes every session of the user (password reset, block); returns how many.
    @discardableResult
    func revokeSessions(userID: String, at: Date) async throws -> Int

    func insertAuthorizationCode(_ code: AuthorizationCode) async throws
    /// Marks the code used if unused and unexpired; returns the code when this call redeemed it, and nil
    /// otherwise. A replayed code is reported by `authorizationCode(hash:)` having `usedAt` set.
    func redeemAuthorizationCode(hash: String, now: Date) async throws -> AuthorizationCode?
    func authorizationCode(hash: String) async throws -> AuthorizationCode?

    func insertRefreshToken(_ token: RefreshTokenRecord) async throws
    func refreshToken(hash: String) async throws -> RefreshTokenRecord?
    /// Marks a live token rotated; true when this call did it (one winner among racing refreshes).
    func rotateRefreshToken(hash: String, now: Date) async throws -> Bool
    @discardableResult
    func revokeRefreshTokenFamily(familyID: String, at: Date) async throws -> Int
    @discardableResult
    func revokeRefreshTokens(userID: String, at: Date) async throws -> Int
    @discardableResult
    func revokeRefreshTokens(codeHash: String, at: Date) async throws -> Int

    /// Failed logins for an identifier from an IP: increments and returns the count (a window restarts after
    /// `window` seconds without failures).
    func recordLoginFailure(key: String, at: Date, window: TimeInterval) async throws -> Int
    func loginFailures(key: String, at: Date, window: TimeInterval) async throws -> Int
    func clearLoginFailures(key: String) async throws
    /// Clears every counter whose key starts with `prefix` (all IPs of one identifier).
    func clearLoginFailures(prefix: String) async throws
}
