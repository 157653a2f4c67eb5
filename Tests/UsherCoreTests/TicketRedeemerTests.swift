import Foundation
import Testing
import UsherCore
import UsherTesting

@Suite struct TicketRedeemerTests {
    @Test func openingNeverConsumesAndRedeemingWorksOnce() async throws {
        let f = try await LinkFixture()
        let prepared = try await f.links.send(f.email(.passwordChange, template: "reset_email")).get()
        let token = LinkFixture.token(in: prepared.link)
        for _ in 0..<3 {
            let opened = try await f.redeemer.open(token: token, kind: .passwordChange).get()
            #expect(opened.user.userID == f.user.userID)
        }
        #expect(try await f.redeemer.open(token: token, kind: .emailVerification) == .failure(.invalid))
        let ticket = prepared.ticket
        let first = try await f.store.transaction { tx in try await f.redeemer.redeem(ticket, in: tx, now: f.clock.now) }
        let second = try await f.store.transaction { tx in try await f.redeemer.redeem(ticket, in: tx, now: f.clock.now) }
        #expect(first?.userID == f.user.userID && second == nil)
        #expect(try await f.redeemer.open(token: token, kind: .passwordChange) == .failure(.used))
        #expect(try await f.redeemer.problemAfterFailedRedeem(ticket) == .used)
        // The owner is found whatever the state, for "send me a new link".
        #expect(try await f.redeemer.owner(token: token)?.user.userID == f.user.userID)
    }

    @Test func malformedUnknownAndExpiredTokens() async throws {
        let f = try await LinkFixture()
        #expect(try await f.redeemer.open(token: "short", kind: .passwordChange) == .failure(.invalid))
        #expect(try await f.redeemer.open(token: Ticket.generateToken(), kind: .passwordChange) == .failure(.invalid))
        #expect(try await f.redeemer.owner(token: "short") == nil)
        var email = f.email(.emailVerification, template: "verify_email")
        email.lifetime = 60
        let prepared = try await f.links.send(email).get()
        f.clock.advance(by: 61)
        #expect(try await f.redeemer.open(token: LinkFixture.token(in: prepared.link), kind: .emailVerification) == .failure(.expired))
    }

    @Test func theSuccessRedirectWithAndWithoutEmail() throws {
        let now = Date(timeIntervalSince1970: 0)
        var ticket = Ticket(
            tokenHash: "h", kind: .emailVerification, userID: "u", clientID: nil, resultURL: "https://app.example.com/done#/route",
            includeEmailInRedirect: true, markEmailVerified: true, origin: "api", createdAt: now, expiresAt: now)
        #expect(
            TicketRedeemer.successRedirect(for: ticket, email: "a+b@example.com", message: "Done.", extra: [("code", "success")])
                == "https://app.example.com/done?success=true&message=Done.&code=success&email=a%2Bb@example.com#/route")
        ticket.includeEmailInRedirect = false
        #expect(
            TicketRedeemer.successRedirect(for: ticket, email: "a@example.com", message: "Done.")
                == "https://app.example.com/done?success=true&message=Done.#/route")
        ticket.resultURL = nil
        #expect(TicketRedeemer.successRedirect(for: ticket, email: "a@example.com", message: "Done.") == nil)
    }
}
