import Foundation
import Logging
import SQLKit
import Testing
import UsherCore
import UsherJSON
import UsherStorage
import UsherTesting

/// No live link at rest: what the stores keep of an email that carries a secret (a ticket in its link), on every store.
@Suite("Outbox sealing conformance")
struct OutboxSealConformanceTests {
    static let t0 = Date(timeIntervalSince1970: 1_750_000_000)
    static let ticket = "TICKET-0123456789abcdef0123456789abcdef"

    static func invitation(_ n: Int) -> OutboxMessage {
        .new(
            to: "invitee\(n)@example.com", subject: "You are invited",
            html: "<a href=\"https://id.example.com/reset?ticket=\(ticket)\">Accept</a>",
            text: "Accept: https://id.example.com/reset?ticket=\(ticket)", purpose: "invitation", secrets: [ticket],
            messageIDDomain: "id.example.com", now: t0)
    }

    /// Invitation emails 1…`count`, queued.
    static func enqueued(_ count: Int, in store: any UsherStore) async throws -> [OutboxMessage] {
        let messages = (1...count).map(invitation)
        try await store.enqueueOutbox(messages)
        return messages
    }

    @Test(arguments: StoreKind.available)
    func theCourierGetsTheLiveBodyAndTheAPIOnlyTheRedactedCopy(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let message = Self.invitation(1)
            try await store.enqueueOutbox(message)
            let claimed = try await store.claimOutbox(worker: "w", now: Self.t0, leaseUntil: Self.t0.addingTimeInterval(30), limit: 1)
            #expect(claimed.first?.html.contains(Self.ticket) == true)
            let shown = try #require(try await store.outboxMessage(id: message.id)).managementJSON(includeBodies: true)
            #expect(!"\(shown)".contains(Self.ticket))
            #expect("\(shown)".contains(OutboxMessage.redactionMark))
        }
    }

    @Test(arguments: StoreKind.available)
    func aFinalOutcomeLeavesOnlyTheRedactedCopyAndRetryingItIsRefused(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let messages = try await Self.enqueued(2, in: store)
            let (sent, abandoned) = (messages[0], messages[1])
            _ = try await store.claimOutbox(worker: "w", now: Self.t0, leaseUntil: Self.t0.addingTimeInterval(30), limit: 2)
            #expect(try await store.markOutboxSent(id: sent.id, worker: "w", at: Self.t0))
            #expect(try await store.markOutboxAbandoned(id: abandoned.id, worker: "w", error: "550 5.1.1 user unknown"))
            for id in [sent.id, abandoned.id] {
                let kept = try #require(try await store.outboxMessage(id: id))
                #expect(kept.bodyRedacted)
                #expect(!kept.html.contains(Self.ticket) && kept.text?.contains(Self.ticket) == false)
            }
            await #expect(throws: UsherError.outboxBodyRedacted) { _ = try await store.retryOutbox(id: abandoned.id, now: Self.t0) }
        }
    }

    /// A withdrawn message (its invitation was revoked) never goes out: only one no courier holds is withdrawn.
    @Test(arguments: StoreKind.available)
    func aWithdrawnMessageIsAbandonedRedactedAndNeverClaimed(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let messages = try await Self.enqueued(2, in: store)
            let (waiting, sending) = (messages[0], messages[1])
            #expect(try await store.withdrawOutbox(id: waiting.id, reason: "Not sent: the invitation was revoked."))
            let claimed = try await store.claimOutbox(worker: "w", now: Self.t0, leaseUntil: Self.t0.addingTimeInterval(30), limit: 2)
            #expect(claimed.map(\.id) == [sending.id])
            #expect(try await !store.withdrawOutbox(id: sending.id, reason: "too late"), "a courier holds it")
            #expect(try await !store.withdrawOutbox(id: waiting.id, reason: "again"))
            let withdrawn = try #require(try await store.outboxMessage(id: waiting.id))
            #expect(withdrawn.status == .abandoned && withdrawn.lastError == "Not sent: the invitation was revoked.")
            #expect(withdrawn.bodyRedacted && !withdrawn.html.contains(Self.ticket))
            #expect(try await store.outboxMessage(id: sending.id)?.status == .sending)
        }
    }

    @Test(arguments: StoreKind.available)
    func mailWithoutSecretsKeepsItsBodyAndCanBeRetried(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let plain = OutboxMessage.new(
                to: "a@example.com", subject: "Test", html: "<p>Test email</p>", purpose: "test_email", messageIDDomain: "id.example.com",
                now: Self.t0)
            try await store.enqueueOutbox(plain)
            _ = try await store.claimOutbox(worker: "w", now: Self.t0, leaseUntil: Self.t0.addingTimeInterval(30), limit: 1)
            #expect(try await store.markOutboxAbandoned(id: plain.id, worker: "w", error: "550"))
            let kept = try #require(try await store.outboxMessage(id: plain.id))
            #expect(kept.html == "<p>Test email</p>" && !kept.bodyRedacted)
            #expect(try await store.retryOutbox(id: plain.id, now: Self.t0)?.status == .queued)
        }
    }

    /// What a backup would hold: the raw rows never contain the ticket, before or after delivery.
    @Test(arguments: StoreKind.available.filter { $0 != .memory })
    func rawRowsHoldNoTicketBeforeOrAfterDelivery(_ kind: StoreKind) async throws {
        try await withUnmigratedDatabase(kind) { db in
            var logger = Logger(label: "outbox-seal-test")
            logger.logLevel = .warning
            try await Migrator.migrate(db, logger: logger)
            let seal = OutboxBodySeal.ephemeral()
            let store = SQLUsherStore(database: db, outboxSeal: seal)
            let message = Self.invitation(1)
            try await store.enqueueOutbox(message)
            try await #expect(Self.rawBodies(db).allSatisfy { !$0.contains(Self.ticket) })
            try await #expect(Self.rawBodies(db).contains { $0.hasPrefix("usher-sealed:v1:") })
            _ = try await store.claimOutbox(worker: "w", now: Self.t0, leaseUntil: Self.t0.addingTimeInterval(30), limit: 1)
            #expect(try await store.markOutboxSent(id: message.id, worker: "w", at: Self.t0))
            // Opened with the store's own key, what is left is the redacted copy: the link is gone, not only hidden.
            let kept = try await Self.rawBodies(db)
            #expect(kept.allSatisfy { !$0.contains(Self.ticket) })
            #expect(try kept.map { try seal.open($0) }.allSatisfy { !$0.contains(Self.ticket) && $0.contains(OutboxMessage.redactionMark) })
        }
    }

    /// A body sealed under a key this instance lacks is reported, not sent and not lost: adding the key back opens it.
    @Test(arguments: StoreKind.available.filter { $0 != .memory })
    func aMissingKeyMakesTheBodyUnreadableUntilTheKeyIsGiven(_ kind: StoreKind) async throws {
        try await withUnmigratedDatabase(kind) { db in
            var logger = Logger(label: "outbox-seal-test")
            logger.logLevel = .warning
            try await Migrator.migrate(db, logger: logger)
            let oldKey = Data(repeating: 7, count: 32)
            let newKey = Data(repeating: 9, count: 32)
            let message = Self.invitation(1)
            try await SQLUsherStore(database: db, outboxSeal: OutboxBodySeal(currentKey: oldKey)).enqueueOutbox(message)
            let lacking = SQLUsherStore(database: db, outboxSeal: try OutboxBodySeal(currentKey: newKey))
            let unreadable = try await lacking.claimOutbox(worker: "w", now: Self.t0, leaseUntil: Self.t0.addingTimeInterval(30), limit: 1)
            #expect(unreadable.first?.bodyUnreadable?.contains(OutboxBodySeal.keyID(oldKey)) == true)
            let rotated = SQLUsherStore(database: db, outboxSeal: try OutboxBodySeal(currentKey: newKey, previousKeys: [oldKey]))
            let later = Self.t0.addingTimeInterval(60)
            #expect(try await rotated.releaseExpiredOutboxLeases(now: later) == 1)
            let claimed = try await rotated.claimOutbox(worker: "w2", now: later, leaseUntil: later.addingTimeInterval(30), limit: 1)
            #expect(claimed.count == 1)
            #expect(claimed.first?.bodyUnreadable == nil && claimed.first?.html.contains(Self.ticket) == true)
        }
    }

    static func rawBodies(_ db: any SQLDatabase) async throws -> [String] {
        let rows = try await db.select().columns("html", "text_body").from("outbox_body").all()
        return try rows.flatMap { row in
            [try row.decode(column: "html", as: String.self), try row.decode(column: "text_body", as: String?.self)].compactMap { $0 }
        }
    }
}
