import Foundation
import Logging
import Synchronization
import Testing
import UsherCore
import UsherJSON
import UsherTesting

@Suite("Courier")
struct CourierTests {
    static func make(
        _ transport: RecordingMailTransport, clock: FakeClock, store: InMemoryUsherStore = InMemoryUsherStore(),
        configure: (inout CourierSettings) -> Void = { _ in }
    ) -> (Courier, InMemoryUsherStore, MailService) {
        var settings = CourierSettings()
        settings.backoffBase = 10
        settings.backoffMax = 1_000
        settings.maxAttempts = 4
        settings.abandonAfter = 3_600
        settings.leaseDuration = 60
        configure(&settings)
        var logger = Logger(label: "courier-test")
        logger.logLevel = .critical
        let courier = Courier(store: store, transport: transport, clock: clock, settings: settings, logger: logger, workerID: "w1", jitter: { 1 })
        return (courier, store, MailService(store: store, clock: clock, messageIDDomain: "id.example", usesDevelopmentMailbox: false))
    }

    @Test func deliversOnceAndKeepsTheMessageID() async throws {
        let clock = FakeClock()
        let transport = RecordingMailTransport()
        let (courier, store, mail) = Self.make(transport, clock: clock)
        let queued = try await mail.enqueue(to: "ada@example.com", subject: "Hi", html: "<p>Hi</p>", purpose: "test")
        #expect(queued.messageID.hasSuffix("@id.example>"))
        #expect(await courier.runOnce() == 1)
        #expect(await courier.runOnce() == 0)
        #expect(transport.sent.map(\.messageID) == [queued.messageID])
        let stored = try #require(try await store.outboxMessage(id: queued.id))
        #expect(stored.status == .sent && stored.attempts == 1 && stored.sentAt == clock.now)
    }

    @Test func backoffDoublesWithJitterAndCap() {
        let clock = FakeClock()
        let (full, _, _) = Self.make(RecordingMailTransport(), clock: clock)
        #expect(full.backoff(afterAttempts: 1) == 10)
        #expect(full.backoff(afterAttempts: 2) == 20)
        #expect(full.backoff(afterAttempts: 4) == 80)
        #expect(full.backoff(afterAttempts: 40) == 1_000)  // capped
        let value = 0.0
        let half = Courier(
            store: InMemoryUsherStore(), transport: RecordingMailTransport(), clock: clock,
            settings: {
                var s = CourierSettings()
                s.backoffBase = 10
                s.backoffMax = 1_000
                return s
            }(), jitter: { value })
        #expect(half.backoff(afterAttempts: 3) == 20)  // "equal jitter": never below half the full delay
    }

    @Test func temporaryFailuresRetryThenAbandonAtTheCap() async throws {
        let clock = FakeClock()
        let temporary = MailDeliveryError(.temporary, "451 4.3.0 try again")
        let transport = RecordingMailTransport([temporary, temporary, temporary, temporary])
        let (courier, store, mail) = Self.make(transport, clock: clock)
        let queued = try await mail.enqueue(to: "ada@example.com", subject: "Hi", html: "x", purpose: "test")
        #expect(await courier.runOnce() == 1)
        var stored = try #require(try await store.outboxMessage(id: queued.id))
        #expect(stored.status == .failed && stored.attempts == 1 && stored.nextAttemptAt == clock.now.addingTimeInterval(10))
        #expect(await courier.runOnce() == 0)  // not due yet
        for (attempt, delay) in [(2, 20.0), (3, 40.0)] {
            clock.advance(by: 1_000)
            #expect(await courier.runOnce() == 1)
            stored = try #require(try await store.outboxMessage(id: queued.id))
            #expect(stored.status == .failed && stored.attempts == attempt && stored.nextAttemptAt == clock.now.addingTimeInterval(delay))
        }
        clock.advance(by: 1_000)
        #expect(await courier.runOnce() == 1)
        stored = try #require(try await store.outboxMessage(id: queued.id))
        #expect(stored.status == .abandoned && stored.attempts == 4)
        #expect(stored.lastError?.contains("gave up after 4 attempts") == true && stored.lastError?.contains("451") == true)
        #expect(transport.sent.count == 4)
    }

