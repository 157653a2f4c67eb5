import Foundation
import Testing
import UsherCore
import UsherJSON
import UsherStorage
import UsherTesting

/// The invitation contract (`InvitationStore`) on every store: SQLite, PostgreSQL (with `USHER_TEST_POSTGRES_URL`)
/// and memory — round trips, filters read against the clock, the delivery state joined from the outbox, and
/// acceptance.
@Suite("Invitation store conformance")
struct InvitationStoreConformanceTests {
    static let t0 = Date(timeIntervalSince1970: 1_750_000_000)

    static func invitation(_ n: Int, user: String? = nil, email: String? = nil, ttl: TimeInterval = 3_600, client: String? = "app1") -> Invitation {
        let created = t0.addingTimeInterval(Double(n))
        return Invitation(
            id: String(format: "uinv_%016d", n), userID: user ?? "auth0|\(n)", email: email ?? "user\(n)@example.com",
            connection: "Username-Password-Authentication", connectionID: "con_1", clientID: client, inviterName: n % 2 == 0 ? "Ada" : nil,
            appMetadata: n % 2 == 0 ? ["plan": "team"] : [:], userMetadata: ["lang": "fr"], roles: n % 2 == 0 ? ["rol_1", "rol_2"] : [],
            ttlSeconds: Int(ttl), sendInvitationEmail: true, locale: n % 2 == 0 ? "fr" : nil, resultURL: "https://app.example.com/welcome",
            createdAt: created, expiresAt: created.addingTimeInterval(ttl), ticketID: "t\(n)", outboxID: "msg_\(n)")
    }

    static func message(_ n: Int) -> OutboxMessage {
        OutboxMessage(
            id: "msg_\(n)", to: "user\(n)@example.com", from: nil, replyTo: nil, subject: "Invitation", html: "<p>hi</p>", text: nil,
            messageID: "<m\(n)@id.example>", purpose: "user_invitation", nextAttemptAt: t0, createdAt: t0)
    }

