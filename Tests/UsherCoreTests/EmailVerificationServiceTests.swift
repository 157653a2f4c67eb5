import Foundation
import Testing
import UsherCore
import UsherTesting

@Suite struct EmailVerificationServiceTests {
    /// The same result-URL policy as the reset email: not sent, and the reason logged rather than a link that
    /// silently lands nowhere the tenant chose.
    @Test func aDisallowedRedirectToSendsNothingAndLogsWhy() async throws {
        let f = try await LinkFixture()
        try await f.template("verify_email", resultURL: "https://evil.example.net/phish")
        let verification = EmailVerificationService(store: f.store, clock: f.clock, links: f.links, redeemer: f.redeemer)
        #expect(try await verification.sendVerificationEmail(to: f.user, client: f.client) == nil)
        #expect(try await f.outboxCount() == 0)
        let logs = try await f.store.logs(LogQuery()).events
        #expect(logs.count == 1 && logs[0].type == "fn" && logs[0].description?.contains("verify_email template's Redirect To is not allowed") == true)
    }

    @Test func confirmingVerifiesOnceAndRedirectsWithTheCode() async throws {
        let f = try await LinkFixture()
        try await f.template("verify_email", resultURL: LinkFixture.allowedURL)
        let verification = EmailVerificationService(store: f.store, clock: f.clock, links: f.links, redeemer: f.redeemer)
        let message = try #require(try await verification.sendVerificationEmail(to: f.user, client: f.client))
        let token = LinkFixture.token(in: message.html)
        let (user, redirect) = try await verification.confirm(token: token, ip: nil, userAgent: nil).get()
        #expect(user.emailVerified)
        #expect(
            redirect?.hasPrefix(LinkFixture.allowedURL + "?success=true&message=") == true && redirect?.contains("&code=success&email=ada@example.com") == true)
        #expect(try await verification.confirm(token: token, ip: nil, userAgent: nil).map(\.user) == .failure(.used))
    }
}