    @Test func permanentFailureAbandonsAtOnce() async throws {
        let clock = FakeClock()
        let transport = RecordingMailTransport([MailDeliveryError(.permanent, "550 5.1.1 user unknown")])
        let (courier, store, mail) = Self.make(transport, clock: clock)
        let queued = try await mail.enqueue(to: "reject@example.com", subject: "Hi", html: "x", purpose: "test")
        await courier.runOnce()
        let stored = try #require(try await store.outboxMessage(id: queued.id))
        #expect(stored.status == .abandoned && stored.lastError == "550 5.1.1 user unknown")
        let retried = try await mail.retry(id: queued.id)
        #expect(retried.status == .queued)
        await courier.runOnce()
        #expect(try await store.outboxMessage(id: queued.id)?.status == .sent)
    }

    @Test func anAbandonedEmailIsAnFnEntryInTheTenantLogUnderItsUser() async throws {
        let clock = FakeClock()
        let transport = RecordingMailTransport([MailDeliveryError(.permanent, "550 5.1.1 user unknown")])
        // One delivery at a time, Ada's first (due first), so the scripted refusal is hers.
        let (courier, store, mail) = Self.make(transport, clock: clock) { $0.concurrency = 1 }
        let queued = try await mail.enqueue(to: "ada@example.com", subject: "Invitation", html: "x", purpose: "user_invitation", userID: "auth0|ada")
        clock.advance(by: 1)
        let delivered = try await mail.enqueue(to: "bob@example.com", subject: "Invitation", html: "x", purpose: "user_invitation", userID: "auth0|bob")
        await courier.runOnce()
        #expect(try await store.outboxMessage(id: delivered.id)?.status == .sent)
        let (entries, total) = try await store.logs(LogQuery(conditions: [("type", ["fn"])]))
        #expect(total == 1)
        let entry = try #require(entries.first)
        #expect(entry.userID == "auth0|ada" && entry.userName == "ada@example.com")
        #expect(entry.description == "Email not delivered: 550 5.1.1 user unknown")
        #expect(entry.details["outbox_id"] == .string(queued.id) && entry.details["purpose"] == .string("user_invitation"))
        // And the outbox shows the user's undelivered mail.
        let undelivered = try await mail.listOutbox(status: "abandoned", page: 0, perPage: 10, userID: "auth0|ada")
        #expect(undelivered.messages.map(\.id) == [queued.id])
    }

    @Test func oldMessagesAreAbandonedOnTheNextTemporaryFailure() async throws {
        let clock = FakeClock()
        let transport = RecordingMailTransport([MailDeliveryError(.temporary, "connection refused")])
        let (courier, store, mail) = Self.make(transport, clock: clock) { $0.maxAttempts = 100 }
        let queued = try await mail.enqueue(to: "ada@example.com", subject: "Hi", html: "x", purpose: "test")
        clock.advance(by: 3_600)
        await courier.runOnce()
        let stored = try #require(try await store.outboxMessage(id: queued.id))
        #expect(stored.status == .abandoned && stored.lastError?.contains("connection refused") == true)
    }

    @Test func unusableTransportDoesNotSpendAttempts() async throws {
        let clock = FakeClock()
        let down = MailDeliveryError(.transportUnavailable, "535 5.7.8 authentication failed")
        let transport = RecordingMailTransport(Array(repeating: down, count: 10))
        let (courier, store, mail) = Self.make(transport, clock: clock) { $0.abandonAfter = 1_000_000 }
        let queued = try await mail.enqueue(to: "ada@example.com", subject: "Hi", html: "x", purpose: "test")
        for _ in 0..<10 {
            await courier.runOnce()
            clock.advance(by: 1_000)
        }
        let stored = try #require(try await store.outboxMessage(id: queued.id))
        #expect(stored.status == .failed && stored.attempts == 0 && transport.sent.count == 10)
        await courier.runOnce()
        #expect(try await store.outboxMessage(id: queued.id)?.status == .sent)
    }

    @Test func crashedWorkersMessagesAreSentAfterTheLease() async throws {
        let clock = FakeClock()
        let store = InMemoryUsherStore()
        let transport = RecordingMailTransport()
        let (courier, _, mail) = Self.make(transport, clock: clock, store: store)
        let queued = try await mail.enqueue(to: "ada@example.com", subject: "Hi", html: "x", purpose: "test")
        // Another worker claimed it and died.
        _ = try await store.claimOutbox(worker: "dead", now: clock.now, leaseUntil: clock.now.addingTimeInterval(60), limit: 10)
        #expect(await courier.runOnce() == 0)
        clock.advance(by: 61)
        #expect(await courier.runOnce() == 1)
        let stored = try #require(try await store.outboxMessage(id: queued.id))
        #expect(stored.status == .sent && stored.attempts == 2 && transport.sent.count == 1)
    }

