import Foundation
import Testing
import UsherCore
import UsherJSON
import UsherTesting

/// Every transition of an invitation on a fake clock: created, resent, expired, revoked, accepted, and a reset
/// request that is the same invitation sent again.
@Suite struct InvitationServiceTests {
    struct Fixture {
        let base: LinkFixture
        let invitations: InvitationService
        let roles: RoleService
        let resets: PasswordResetService
        var store: InMemoryUsherStore { base.store }
        var clock: FakeClock { base.clock }

        init() async throws {
            base = try await PasswordResetBatchTests.fixture()
            let users = UserService(
                store: base.store, hasher: PlainTextPasswordHasher(), passwordRules: ConnectionPasswordRules(hasher: PlainTextPasswordHasher()),
                clock: base.clock)
            roles = RoleService(store: base.store, clock: base.clock)
            invitations = InvitationService(store: base.store, users: users, links: base.links, roles: roles, clock: base.clock)
            resets = PasswordResetService(
                store: base.store, links: base.links, redeemer: base.redeemer, hasher: PlainTextPasswordHasher(), clock: base.clock,
                requestLimiter: RateLimiter(burst: 100, refill: 1, clock: base.clock),
                mailLimiter: RateLimiter(burst: 100, refill: 1, clock: base.clock))
        }

        func invite(_ email: String = "grace@example.com", ttl: Int = 0, sendEmail: Bool = true) async throws -> IssuedInvitation {
            try await invitations.create(
                InvitationRequest(email: email, inviterName: "Ada", clientID: "app1", ttlSeconds: ttl, sendEmail: sendEmail, locale: "fr"))
        }

        func accept(_ issued: IssuedInvitation, password: String = "correct horse battery staple 42") async throws
            -> Result<PasswordResetOutcome, PasswordResetFailure>
        {
            try await resets.complete(
                token: LinkFixture.token(in: issued.invitationURL), newPassword: password, confirmation: password, ip: nil, userAgent: nil)
        }

        func logTypes() async throws -> [String] {
            try await store.logs(LogQuery(limit: 100)).events.map(\.type)
        }
    }

    @Test func creatingAnInvitationCreatesTheRecipesUserAndQueuesItsEmailTogether() async throws {
        let f = try await Fixture()
        let issued = try await f.invite()
        #expect(issued.created)
        let invitation = issued.invitation
        #expect(invitation.id.hasPrefix("uinv_") && invitation.id.count == 21)
        #expect(invitation.status(at: f.clock.now) == .pending)
        #expect(invitation.expiresAt == f.clock.now.addingTimeInterval(7 * 86_400))
        #expect(invitation.delivery?.state == .queued)
        let user = try #require(try await f.store.user(id: invitation.userID))
        #expect(user.needsInvitation && !user.emailVerified && user.passwordHash == nil && user.email == "grace@example.com")
        let outboxID = try #require(invitation.outboxID)
        let message = try #require(try await f.store.outboxMessage(id: outboxID))
        #expect(message.purpose == "user_invitation" && message.to == "grace@example.com")
        // The stored invitation names its ticket without holding anything that opens it.
        let token = LinkFixture.token(in: issued.invitationURL)
        #expect(invitation.ticketID == Invitation.ticketID(tokenHash: SecureRandom.secretHash(token)))
        #expect(!invitation.managementJSON(now: f.clock.now).jsonString.contains(token))
        #expect(issued.invitationURL.hasSuffix("#type=invite"))
        #expect(try await f.logTypes().contains("invitation_created"))
    }

    @Test func anInvitationPastItsExpiryReadsExpiredAndANewLinkRevivesIt() async throws {
        let f = try await Fixture()
        let issued = try await f.invite(ttl: 3_600)
        f.clock.advance(by: 3_600)
        #expect(try await f.invitations.invitation(id: issued.invitation.id).status(at: f.clock.now) == .expired)
        #expect(try await f.invitations.list(InvitationFilter(status: .expired), offset: 0, limit: 10).total == 1)
        #expect(try await f.invitations.list(InvitationFilter(status: .pending), offset: 0, limit: 10).total == 0)
        #expect(try await f.accept(issued) == .failure(.ticket(.expired)))

        let resent = try await f.invitations.resend(id: issued.invitation.id)
        #expect(resent.invitation.status(at: f.clock.now) == .pending)
        #expect(resent.invitation.expiresAt == f.clock.now.addingTimeInterval(3_600))
        #expect(resent.invitation.resendCount == 1 && resent.invitation.outboxID != issued.invitation.outboxID)
        if case .failure(let failure) = try await f.accept(resent) { Issue.record("the new link did not work: \(failure)") }
    }