    @Test(arguments: StoreKind.available)
    func roundTripWithTheLatestEmailsDeliveryState(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.enqueueOutbox(Self.message(2))
            try await store.insertInvitation(Self.invitation(2))
            try await store.insertInvitation(Self.invitation(3))  // its email (msg_3) does not exist
            var expected = Self.invitation(2)
            expected.delivery = InvitationDelivery(outboxID: "msg_2", state: .queued, attempts: 0, lastError: nil, sentAt: nil)
            #expect(try await store.invitation(id: expected.id) == expected)
            #expect(try await store.invitation(id: Self.invitation(3).id) == Self.invitation(3))
            #expect(try await store.invitation(id: "uinv_nope") == nil)
            await #expect(throws: UsherError.self) { try await store.insertInvitation(Self.invitation(2)) }

            // The courier gives up: the invitation shows it.
            _ = try await store.claimOutbox(worker: "w", now: Self.t0, leaseUntil: Self.t0.addingTimeInterval(30), limit: 10)
            #expect(try await store.invitation(id: expected.id)?.delivery?.state == .queued)
            #expect(try await store.markOutboxAbandoned(id: "msg_2", worker: "w", error: "550 no such mailbox"))
            let abandoned = try #require(try await store.invitation(id: expected.id)?.delivery)
            #expect(abandoned.state == .abandoned && abandoned.lastError == "550 no such mailbox" && abandoned.attempts == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func updatesReplaceEveryStoredFieldAndDeletesRemove(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertInvitation(Self.invitation(1))
            var changed = Self.invitation(1)
            changed.storedStatus = .revoked
            changed.revokedAt = Self.t0.addingTimeInterval(10)
            changed.resendCount = 3
            changed.expiresAt = Self.t0.addingTimeInterval(99)
            changed.ticketID = "t-new"
            changed.outboxID = nil
            changed.roles = ["rol_9"]
            try await store.updateInvitation(changed)
            #expect(try await store.invitation(id: changed.id) == changed)
            await #expect(throws: UsherError.invitationNotFound) { try await store.updateInvitation(Self.invitation(5)) }
            #expect(try await store.deleteInvitation(id: changed.id))
            #expect(try await store.deleteInvitation(id: changed.id) == false)
            #expect(try await store.invitation(id: changed.id) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func listsAreNewestFirstAndFilterByStatusReadAgainstTheClock(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            // 0, 1: short-lived (expired at t0 + 100); 2..5 pending; 6 accepted; 7 revoked.
            for n in 0..<8 { try await store.insertInvitation(Self.invitation(n, ttl: n < 2 ? 50 : 3_600, client: n == 5 ? "app2" : "app1")) }
            var accepted = Self.invitation(6)
            (accepted.storedStatus, accepted.acceptedAt) = (.accepted, Self.t0.addingTimeInterval(20))
            try await store.updateInvitation(accepted)
            var revoked = Self.invitation(7)
            (revoked.storedStatus, revoked.revokedAt) = (.revoked, Self.t0.addingTimeInterval(20))
            try await store.updateInvitation(revoked)
            let now = Self.t0.addingTimeInterval(100)
            func ids(_ filter: InvitationFilter, offset: Int = 0, limit: Int = 50) async throws -> ([Int], Int) {
                let (items, total) = try await store.listInvitations(filter, now: now, offset: offset, limit: limit)
                return (items.map { Int($0.id.dropFirst(5))! }, total)
            }
            #expect(try await ids(InvitationFilter()) == ([7, 6, 5, 4, 3, 2, 1, 0], 8))
            #expect(try await ids(InvitationFilter(), offset: 2, limit: 3) == ([5, 4, 3], 8))
            #expect(try await ids(InvitationFilter(), offset: Int(Int32.max), limit: 3) == ([], 8))
            #expect(try await ids(InvitationFilter(status: .pending)) == ([5, 4, 3, 2], 4))
            #expect(try await ids(InvitationFilter(status: .expired)) == ([1, 0], 2))
            #expect(try await ids(InvitationFilter(status: .accepted)) == ([6], 1))
            #expect(try await ids(InvitationFilter(status: .revoked)) == ([7], 1))
            #expect(try await ids(InvitationFilter(clientID: "app2")) == ([5], 1))
            #expect(try await ids(InvitationFilter(userID: "auth0|3")) == ([3], 1))
            #expect(
                try await ids(InvitationFilter(createdFrom: Self.t0.addingTimeInterval(2), createdTo: Self.t0.addingTimeInterval(4)))
                    == ([3, 2], 2))
        }
    }

    @Test(arguments: StoreKind.available)
    func emailPrefixesAreLiteralAndDeliveryFiltersFollowTheOutbox(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertInvitation(Self.invitation(1, email: "ada_l@example.com"))
            try await store.insertInvitation(Self.invitation(2, email: "adaxl@example.com"))
            try await store.insertInvitation(Self.invitation(3, email: "100%@example.com"))
            let now = Self.t0
            #expect(try await store.listInvitations(InvitationFilter(emailPrefix: "ADA"), now: now, offset: 0, limit: 10).total == 2)
            // `_` and `%` are characters here, not patterns.
            #expect(
                try await store.listInvitations(InvitationFilter(emailPrefix: "ada_"), now: now, offset: 0, limit: 10).invitations.map(\.email) == [
                    "ada_l@example.com"
                ])
            #expect(try await store.listInvitations(InvitationFilter(emailPrefix: "1%"), now: now, offset: 0, limit: 10).total == 0)
            #expect(try await store.listInvitations(InvitationFilter(emailPrefix: "100%"), now: now, offset: 0, limit: 10).total == 1)

            for n in 1...3 { try await store.enqueueOutbox(Self.message(n)) }
            _ = try await store.claimOutbox(worker: "w", now: now, leaseUntil: now.addingTimeInterval(30), limit: 10)
            #expect(try await store.markOutboxSent(id: "msg_1", worker: "w", at: now))
            #expect(try await store.markOutboxFailed(id: "msg_2", worker: "w", error: "451 try later", nextAttemptAt: now, countAttempt: true))
            func delivered(_ state: InvitationDelivery.State) async throws -> [String] {
                try await store.listInvitations(InvitationFilter(delivery: state), now: now, offset: 0, limit: 10).invitations.map(\.email)
            }
            #expect(try await delivered(.sent) == ["ada_l@example.com"])
            #expect(try await delivered(.deferred) == ["adaxl@example.com"])
            #expect(try await delivered(.queued) == ["100%@example.com"])  // `sending` reads as queued
            #expect(try await delivered(.abandoned).isEmpty)
            #expect(try await store.listInvitations(InvitationFilter(delivery: .deferred), now: now, offset: 0, limit: 10).total == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func acceptanceTakesTheUsersOpenInvitationsOnlyWhileTheyLast(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertInvitation(Self.invitation(1, user: "auth0|a", ttl: 50))
            try await store.insertInvitation(Self.invitation(2, user: "auth0|a", ttl: 3_600))
            try await store.insertInvitation(Self.invitation(3, user: "auth0|b", ttl: 3_600))
            #expect(try await store.openInvitation(userID: "auth0|a")?.id == Self.invitation(2).id)
            #expect(try await store.openInvitation(userID: "auth0|nobody") == nil)
            let at = Self.t0.addingTimeInterval(100)
            // The expired one stays expired; a second acceptance changes nothing.
            #expect(try await store.acceptInvitations(userID: "auth0|a", at: at) == [Self.invitation(2).id])
            #expect(try await store.acceptInvitations(userID: "auth0|a", at: at).isEmpty)
            #expect(try await store.invitation(id: Self.invitation(2).id)?.acceptedAt == at)
            #expect(try await store.invitation(id: Self.invitation(1).id)?.status(at: at) == .expired)
            #expect(try await store.invitation(id: Self.invitation(3).id)?.storedStatus == .pending)
            // Acceptance rolls back with the transaction it is part of.
            struct Failed: Error {}
            await #expect(throws: Failed.self) {
                try await store.transaction { tx in
                    #expect(try await tx.acceptInvitations(userID: "auth0|b", at: at) == [Self.invitation(3).id])
                    throw Failed()
                }
            }
            #expect(try await store.invitation(id: Self.invitation(3).id)?.storedStatus == .pending)
        }
    }

    @Test(arguments: StoreKind.available)
    func remindersAndLapsesAreClaimedOnceAndOnlyWhenDue(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            // Expiring at t0 + 1000 + n; 9 sends no email; 8 is revoked.
            for n in 0..<10 {
                var invitation = Self.invitation(n, ttl: 1_000)
                invitation.sendInvitationEmail = n != 9
                if n == 8 { (invitation.storedStatus, invitation.revokedAt) = (.revoked, Self.t0) }
                try await store.insertInvitation(invitation)
            }
            let early = Self.t0.addingTimeInterval(100)
            #expect(try await store.claimInvitationReminders(now: early, window: 600, limit: 50).isEmpty)
            let now = Self.t0.addingTimeInterval(403)  // window 600: due up to t0 + 1003, so 0…3
            let first = try await store.claimInvitationReminders(now: now, window: 600, limit: 2)
            #expect(first.map(\.id) == [Self.invitation(0).id, Self.invitation(1).id] && first.allSatisfy { $0.remindedAt == now })
            let ids = try await claimedByConcurrentWorkers(4) { _ in
                try await store.claimInvitationReminders(now: now, window: 600, limit: 1).map(\.id)
            }
            #expect(ids.sorted() == [Self.invitation(2).id, Self.invitation(3).id])
            #expect(try await store.claimInvitationReminders(now: now, window: 600, limit: 50).isEmpty)

            // Lapsed: everything pending past expiry, email or not, once; the revoked one never.
            let later = Self.t0.addingTimeInterval(1_005)
            let lapsed = try await claimedByConcurrentWorkers(3) { _ in
                try await store.claimLapsedInvitations(now: later, limit: 2).map(\.id)
            }
            #expect(lapsed.sorted() == [0, 1, 2, 3, 4, 5].map { Self.invitation($0).id })
            let all = Self.t0.addingTimeInterval(2_000)
            #expect(try await store.claimLapsedInvitations(now: all, limit: 50).map(\.id) == [6, 7, 9].map { Self.invitation($0).id })
            #expect(try await store.claimLapsedInvitations(now: all, limit: 50).isEmpty)
            #expect(try await store.invitation(id: Self.invitation(0).id)?.expiryLoggedAt == later)
        }
    }
}