    @Test func concurrentCouriersSendEachMessageOnce() async throws {
        let clock = FakeClock()
        let store = InMemoryUsherStore()
        let transport = RecordingMailTransport()
        let mail = MailService(store: store, clock: clock, messageIDDomain: "x", usesDevelopmentMailbox: false)
        for n in 0..<50 { try await mail.enqueue(to: "u\(n)@example.com", subject: "S", html: "x", purpose: "test") }
        var settings = CourierSettings()
        settings.batchSize = 3
        let couriers = (0..<4).map { Courier(store: store, transport: transport, clock: clock, settings: settings, workerID: "w\($0)") }
        await withTaskGroup(of: Void.self) { group in
            for courier in couriers { group.addTask { while await courier.runOnce() > 0 {} } }
        }
        #expect(transport.sent.count == 50)
        #expect(Set(transport.sent.map(\.to)).count == 50)
    }

    @Test func developmentMailboxStoresTheMessage() async throws {
        let clock = FakeClock()
        let store = InMemoryUsherStore()
        let mailbox = DevelopmentMailbox(store: store, clock: clock, defaultFrom: "no-reply@id.example")
        let courier = Courier(store: store, transport: mailbox, clock: clock)
        let mail = MailService(store: store, clock: clock, messageIDDomain: "id.example", usesDevelopmentMailbox: true)
        let queued = try await mail.enqueue(to: "ada@example.com", subject: "Bonjour ✓", html: "<p>x</p>", text: "x", purpose: "test")
        await courier.runOnce()
        let stored = try #require(try await store.devMails(limit: 10).first)
        #expect(stored.outboxID == queued.id && stored.from == "no-reply@id.example" && stored.subject == "Bonjour ✓" && stored.messageID == queued.messageID)
    }

    @Test func enqueueRefusesAnInvalidAddress() async throws {
        let mail = MailService(store: InMemoryUsherStore(), clock: FakeClock(), messageIDDomain: "x", usesDevelopmentMailbox: true)
        for bad in ["", "no-at-sign", "a@b\r\nBcc: x@y", "a b@c.d", "@x.y", "x@"] {
            await #expect(throws: UsherError.self) { try await mail.enqueue(to: bad, subject: "S", html: "x", purpose: "t") }
        }
    }

    /// A transport that looks at the stored message while "sending" it.
    final class InspectingTransport: MailTransport {
        let store: InMemoryUsherStore
        let seen: Mutex<[OutboxMessage]> = Mutex([])
        init(store: InMemoryUsherStore) { self.store = store }
        var name: String { "inspecting" }
        func send(_ email: OutboundEmail) async throws -> MailDeliveryReceipt {
            if let id = email.outboxID, let stored = try await store.outboxMessage(id: id) { seen.withLock { $0.append(stored) } }
            return MailDeliveryReceipt(summary: "ok")
        }
    }

    @Test func aClaimLastsOneLeaseWhateverTheBatch() async throws {
        let clock = FakeClock()
        let store = InMemoryUsherStore()
        let transport = InspectingTransport(store: store)
        var settings = CourierSettings()
        settings.batchSize = 8
        settings.concurrency = 2
        settings.leaseDuration = 60
        let courier = Courier(store: store, transport: transport, clock: clock, settings: settings, workerID: "w")
        let mail = MailService(store: store, clock: clock, messageIDDomain: "x", usesDevelopmentMailbox: false)
        try await mail.enqueue(to: "a@example.com", subject: "S", html: "x", purpose: "t")
        await courier.runOnce()
        let seen = try #require(transport.seen.withLock { $0.first })
        #expect(seen.status == .sending && seen.leaseOwner == "w" && seen.leaseExpiresAt == clock.now.addingTimeInterval(60))
    }

    /// A transport that takes `seconds` of real time per send.
    final class SleepingTransport: MailTransport {
        let seconds: Double
        let sent = Mutex<[String]>([])
        init(seconds: Double) { self.seconds = seconds }
        var name: String { "sleeping" }
        func send(_ email: OutboundEmail) async throws -> MailDeliveryReceipt {
            try await Task.sleep(for: .seconds(seconds))
            sent.withLock { $0.append(email.to) }
            return MailDeliveryReceipt(summary: "ok")
        }
    }