    @Test func resendingVoidsTheOldLink() async throws {
        let f = try await Fixture()
        let issued = try await f.invite()
        let resent = try await f.invitations.resend(id: issued.invitation.id)
        #expect(resent.invitationURL != issued.invitationURL)
        #expect(try await f.accept(issued) == .failure(.ticket(.superseded)))
        if case .failure(let failure) = try await f.accept(resent) { Issue.record("the new link did not work: \(failure)") }
        #expect(try await f.logTypes().contains("invitation_resent"))
    }

    @Test func revokingVoidsTheLinkAndEndsTheInvitation() async throws {
        let f = try await Fixture()
        let issued = try await f.invite()
        let revoked = try await f.invitations.revoke(id: issued.invitation.id, deleteUser: false)
        #expect(revoked.status(at: f.clock.now) == .revoked && revoked.revokedAt == f.clock.now)
        // Its email was still queued: it is withdrawn, not sent with a dead link.
        let outboxID = try #require(issued.invitation.outboxID)
        let email = try #require(try await f.store.outboxMessage(id: outboxID))
        #expect(email.status == .abandoned && email.lastError == "Not sent: the invitation was revoked.")
        #expect(revoked.delivery?.state == .abandoned)
        // Its own page (no "send me a new link"), and a reset request does not send it again either.
        #expect(try await f.accept(issued) == .failure(.ticket(.revoked)))
        let queued = try await f.base.outboxCount()
        await f.resets.process([
            PasswordResetRequest(
                email: "grace@example.com", connection: Connection.defaultDatabaseName, clientID: nil, ip: nil, userAgent: nil, language: nil)
        ])
        #expect(try await f.base.outboxCount() == queued)
        #expect(try await f.store.user(id: issued.invitation.userID) != nil)
        await #expect(throws: UsherError.self) { try await f.invitations.resend(id: issued.invitation.id) }
        await #expect(throws: UsherError.self) { try await f.invitations.revoke(id: issued.invitation.id, deleteUser: false) }
        // A kept user without a pending invitation is someone who already has an account.
        await #expect(throws: UsherError.alreadyAUser) { try await f.invite() }

        let other = try await f.invite("linus@example.com")
        _ = try await f.invitations.revoke(id: other.invitation.id, deleteUser: true)
        #expect(try await f.store.user(id: other.invitation.userID) == nil)
        #expect(try await f.logTypes().filter { $0 == "invitation_revoked" }.count == 2)
    }

    @Test func settingThePasswordAcceptsTheInvitationAndVerifiesTheAddress() async throws {
        let f = try await Fixture()
        let issued = try await f.invite()
        f.clock.advance(by: 60)
        guard case .success(let outcome) = try await f.accept(issued) else {
            Issue.record("not accepted")
            return
        }
        #expect(outcome.user.emailVerified && outcome.user.passwordHash != nil)
        let accepted = try await f.invitations.invitation(id: issued.invitation.id)
        #expect(accepted.status(at: f.clock.now) == .accepted && accepted.acceptedAt == f.clock.now)
        // Accepted is final: no expiry reading, no resend, and the address is now an account.
        f.clock.advance(by: 30 * 86_400)
        #expect(try await f.invitations.invitation(id: issued.invitation.id).status(at: f.clock.now) == .accepted)
        await #expect(throws: UsherError.self) { try await f.invitations.resend(id: issued.invitation.id) }
        await #expect(throws: UsherError.alreadyAUser) { try await f.invite() }
        #expect(try await f.logTypes().contains("invitation_accepted"))
    }

    @Test func invitingAPendingAddressAgainResendsItsInvitation() async throws {
        let f = try await Fixture()
        let first = try await f.invite()
        let again = try await f.invite()
        #expect(!again.created && again.invitation.id == first.invitation.id && again.invitation.resendCount == 1)
        #expect(try await f.invitations.list(InvitationFilter(), offset: 0, limit: 10).total == 1)
    }

