import Foundation
import Testing
import UsherCore
import UsherJSON
import UsherStorage
import UsherTesting

/// `LoginStore` on every store: sessions, authorization codes, refresh-token rotation and brute-force counters.
/// The single-winner properties (a code redeemed once, a refresh token rotated once) are what stop replays, so
/// they are raced here, not only called twice.
@Suite("Storage conformance: sessions, codes, refresh tokens, login failures")
struct LoginStorageConformanceTests {
    func session(_ hash: String, user: String = "auth0|1") -> LoginSession {
        LoginSession(
            idHash: hash, userID: user, createdAt: epoch, lastSeenAt: epoch, expiresAt: epoch.addingTimeInterval(604_800),
            ip: "203.0.113.7", userAgent: "Test/1.0")
    }

    func code(_ hash: String, expires: TimeInterval = 60) -> AuthorizationCode {
        AuthorizationCode(
            codeHash: hash, clientID: "client-1", userID: "auth0|1", redirectURI: "https://app.example.com/callback", scope: "openid email",
            audience: "https://api.example.com", nonce: "n-0S6", codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            codeChallengeMethod: "S256", idTokenClaims: ["https://example.com/roles": ["admin"]], accessTokenClaims: ["tier": "gold"],
            createdAt: epoch, expiresAt: epoch.addingTimeInterval(expires))
    }

    func refresh(_ hash: String, family: String = "fam-1", user: String = "auth0|1", code: String? = "code-1") -> RefreshTokenRecord {
        RefreshTokenRecord(
            tokenHash: hash, familyID: family, clientID: "client-1", userID: user, scope: "openid offline_access",
            audience: nil, codeHash: code, createdAt: epoch, expiresAt: epoch.addingTimeInterval(2_592_000))
    }