    /// Settings for the lease tests (short leases and polls) and a quiet logger.
    static func leaseTest(lease: TimeInterval, poll: Duration) -> (CourierSettings, Logger) {
        var settings = CourierSettings()
        settings.leaseDuration = lease
        settings.pollInterval = poll
        var logger = Logger(label: "courier-test")
        logger.logLevel = .critical
        return (settings, logger)
    }

    /// Short leases must not cost a slow send its message: the running courier renews what it holds, so a second
    /// courier polling throughout never takes the message, which is sent once. The send lasts two leases of a fake
    /// clock that moves only after each renewal is seen, so a loaded machine's scheduling cannot decide the outcome.
    @Test func aRunningCourierRenewsItsLeasesThroughASlowSend() async throws {
        let store = InMemoryUsherStore()
        let clock = FakeClock()
        let (settings, logger) = Self.leaseTest(lease: 0.3, poll: .milliseconds(20))
        let slow = RenewalPacedTransport(clock: clock, store: store, lease: settings.leaseDuration)
        let other = SleepingTransport(seconds: 0)
        let first = Courier(store: store, transport: slow, clock: clock, settings: settings, logger: logger, workerID: "first")
        let second = Courier(store: store, transport: other, clock: clock, settings: settings, logger: logger, workerID: "second")
        let mail = MailService(store: store, clock: clock, messageIDDomain: "x", usesDevelopmentMailbox: false)
        let message = try await mail.enqueue(to: "slow@example.com", subject: "S", html: "x", purpose: "t")
        slow.messageID.withLock { $0 = message.id }
        let running = Task { await first.run() }
        // Let the first courier claim it before the second starts polling.
        while try await store.outboxMessage(id: message.id)?.status != .sending { try await Task.sleep(for: .milliseconds(10)) }
        let polling = Task { await second.run() }
        while try await store.outboxMessage(id: message.id)?.status != .sent { try await Task.sleep(for: .milliseconds(20)) }
        running.cancel()
        polling.cancel()
        _ = await (running.value, polling.value)
        #expect(slow.sent.withLock { $0 } == ["slow@example.com"])
        #expect(other.sent.withLock { $0 }.isEmpty)
        #expect(try await store.outboxMessage(id: message.id)?.attempts == 1)
    }

    /// A send that lasts two leases of `clock`: it moves the clock a sixth of a lease at a time, each step only
    /// once the message's lease has been renewed past half a lease ahead of the clock.
    final class RenewalPacedTransport: MailTransport {
        let clock: FakeClock
        let store: InMemoryUsherStore
        let lease: TimeInterval
        let messageID = Mutex("")
        let sent = Mutex<[String]>([])
        init(clock: FakeClock, store: InMemoryUsherStore, lease: TimeInterval) {
            (self.clock, self.store, self.lease) = (clock, store, lease)
        }
        var name: String { "renewal-paced" }
        func send(_ email: OutboundEmail) async throws -> MailDeliveryReceipt {
            let id = messageID.withLock { $0 }
            for _ in 0..<12 {
                clock.advance(by: lease / 6)
                let needed = clock.now.addingTimeInterval(lease / 2)
                let giveUp = ContinuousClock.now + .seconds(30)
                while try await store.outboxMessage(id: id)?.leaseExpiresAt ?? .distantPast < needed {
                    guard ContinuousClock.now < giveUp else { throw CancellationError() }  // no renewal: the test fails
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            sent.withLock { $0.append(email.to) }
            return MailDeliveryReceipt(summary: "ok")
        }
    }

    /// The other side of short leases: a worker that stops renewing (killed) loses its messages once its one lease
    /// has run out, not after the longest send. The lease is judged on the store's clock (a fake one here), so the
    /// test does not depend on how fast a loaded machine schedules it.
    @Test func aKilledCouriersMessagesAreTakenAfterOneLease() async throws {
        let store = InMemoryUsherStore()
        let clock = FakeClock()
        let transport = SleepingTransport(seconds: 0)
        let (settings, logger) = Self.leaseTest(lease: 5, poll: .milliseconds(20))
        let mail = MailService(store: store, clock: clock, messageIDDomain: "x", usesDevelopmentMailbox: false)
        let message = try await mail.enqueue(to: "ada@example.com", subject: "S", html: "x", purpose: "t")
        // Claimed by a worker that then died: nobody renews its lease.
        _ = try await store.claimOutbox(worker: "killed", now: clock.now, leaseUntil: clock.now.addingTimeInterval(settings.leaseDuration), limit: 1)
        let courier = Courier(store: store, transport: transport, clock: clock, settings: settings, logger: logger, workerID: "survivor")
        let running = Task { await courier.run() }
        // Many polls within the lease: the message stays the killed worker's.
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await store.outboxMessage(id: message.id)?.status == .sending)
        #expect(transport.sent.withLock { $0 }.isEmpty)
        clock.advance(by: settings.leaseDuration + 0.1)
        while try await store.outboxMessage(id: message.id)?.status != .sent { try await Task.sleep(for: .milliseconds(20)) }
        running.cancel()
        await running.value
        #expect(transport.sent.withLock { $0 } == ["ada@example.com"])
        #expect(try await store.outboxMessage(id: message.id)?.attempts == 2)
    }