    @Test func aResetRequestForAnInvitedUserIsTheSameInvitationSentAgain() async throws {
        let f = try await Fixture()
        let issued = try await f.invite(ttl: 86_400)
        f.clock.advance(by: 600)
        await f.resets.process([
            PasswordResetRequest(
                email: "grace@example.com", connection: Connection.defaultDatabaseName, clientID: nil, ip: nil, userAgent: nil, language: nil)
        ])
        let after = try await f.invitations.invitation(id: issued.invitation.id)
        #expect(after.resendCount == 1 && after.outboxID != issued.invitation.outboxID)
        // The invitation's own lifetime, counted from the new link, not the reset template's.
        #expect(after.expiresAt == f.clock.now.addingTimeInterval(86_400))
        let outboxID = try #require(after.outboxID)
        let message = try #require(try await f.store.outboxMessage(id: outboxID))
        #expect(message.purpose == "user_invitation")
        #expect(try await f.accept(issued) == .failure(.ticket(.superseded)))
    }

    @Test func withoutEmailTheLinkIsReturnedAndNothingIsQueued() async throws {
        let f = try await Fixture()
        let before = try await f.base.outboxCount()
        let issued = try await f.invite(sendEmail: false)
        #expect(try await f.base.outboxCount() == before)
        #expect(issued.invitation.outboxID == nil && issued.invitation.delivery == nil)
        if case .failure(let failure) = try await f.accept(issued) { Issue.record("the returned link did not work: \(failure)") }
    }

