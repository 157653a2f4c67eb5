import Foundation
import Testing
import UsherCore
import UsherTesting

struct DeliberateFailure: Error {}

@Suite struct LinkIssuerTests {
    @Test func preparingWritesNothingAndWritingStoresTicketAndEmailTogether() async throws {
        let f = try await LinkFixture()
        var batch = LinkEmailBatch()
        let prepared = try await f.links.prepare(f.email(.passwordChange, template: "reset_email", client: f.client), batch: &batch).get()
        #expect(prepared.link.hasPrefix("https://usher.test/lo/reset?ticket=") && prepared.link.hasSuffix("#"))
        #expect(try await f.storedTicket(prepared) == nil)
        #expect(try await f.outboxCount() == 0)
        try await f.store.transaction { tx in try await f.links.write([prepared], in: tx) }
        let ticket = try #require(try await f.storedTicket(prepared))
        #expect(ticket.kind == .passwordChange && ticket.clientID == "app1" && ticket.markEmailVerified && ticket.origin == "email")
        #expect(try await f.outboxCount() == 1)
        #expect(prepared.message?.html.contains(prepared.link) == true)
    }

    @Test func aTransactionThatFailsAfterwardsLeavesNoTicketAndNoEmail() async throws {
        let f = try await LinkFixture()
        var batch = LinkEmailBatch()
        let prepared = try await f.links.prepare(f.email(.emailVerification, template: "verify_email"), batch: &batch).get()
        await #expect(throws: DeliberateFailure.self) {
            try await f.store.transaction { tx in
                try await f.links.write([prepared], in: tx)
                throw DeliberateFailure()
            }
        }
        #expect(try await f.storedTicket(prepared) == nil)
        #expect(try await f.outboxCount() == 0)
    }

    /// The one result-URL policy: an allowed Redirect To is kept, one that is not refuses the email, for every kind.
    @Test(arguments: [(TicketKind.passwordChange, "reset_email"), (.emailVerification, "verify_email"), (.passwordChange, "blocked_account")])
    func aDisallowedRedirectToRefusesTheEmail(kind: TicketKind, template: String) async throws {
        let f = try await LinkFixture()
        try await f.template(template, resultURL: LinkFixture.allowedURL)
        var batch = LinkEmailBatch()
        let allowed = try await f.links.prepare(f.email(kind, template: template, client: f.client), batch: &batch).get()
        #expect(allowed.ticket.resultURL == LinkFixture.allowedURL)

        let other = try await LinkFixture()
        try await other.template(template, resultURL: "https://evil.example.net/phish")
        var fresh = LinkEmailBatch()
        let refused = try await other.links.prepare(other.email(kind, template: template, client: other.client), batch: &fresh)
        guard case .failure(.resultURLNotAllowed(let name, let reason)) = refused else {
            Issue.record("expected a refusal, got \(refused)")
            return
        }
        #expect(name == template && reason.contains("is not in application App's Allowed"))
        #expect(LinkEmailRefusal.resultURLNotAllowed(template: name, reason: reason).description.contains("Redirect To is not allowed"))
        // Without an application, any application's URLs bound it.
        try await other.links.checkResultURL(LinkFixture.allowedURL, client: nil, property: "resultUrl")
    }

    @Test func aDisabledTemplateOrMissingAddressIsRefused() async throws {
        let f = try await LinkFixture()
        try await f.template("verify_email", resultURL: nil, enabled: false)
        var batch = LinkEmailBatch()
        #expect(
            try await f.links.prepare(f.email(.emailVerification, template: "verify_email"), batch: &batch)
                == .failure(.templateDisabled(template: "verify_email")))
        var noAddress = f.email(.passwordChange, template: "reset_email")
        noAddress.user.email = nil
        #expect(try await f.links.prepare(noAddress, batch: &batch) == .failure(.noEmailAddress))
    }

    @Test func aNewerLinkVoidsTheOlderOneOfTheSameKind() async throws {
        let f = try await LinkFixture()
        let first = try await f.links.send(f.email(.passwordChange, template: "reset_email")).get()
        let second = try await f.links.send(f.email(.passwordChange, template: "reset_email")).get()
        let verification = try await f.links.send(f.email(.emailVerification, template: "verify_email")).get()
        #expect(try await f.storedTicket(first)?.problem(at: f.clock.now) == .superseded)
        #expect(try await f.storedTicket(second)?.problem(at: f.clock.now) == nil)
        #expect(try await f.storedTicket(verification)?.problem(at: f.clock.now) == nil)
    }

    @Test func hidingTheInvitationRendersWithoutTheFlag() async throws {
        let f = try await LinkFixture()
        try await f.store.insertEmailTemplate(
            EmailTemplate(
                template: "blocked_account", body: "{% if user.app_metadata.needsInvitation %}invite{% else %}blocked{% endif %} {{ user.source_ip }}",
                from: "a@example.com", subject: "s", updatedAt: f.clock.now))
        var email = f.email(.passwordChange, template: "blocked_account")
        email.sourceIP = "203.0.113.9"
        email.hidesInvitation = true
        var batch = LinkEmailBatch()
        let prepared = try await f.links.prepare(email, batch: &batch).get()
        #expect(prepared.message?.html.contains("blocked 203.0.113.9") == true)
    }
}