    /// A transport whose every send takes `duration` of the fake clock.
    final class SlowTransport: MailTransport {
        let clock: FakeClock
        let duration: TimeInterval
        let sent = Mutex<[String]>([])
        init(clock: FakeClock, duration: TimeInterval) {
            self.clock = clock
            self.duration = duration
        }
        var name: String { "slow" }
        func send(_ email: OutboundEmail) async throws -> MailDeliveryReceipt {
            sent.withLock { $0.append(email.to) }
            clock.advance(by: duration)
            return MailDeliveryReceipt(summary: "ok")
        }
    }

    @Test func messagesWhoseLeaseCannotCoverASendAreHandedBackUnsent() async throws {
        let clock = FakeClock()
        let store = InMemoryUsherStore()
        let transport = SlowTransport(clock: clock, duration: 61)
        var settings = CourierSettings()
        settings.batchSize = 3
        settings.concurrency = 1
        settings.leaseDuration = 60
        let courier = Courier(store: store, transport: transport, clock: clock, settings: settings, workerID: "w")
        let mail = MailService(store: store, clock: clock, messageIDDomain: "x", usesDevelopmentMailbox: false)
        var ids: [String] = []
        for n in 0..<3 { ids.append(try await mail.enqueue(to: "u\(n)@example.com", subject: "S", html: "x", purpose: "t").id) }
        let start = clock.now
        #expect(await courier.runOnce() == 3)
        // The first send ends at +61 s, past the others' lease (claimed at +0 for 60 s, never renewed on the fake clock).
        let sent = transport.sent.withLock { $0 }
        #expect(sent.count == 1)
        var handedBack: [String] = []
        for id in ids {
            let message = try #require(try await store.outboxMessage(id: id))
            if message.to == sent.first {
                #expect(message.status == .sent)
            } else {
                #expect(message.status == .failed && message.attempts == 0 && message.leaseOwner == nil)
                #expect(message.nextAttemptAt == start.addingTimeInterval(61) && message.lastError?.contains("not attempted") == true)
                handedBack.append(id)
            }
        }
        #expect(handedBack.count == 2)
        // Due at once, and sent by the next round (one of them; the other is handed back again).
        await courier.runOnce()
        #expect(transport.sent.withLock { $0 }.count == 2)
    }

    @Test func runningCourierDrainsABacklogAndStopsCleanly() async throws {
        let store = InMemoryUsherStore()
        let transport = RecordingMailTransport()
        let clock = FakeClock()
        var settings = CourierSettings()
        settings.pollInterval = .milliseconds(10)
        settings.batchSize = 16
        settings.concurrency = 3
        let courier = Courier(store: store, transport: transport, clock: clock, settings: settings, workerID: "w")
        let mail = MailService(store: store, clock: clock, messageIDDomain: "x", usesDevelopmentMailbox: false)
        for n in 0..<200 { try await mail.enqueue(to: "u\(n)@example.com", subject: "S", html: "x", purpose: "t") }
        let running = Task { await courier.run() }
        for _ in 0..<500 {
            if try await store.listOutbox(status: .sent, offset: 0, limit: 0).total == 200 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        running.cancel()
        await running.value
        #expect(try await store.listOutbox(status: .sent, offset: 0, limit: 0).total == 200)
        #expect(transport.sent.count == 200 && Set(transport.sent.map(\.to)).count == 200)
    }
}