    @Test func requestBodiesAreCheckedBeforeAnythingIsWritten() async throws {
        let f = try await Fixture()
        for body: JSONObject in [
            [:], ["invitee": ["email": "not an address"]], ["invitee": ["email": "a@example.com"], "ttl_sec": 2_592_001],
            ["invitee": ["email": "a@example.com"], "ttl_sec": -1], ["invitee": ["email": "a@example.com", "phone": "1"]],
            ["invitee": ["email": "a@example.com"], "roles": .array((0...50).map { .string("rol_\($0)") })],
        ] {
            #expect(throws: UsherError.self, "\(body)") { try InvitationRequest(body: body) }
        }
        await #expect(throws: UsherError.self) {
            try await f.invitations.create(InvitationRequest(email: "a@example.com", clientID: "no-such-client"))
        }
        await #expect(throws: UsherError.self) {
            try await f.invitations.create(InvitationRequest(email: "a@example.com", resultURL: "https://evil.example.com/"))
        }
        #expect(try await f.store.user(connection: Connection.defaultDatabaseName, email: "a@example.com") == nil)
        #expect(try await f.invitations.list(InvitationFilter(), offset: 0, limit: 10).total == 0)
    }

    @Test func theInvitationsRolesAreGivenWhenItIsAcceptedAndOnlyRolesThatExist() async throws {
        let f = try await Fixture()
        let editor = try await f.roles.create(["name": "editor", "description": "Edits"])
        let viewer = try await f.roles.create(["name": "viewer"])
        await #expect(throws: UsherError.invalidBody("One or more of the specified roles do not exist: rol_nope")) {
            try await f.invitations.create(InvitationRequest(email: "grace@example.com", roles: [editor.id, "rol_nope"]))
        }
        let issued = try await f.invitations.create(InvitationRequest(email: "grace@example.com", roles: [editor.id, viewer.id]))
        #expect(try await f.store.userRoles(userID: issued.invitation.userID).isEmpty, "roles wait for the acceptance")
        try await f.roles.delete(id: viewer.id)
        guard case .success = try await f.accept(issued) else {
            Issue.record("not accepted")
            return
        }
        #expect(try await f.store.userRoles(userID: issued.invitation.userID) == [editor])
    }

    @Test func theReminderGoesOutOnceAtTheRightTimeWithANewLinkAndTheSameExpiry() async throws {
        let f = try await Fixture()
        let issued = try await f.invite(ttl: 3_600)
        let revoked = try await f.invite("linus@example.com", ttl: 3_600)
        _ = try await f.invitations.revoke(id: revoked.invitation.id, deleteUser: false)
        f.clock.advance(by: 2_999)
        #expect(try await f.invitations.sendDueReminders(window: 600) == 0, "601 s before expiry is not yet due")
        f.clock.advance(by: 1)
        #expect(try await f.invitations.sendDueReminders(window: 600) == 1)
        #expect(try await f.invitations.sendDueReminders(window: 600) == 0, "once")
        let reminded = try await f.invitations.invitation(id: issued.invitation.id)
        #expect(reminded.remindedAt == f.clock.now && reminded.expiresAt == issued.invitation.expiresAt)
        let outboxID = try #require(reminded.outboxID)
        let message = try #require(try await f.store.outboxMessage(id: outboxID))
        #expect(message.purpose == "user_invitation_reminder" && message.to == "grace@example.com")
        // The invitation's locale is French: so is its reminder.
        #expect(message.subject.hasPrefix("Rappel : vous êtes invité à rejoindre"))
        #expect(try await f.accept(issued) == .failure(.ticket(.superseded)), "the reminder's link replaces the first one")
        #expect(try await f.logTypes().contains("invitation_reminded"))

        // Resending gives a new lifetime, so the reminder can come again.
        let resent = try await f.invitations.resend(id: issued.invitation.id)
        #expect(resent.invitation.remindedAt == nil)
        f.clock.advance(by: 3_000)
        #expect(try await f.invitations.sendDueReminders(window: 600) == 1)
    }

    @Test func aLapsedInvitationIsLoggedOnceAndAnAcceptedOneNever() async throws {
        let f = try await Fixture()
        let lapsing = try await f.invite(ttl: 60)
        let accepted = try await f.invite("linus@example.com", ttl: 60)
        guard case .success = try await f.accept(accepted) else {
            Issue.record("not accepted")
            return
        }
        #expect(try await f.invitations.logLapsedInvitations() == 0)
        f.clock.advance(by: 60)
        #expect(try await f.invitations.logLapsedInvitations() == 1)
        #expect(try await f.invitations.logLapsedInvitations() == 0)
        let expired = try await f.store.logs(LogQuery(conditions: [("type", ["invitation_expired"])], limit: 10)).events
        #expect(expired.map(\.userID) == [lapsing.invitation.userID])
        #expect(try await f.invitations.sendDueReminders(window: 86_400) == 0, "no reminder after expiry")
    }

    @Test func aPendingInviteesNewAddressGetsANewLinkAndTheOldOneStops() async throws {
        let f = try await Fixture()
        let issued = try await f.invite()
        let users = UserService(
            store: f.store, hasher: PlainTextPasswordHasher(), passwordRules: ConnectionPasswordRules(hasher: PlainTextPasswordHasher()), clock: f.clock)
        let changed = try await users.updateUser(id: issued.invitation.userID, body: ["email": "grace.hopper@example.com"])
        let followed = try #require(try await f.invitations.followEmailChange(of: changed))
        #expect(followed.invitation.email == "grace.hopper@example.com" && followed.invitation.resendCount == 1)
        let outboxID = try #require(followed.invitation.outboxID)
        #expect(try await f.store.outboxMessage(id: outboxID)?.to == "grace.hopper@example.com")
        #expect(try await f.accept(issued) == .failure(.ticket(.superseded)))
        #expect(try await f.invitations.followEmailChange(of: changed) == nil, "nothing more to follow")
    }

    @Test func aListIsWrittenInOneTransactionWithAResultPerRowInOrder() async throws {
        let f = try await Fixture()
        let before = f.store.transactionCount
        let results = await f.invitations.create([
            InvitationRequest(email: "a@example.com"), InvitationRequest(email: "b@example.com"), InvitationRequest(email: "a@example.com"),
            InvitationRequest(email: "user2@example.com"), InvitationRequest(email: "c@example.com", clientID: "no-such-client"),
        ])
        let outcomes = results.map { result -> String in
            switch result {
            case .success(let issued): issued.created ? "created" : "resend"
            case .failure(let error): error.errorCode ?? "error"
            }
        }
        #expect(outcomes == ["created", "created", "resend", "already_a_user", "invalid_body"])
        // The two new ones together, then the repeated address's resend on its own.
        #expect(f.store.transactionCount - before == 2)
        #expect(try await f.invitations.list(InvitationFilter(), offset: 0, limit: 10).total == 2)
    }
}
