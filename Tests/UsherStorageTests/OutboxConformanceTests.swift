import Foundation
import Logging
import SQLKit
import Testing
import UsherCore
import UsherJSON
import UsherStorage
import UsherTesting

/// The outbox contract on every store: SQLite, PostgreSQL (with `USHER_TEST_POSTGRES_URL`) and memory.
@Suite("Outbox conformance")
struct OutboxConformanceTests {
    static let t0 = Date(timeIntervalSince1970: 1_750_000_000)

    static func message(_ n: Int, at offset: TimeInterval = 0, purpose: String = "test_email") -> OutboxMessage {
        let at = t0.addingTimeInterval(offset)
        return OutboxMessage(
            id: String(format: "msg_%04d", n), to: "user\(n)@example.com", from: n % 2 == 0 ? "from@example.com" : nil, replyTo: nil,
            subject: "Subject \(n) ✓", html: "<p>Hello \(n)</p>", text: n % 3 == 0 ? nil : "Hello \(n)", messageID: "<m\(n)@id.example>",
            purpose: purpose, nextAttemptAt: at, createdAt: at)
    }

    @Test(arguments: StoreKind.available)
    func enqueueGetAndList(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for n in 0..<5 { try await store.enqueueOutbox(Self.message(n, at: Double(n))) }
            let got = try #require(try await store.outboxMessage(id: "msg_0002"))
            #expect(got == Self.message(2, at: 2))
            #expect(try await store.outboxMessage(id: "nope") == nil)
            let page = try await store.listOutbox(status: nil, offset: 1, limit: 2)
            #expect(page.total == 5)
            #expect(page.messages.map(\.id) == ["msg_0003", "msg_0002"])  // newest first
            #expect(try await store.listOutbox(status: .sent, offset: 0, limit: 10).total == 0)
            #expect(try await store.listOutbox(status: .queued, offset: 0, limit: 10).messages.count == 5)
        }
    }

    @Test(arguments: StoreKind.available)
    func messagesKeepTheirUserAndListByIt(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for n in 0..<6 {
                var message = Self.message(n, at: Double(n))
                message.userID = n % 3 == 0 ? nil : "auth0|\(n % 3)"
                try await store.enqueueOutbox(message)
            }
            #expect(try await store.outboxMessage(id: "msg_0004")?.userID == "auth0|1")
            #expect(try await store.outboxMessage(id: "msg_0003")?.userID == nil)
            let ones = try await store.listOutbox(OutboxFilter(userID: "auth0|1"), offset: 0, limit: 10)
            #expect(ones.total == 2 && ones.messages.map(\.id) == ["msg_0004", "msg_0001"])
            let claimed = try await store.claimOutbox(worker: "w", now: Self.t0.addingTimeInterval(10), leaseUntil: Self.t0.addingTimeInterval(70), limit: 1)
            #expect(claimed.first?.userID == nil && claimed.first?.id == "msg_0000")
            let sendingTwos = try await store.listOutbox(OutboxFilter(status: .queued, userID: "auth0|2"), offset: 0, limit: 10)
            #expect(sendingTwos.total == 2)
            #expect(try await store.listOutbox(OutboxFilter(status: .sending, userID: "auth0|2"), offset: 0, limit: 10).total == 0)
        }
    }

    @Test(arguments: StoreKind.available)
    func batchEnqueueWritesEveryMessageOrNone(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let batch = (0..<4).map { Self.message($0, at: Double($0)) }
            try await store.transaction { tx in try await tx.enqueueOutbox(batch) }
            for message in batch { #expect(try await store.outboxMessage(id: message.id) == message) }
            // A duplicate id anywhere in a batch is a conflict, and its transaction leaves nothing behind.
            await #expect(throws: UsherError.self) {
                try await store.transaction { tx in try await tx.enqueueOutbox([Self.message(10), Self.message(2)]) }
            }
            #expect(try await store.outboxMessage(id: "msg_0010") == nil)
            try await store.enqueueOutbox([])
            #expect(try await store.listOutbox(status: nil, offset: 0, limit: 10).total == 4)
        }
    }

    @Test(arguments: StoreKind.available)
    func enqueueRollsBackWithItsTransaction(_ kind: StoreKind) async throws {
        struct Boom: Error {}
        try await withStore(kind) { store in
            await #expect(throws: Boom.self) {
                try await store.transaction { tx in
                    try await tx.enqueueOutbox(Self.message(1))
                    throw Boom()
                }
            }
            #expect(try await store.outboxMessage(id: "msg_0001") == nil)
            try await store.transaction { tx in try await tx.enqueueOutbox(Self.message(2)) }
            #expect(try await store.outboxMessage(id: "msg_0002") != nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func claimTakesOnlyDueMessagesOnce(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.enqueueOutbox(Self.message(1, at: 0))
            try await store.enqueueOutbox(Self.message(2, at: 10))
            try await store.enqueueOutbox(Self.message(3, at: 100))  // not due yet
            let now = Self.t0.addingTimeInterval(50)
            let claimed = try await store.claimOutbox(worker: "w1", now: now, leaseUntil: now.addingTimeInterval(60), limit: 10)
            #expect(claimed.map(\.id) == ["msg_0001", "msg_0002"])
            #expect(
                claimed.allSatisfy { $0.status == .sending && $0.attempts == 1 && $0.leaseOwner == "w1" && $0.leaseExpiresAt == now.addingTimeInterval(60) })
            #expect(try await store.claimOutbox(worker: "w2", now: now, leaseUntil: now.addingTimeInterval(60), limit: 10).isEmpty)
            #expect(try await store.claimOutbox(worker: "w2", now: now, leaseUntil: now, limit: 0).isEmpty)

            #expect(try await store.markOutboxSent(id: "msg_0001", worker: "w2", at: now) == false)  // not w2's lease
            #expect(try await store.markOutboxSent(id: "msg_0001", worker: "w1", at: now) == true)
            #expect(try await store.markOutboxSent(id: "msg_0001", worker: "w1", at: now) == false)  // already done
            let sent = try #require(try await store.outboxMessage(id: "msg_0001"))
            #expect(sent.status == .sent && sent.sentAt == now && sent.leaseOwner == nil && sent.leaseExpiresAt == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func failedMessagesComeBackAfterBackoff(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.enqueueOutbox(Self.message(1))
            let now = Self.t0
            _ = try await store.claimOutbox(worker: "w", now: now, leaseUntil: now.addingTimeInterval(60), limit: 1)
            #expect(
                try await store.markOutboxFailed(
                    id: "msg_0001", worker: "w", error: "451 try later", nextAttemptAt: now.addingTimeInterval(30), countAttempt: true))
            let failed = try #require(try await store.outboxMessage(id: "msg_0001"))
            #expect(failed.status == .failed && failed.lastError == "451 try later" && failed.attempts == 1 && failed.leaseOwner == nil)
            #expect(try await store.claimOutbox(worker: "w", now: now.addingTimeInterval(29), leaseUntil: now.addingTimeInterval(90), limit: 5).isEmpty)
            let again = try await store.claimOutbox(worker: "w", now: now.addingTimeInterval(30), leaseUntil: now.addingTimeInterval(90), limit: 5)
            #expect(again.map(\.attempts) == [2])
            // The transport was unusable: the attempt is given back.
            #expect(
                try await store.markOutboxFailed(id: "msg_0001", worker: "w", error: "535 auth", nextAttemptAt: now.addingTimeInterval(60), countAttempt: false)
            )
            #expect(try await store.outboxMessage(id: "msg_0001")?.attempts == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func renewalExtendsOnlyTheWorkersOwnLeases(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for n in 0..<3 { try await store.enqueueOutbox(Self.message(n)) }
            let now = Self.t0
            _ = try await store.claimOutbox(worker: "live", now: now, leaseUntil: now.addingTimeInterval(30), limit: 2)
            _ = try await store.claimOutbox(worker: "other", now: now, leaseUntil: now.addingTimeInterval(30), limit: 1)
            #expect(try await store.markOutboxSent(id: "msg_0000", worker: "live", at: now))
            // Only the message still `sending` under "live" is renewed.
            #expect(try await store.renewOutboxLeases(worker: "live", until: now.addingTimeInterval(60)) == 1)
            #expect(try await store.outboxMessage(id: "msg_0001")?.leaseExpiresAt == now.addingTimeInterval(60))
            #expect(try await store.outboxMessage(id: "msg_0002")?.leaseExpiresAt == now.addingTimeInterval(30))
            // At +45 s the renewed lease holds; the other worker's lapsed one is released.
            #expect(try await store.releaseExpiredOutboxLeases(now: now.addingTimeInterval(45)) == 1)
            #expect(try await store.outboxMessage(id: "msg_0001")?.status == .sending)
            #expect(try await store.outboxMessage(id: "msg_0002")?.status == .queued)
        }
    }

    @Test(arguments: StoreKind.available)
    func expiredLeasesAreReleased(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.enqueueOutbox(Self.message(1))
            let now = Self.t0
            _ = try await store.claimOutbox(worker: "crashed", now: now, leaseUntil: now.addingTimeInterval(60), limit: 1)
            #expect(try await store.releaseExpiredOutboxLeases(now: now.addingTimeInterval(59)) == 0)
            #expect(try await store.releaseExpiredOutboxLeases(now: now.addingTimeInterval(60)) == 1)
            let released = try #require(try await store.outboxMessage(id: "msg_0001"))
            #expect(released.status == .queued && released.leaseOwner == nil && released.lastError?.contains("stopped") == true)
            let reclaimed = try await store.claimOutbox(worker: "healthy", now: now.addingTimeInterval(61), leaseUntil: now.addingTimeInterval(121), limit: 1)
            #expect(reclaimed.map(\.attempts) == [2])
            // The crashed worker (if it was merely slow) cannot overwrite the new owner's outcome.
            #expect(try await store.markOutboxSent(id: "msg_0001", worker: "crashed", at: now) == false)
            #expect(try await store.markOutboxAbandoned(id: "msg_0001", worker: "crashed", error: "x") == false)
            #expect(try await store.markOutboxSent(id: "msg_0001", worker: "healthy", at: now) == true)
        }
    }

    @Test(arguments: StoreKind.available)
    func claimsFailedAndQueuedOldestDueFirst(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for n in 0..<6 { try await store.enqueueOutbox(Self.message(n, at: Double(10 - n))) }  // msg_0005 due first
            let now = Self.t0.addingTimeInterval(20)
            let first = try await store.claimOutbox(worker: "w", now: now, leaseUntil: now.addingTimeInterval(60), limit: 2)
            #expect(first.map(\.id) == ["msg_0005", "msg_0004"])
            // msg_0005 fails and is due before everything still queued.
            #expect(try await store.markOutboxFailed(id: "msg_0005", worker: "w", error: "451", nextAttemptAt: Self.t0, countAttempt: true))
            let second = try await store.claimOutbox(worker: "w", now: now, leaseUntil: now.addingTimeInterval(60), limit: 3)
            #expect(second.map(\.id) == ["msg_0005", "msg_0003", "msg_0002"])
            #expect(second.first?.attempts == 2)
        }
    }

    @Test(arguments: StoreKind.available)
    func batchedSentMarksAndClaimInOneWrite(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for n in 0..<6 { try await store.enqueueOutbox(Self.message(n, at: Double(n))) }
            let now = Self.t0.addingTimeInterval(50)
            let lease = now.addingTimeInterval(60)
            let first = try await store.markOutboxSentAndClaim(sent: [], sentAt: now, worker: "w1", now: now, leaseUntil: lease, limit: 3)
            #expect(first.sent.isEmpty && first.claimed.map(\.id) == ["msg_0000", "msg_0001", "msg_0002"])
            _ = try await store.claimOutbox(worker: "w2", now: now, leaseUntil: lease, limit: 1)  // msg_0003, not w1's
            // Marks w1's messages (not w2's, not unknown ids) and claims the rest.
            let second = try await store.markOutboxSentAndClaim(
                sent: ["msg_0000", "msg_0001", "msg_0003", "missing"], sentAt: now, worker: "w1", now: now, leaseUntil: lease, limit: 10)
            #expect(second.sent == ["msg_0000", "msg_0001"])
            #expect(second.claimed.map(\.id) == ["msg_0004", "msg_0005"])
            let sent = try #require(try await store.outboxMessage(id: "msg_0001"))
            #expect(sent.status == .sent && sent.sentAt == now && sent.leaseOwner == nil && sent.leaseExpiresAt == nil)
            #expect(try await store.outboxMessage(id: "msg_0003")?.status == .sending)
            // Marks only.
            let third = try await store.markOutboxSentAndClaim(
                sent: ["msg_0002", "msg_0004"], sentAt: now, worker: "w1", now: now, leaseUntil: lease, limit: 0)
            #expect(third.sent == ["msg_0002", "msg_0004"] && third.claimed.isEmpty)
            #expect(try await store.markOutboxSent(ids: ["msg_0002", "msg_0005"], worker: "w1", at: now) == ["msg_0005"])
            #expect(try await store.listOutbox(status: .sent, offset: 0, limit: 10).total == 5)
        }
    }

    @Test(arguments: StoreKind.available)
    func concurrentClaimersNeverShareAMessage(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let count = 60
            for n in 0..<count { try await store.enqueueOutbox(Self.message(n, at: Double(n % 7))) }
            let now = Self.t0.addingTimeInterval(100)
            let flat = try await claimedByConcurrentWorkers(6) { worker in
                try await store.claimOutbox(worker: worker, now: now, leaseUntil: now.addingTimeInterval(60), limit: 4).map(\.id)
            }
            #expect(flat.count == count)
            #expect(Set(flat).count == count)
        }
    }

    @Test(arguments: StoreKind.available)
    func abandonAndRetry(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.enqueueOutbox(Self.message(1))
            try await store.enqueueOutbox(Self.message(2))
            let now = Self.t0
            _ = try await store.claimOutbox(worker: "w", now: now, leaseUntil: now.addingTimeInterval(60), limit: 2)
            #expect(try await store.markOutboxAbandoned(id: "msg_0001", worker: "w", error: "550 5.1.1 user unknown"))
            #expect(try await store.markOutboxSent(id: "msg_0002", worker: "w", at: now))
            let abandoned = try await store.listOutbox(status: .abandoned, offset: 0, limit: 10)
            #expect(abandoned.messages.map(\.id) == ["msg_0001"] && abandoned.messages.first?.lastError == "550 5.1.1 user unknown")

            let later = now.addingTimeInterval(3_600)
            let retried = try #require(try await store.retryOutbox(id: "msg_0001", now: later))
            #expect(retried.status == .queued && retried.attempts == 0 && retried.nextAttemptAt == later)
            #expect(try await store.retryOutbox(id: "missing", now: later) == nil)
            await #expect(throws: UsherError.self) { _ = try await store.retryOutbox(id: "msg_0002", now: later) }  // sent
            #expect(try await store.claimOutbox(worker: "w", now: later, leaseUntil: later.addingTimeInterval(60), limit: 5).map(\.id) == ["msg_0001"])
        }
    }

    @Test(arguments: StoreKind.available)
    func emailProviderIsOneRow(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.emailProvider() == nil)
            var provider = EmailProvider(
                name: "smtp", enabled: true, defaultFromAddress: "no-reply@example.com",
                credentials: ["smtp_host": "smtp.example.com", "smtp_port": 587, "smtp_user": "u", "smtp_pass": "secret"],
                settings: ["headers": ["X-SES-Configuration-Set": "usher"]], createdAt: Self.t0, updatedAt: Self.t0)
            try await store.insertEmailProvider(provider)
            #expect(try await store.emailProvider() == provider)
            await #expect(throws: UsherError.emailProviderExists) { try await store.insertEmailProvider(provider) }
            provider.enabled = false
            provider.updatedAt = Self.t0.addingTimeInterval(5)
            try await store.updateEmailProvider(provider)
            #expect(try await store.emailProvider() == provider)
            #expect(try await store.deleteEmailProvider())
            #expect(try await store.deleteEmailProvider() == false)
            await #expect(throws: UsherError.emailProviderNotFound) { try await store.updateEmailProvider(provider) }
        }
    }

    @Test(arguments: StoreKind.available)
    func developmentMailbox(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for n in 0..<3 {
                try await store.insertDevMail(
                    DevMailboxMessage(
                        id: "dev_\(n)", outboxID: n == 0 ? nil : "msg_\(n)", to: "a\(n)@example.com", from: "f@example.com", replyTo: nil,
                        subject: "S\(n)", html: "<b>\(n)</b>", text: nil, messageID: "<\(n)@x>", receivedAt: Self.t0.addingTimeInterval(Double(n))))
            }
            #expect(try await store.devMails(limit: 2).map(\.id) == ["dev_2", "dev_1"])
            #expect(try await store.devMail(id: "dev_0")?.outboxID == nil)
            #expect(try await store.devMail(id: "dev_1")?.html == "<b>1</b>")
            #expect(try await store.devMail(id: "nope") == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func everyReadAndClaimCarriesTheBodies(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for n in 0..<6 { try await store.enqueueOutbox(Self.message(n, at: Double(n))) }
            await #expect(throws: UsherError.self) { try await store.enqueueOutbox(Self.message(1, at: 1)) }
            let expected = (0..<6).map { Self.message($0, at: Double($0)) }
            let bodies = { (messages: [OutboxMessage]) in messages.map { [$0.id, $0.html, $0.text ?? "-"] } }
            #expect(try await store.outboxMessage(id: "msg_0003") == expected[3])
            #expect(bodies(try await store.listOutbox(status: .queued, offset: 0, limit: 10).messages) == bodies(expected.reversed()))
            let now = Self.t0.addingTimeInterval(10)
            let claimed = try await store.claimOutbox(worker: "w1", now: now, leaseUntil: now.addingTimeInterval(60), limit: 2)
            #expect(bodies(claimed) == bodies(Array(expected[0..<2])))
            let both = try await store.markOutboxSentAndClaim(
                sent: ["msg_0000"], sentAt: now, worker: "w1", now: now, leaseUntil: now.addingTimeInterval(60), limit: 3)
            #expect(both.sent == ["msg_0000"])
            #expect(bodies(both.claimed) == bodies(Array(expected[2..<5])))
            #expect(try await store.outboxMessage(id: "msg_0000")?.html == expected[0].html)
            #expect(try await store.markOutboxFailed(id: "msg_0001", worker: "w1", error: "x", nextAttemptAt: now, countAttempt: true))
            #expect(try await store.markOutboxAbandoned(id: "msg_0002", worker: "w1", error: "y"))
            let retried = try await store.retryOutbox(id: "msg_0002", now: now)
            #expect(retried.map { [$0.html, $0.text ?? "-"] } == [expected[2].html, expected[2].text ?? "-"])
        }
    }

    /// Migration 6 moved the bodies out of `outbox`: rows written in the old shape keep their bodies.
    @Test(arguments: StoreKind.available.filter { $0 != .memory })
    func bodiesOfOlderRowsSurviveMigrationSix(_ kind: StoreKind) async throws {
        try await withUnmigratedDatabase(kind) { db in
            var logger = Logger(label: "outbox-migration-test")
            logger.logLevel = .warning
            try await Migrator.migrate(db, logger: logger, through: 5)
            let old = Self.message(7, at: 0)
            let noText = Self.message(9, at: 1)
            for m in [old, noText] {
                try await db.insert(into: "outbox")
                    .columns(
                        "id", "recipient", "sender", "reply_to", "subject", "html", "text_body", "message_id", "purpose", "status",
                        "attempts", "last_error", "next_attempt_at", "lease_owner", "lease_expires_at", "created_at", "sent_at"
                    )
                    .values(
                        SQLBind(m.id), SQLBind(m.to), SQLBind(m.from), SQLBind(m.replyTo), SQLBind(m.subject), SQLBind(m.html),
                        SQLBind(m.text), SQLBind(m.messageID), SQLBind(m.purpose), SQLBind(m.status.rawValue), SQLBind(Int64(0)),
                        SQLBind(String?.none), SQLBind(Timestamp.milliseconds(m.nextAttemptAt)), SQLBind(String?.none),
                        SQLBind(Int64?.none), SQLBind(Timestamp.milliseconds(m.createdAt)), SQLBind(Int64?.none)
                    )
                    .run()
            }
            #expect(try await Migrator.migrate(db, logger: logger).contains(6))
            let store = SQLUsherStore(database: db, outboxSeal: .ephemeral())
            #expect(try await store.outboxMessage(id: old.id) == old)
            #expect(try await store.outboxMessage(id: noText.id) == noText)
            let now = Self.t0.addingTimeInterval(5)
            #expect(
                try await store.claimOutbox(worker: "w", now: now, leaseUntil: now.addingTimeInterval(60), limit: 5).map(\.html) == [old.html, noText.html])
        }
    }
}