    @Test(arguments: StoreKind.available)
    func sessionRoundTripTouchAndRevoke(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let original = session("s1")
            try await store.insertSession(original)
            #expect(try await store.session(idHash: "s1") == original)
            #expect(try await store.session(idHash: "missing") == nil)
            try await store.touchSession(idHash: "s1", at: epoch.addingTimeInterval(30))
            #expect(try await store.session(idHash: "s1")?.lastSeenAt == epoch.addingTimeInterval(30))
            try await store.revokeSession(idHash: "s1", at: epoch.addingTimeInterval(40))
            // A second revocation keeps the first time: the log of when a session ended must not move.
            try await store.revokeSession(idHash: "s1", at: epoch.addingTimeInterval(50))
            #expect(try await store.session(idHash: "s1")?.revokedAt == epoch.addingTimeInterval(40))
        }
    }

    @Test(arguments: StoreKind.available)
    func revokingAUsersSessionsCountsOnlyLiveOnesOfThatUser(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertSession(session("a1"))
            try await store.insertSession(session("a2"))
            try await store.insertSession(session("b1", user: "auth0|2"))
            try await store.revokeSession(idHash: "a2", at: epoch.addingTimeInterval(1))
            #expect(try await store.revokeSessions(userID: "auth0|1", at: epoch.addingTimeInterval(2)) == 1)
            #expect(try await store.session(idHash: "a1")?.revokedAt == epoch.addingTimeInterval(2))
            #expect(try await store.session(idHash: "a2")?.revokedAt == epoch.addingTimeInterval(1))
            #expect(try await store.session(idHash: "b1")?.revokedAt == nil)
            #expect(try await store.revokeSessions(userID: "auth0|1", at: epoch.addingTimeInterval(3)) == 0)
        }
    }

    @Test(arguments: StoreKind.available)
    func authorizationCodeRoundTripAndSingleRedemption(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let original = code("c1")
            try await store.insertAuthorizationCode(original)
            #expect(try await store.authorizationCode(hash: "c1") == original)
            // Expired at exactly expiresAt, like tickets.
            #expect(try await store.redeemAuthorizationCode(hash: "c1", now: epoch.addingTimeInterval(60)) == nil)
            var redeemed = original
            redeemed.usedAt = epoch.addingTimeInterval(5)
            #expect(try await store.redeemAuthorizationCode(hash: "c1", now: epoch.addingTimeInterval(5)) == redeemed)
            #expect(try await store.redeemAuthorizationCode(hash: "c1", now: epoch.addingTimeInterval(6)) == nil)
            // A replay is visible: the stored code keeps its first use.
            #expect(try await store.authorizationCode(hash: "c1")?.usedAt == epoch.addingTimeInterval(5))
            #expect(try await store.redeemAuthorizationCode(hash: "unknown", now: epoch) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func racingCodeExchangesHaveExactlyOneWinner(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertAuthorizationCode(code("race"))
            let wins = try await winners(of: 30) { try await store.redeemAuthorizationCode(hash: "race", now: epoch.addingTimeInterval(1)) != nil }
            #expect(wins == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func refreshTokenRotatesOnceAndRevokesByFamilyUserAndCode(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let first = refresh("r1")
            try await store.insertRefreshToken(first)
            #expect(try await store.refreshToken(hash: "r1") == first)
            #expect(try await store.rotateRefreshToken(hash: "r1", now: epoch.addingTimeInterval(10)) == true)
            #expect(try await store.rotateRefreshToken(hash: "r1", now: epoch.addingTimeInterval(11)) == false)
            #expect(try await store.refreshToken(hash: "r1")?.rotatedAt == epoch.addingTimeInterval(10))
            try await store.insertRefreshToken(refresh("r2"))
            try await store.insertRefreshToken(refresh("other-family", family: "fam-2", code: "code-2"))
            try await store.insertRefreshToken(refresh("other-user", family: "fam-3", user: "auth0|2", code: "code-3"))
            // Reuse of r1 revokes the whole family, rotated members included, and nothing else.
            #expect(try await store.revokeRefreshTokenFamily(familyID: "fam-1", at: epoch.addingTimeInterval(20)) == 2)
            #expect(try await store.refreshToken(hash: "r2")?.revokedAt == epoch.addingTimeInterval(20))
            #expect(try await store.rotateRefreshToken(hash: "r2", now: epoch.addingTimeInterval(21)) == false)
            #expect(try await store.refreshToken(hash: "other-family")?.revokedAt == nil)
            #expect(try await store.revokeRefreshTokens(codeHash: "code-2", at: epoch.addingTimeInterval(30)) == 1)
            #expect(try await store.revokeRefreshTokens(userID: "auth0|2", at: epoch.addingTimeInterval(40)) == 1)
            #expect(try await store.revokeRefreshTokens(userID: "auth0|2", at: epoch.addingTimeInterval(41)) == 0)
            #expect(try await store.refreshToken(hash: "other-user")?.revokedAt == epoch.addingTimeInterval(40))
        }
    }

    @Test(arguments: StoreKind.available)
    func racingRefreshesRotateExactlyOnce(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertRefreshToken(refresh("race"))
            let wins = try await winners(of: 30) { try await store.rotateRefreshToken(hash: "race", now: epoch.addingTimeInterval(1)) }
            #expect(wins == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func loginFailuresCountWithinTheWindowAndClear(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let key = "ada@example.com|203.0.113.7"
            let window: TimeInterval = 900
            #expect(try await store.loginFailures(key: key, at: epoch, window: window) == 0)
            #expect(try await store.recordLoginFailure(key: key, at: epoch, window: window) == 1)
            #expect(try await store.recordLoginFailure(key: key, at: epoch.addingTimeInterval(100), window: window) == 2)
            #expect(try await store.recordLoginFailure(key: key, at: epoch.addingTimeInterval(200), window: window) == 3)
            #expect(try await store.loginFailures(key: key, at: epoch.addingTimeInterval(300), window: window) == 3)
            // The window runs from the last failure: quiet for longer than it, and the count starts again.
            #expect(try await store.loginFailures(key: key, at: epoch.addingTimeInterval(200 + window + 1), window: window) == 0)
            #expect(try await store.recordLoginFailure(key: key, at: epoch.addingTimeInterval(200 + window + 1), window: window) == 1)
            try await store.clearLoginFailures(key: key)
            #expect(try await store.loginFailures(key: key, at: epoch.addingTimeInterval(1_200), window: window) == 0)
            try await store.clearLoginFailures(key: "nobody|198.51.100.1")
        }
    }

    @Test(arguments: StoreKind.available)
    func clearingByPrefixMatchesOnlyThatIdentifierLiterally(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let window: TimeInterval = 900
            for key in ["a_b@example.com|1.1.1.1", "a_b@example.com|2.2.2.2", "axb@example.com|1.1.1.1", "a%@example.com|1.1.1.1"] {
                _ = try await store.recordLoginFailure(key: key, at: epoch, window: window)
            }
            // `_` and `%` are not wildcards here: a prefix names one identifier and all its IPs.
            try await store.clearLoginFailures(prefix: "a_b@example.com|")
            #expect(try await store.loginFailures(key: "a_b@example.com|1.1.1.1", at: epoch, window: window) == 0)
            #expect(try await store.loginFailures(key: "a_b@example.com|2.2.2.2", at: epoch, window: window) == 0)
            #expect(try await store.loginFailures(key: "axb@example.com|1.1.1.1", at: epoch, window: window) == 1)
            try await store.clearLoginFailures(prefix: "a%")
            #expect(try await store.loginFailures(key: "a%@example.com|1.1.1.1", at: epoch, window: window) == 0)
            #expect(try await store.loginFailures(key: "axb@example.com|1.1.1.1", at: epoch, window: window) == 1)
        }
    }
}
