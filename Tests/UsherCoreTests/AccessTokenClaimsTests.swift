import Testing
import UsherCore

@Suite("Access token scopes")
struct AccessTokenClaimsTests {
    func claims(_ scope: String) -> AccessTokenClaims {
        AccessTokenClaims(iss: "i", sub: "s", aud: "a", iat: 0, exp: 1, scope: scope, gty: nil, azp: nil, jti: nil)
    }

    @Test func matchesWholeScopesOnly() {
        #expect(claims("read:users create:users").hasAnyScope(of: ["create:users"]))
        #expect(claims("read:users").hasAnyScope(of: ["delete:users", "read:users"]))
        #expect(!claims("read:users_app update:users_app_metadata").hasAnyScope(of: ["read:users", "update:users"]))
        #expect(!claims("xread:users").hasAnyScope(of: ["read:users"]))
        #expect(!claims("").hasAnyScope(of: ["read:users"]))
        #expect(claims("  read:users  ").hasAnyScope(of: ["read:users"]))
        #expect(!claims("read:users").hasAnyScope(of: []))
    }
}
