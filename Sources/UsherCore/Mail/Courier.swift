import Foundation
import Logging
import Synchronization
import UsherJSON

/// How the courier paces itself. Defaults suit production; tests shorten them (see `USHER_MAIL_*`).
public struct CourierSettings: Sendable, Equatable {
    /// How long to sleep when nothing was due.
    public var pollInterval: Duration = .seconds(2)
    /// Most messages claimed in one write. `runOnce` claims this many; the running courier starts with
    /// `concurrency` per claim and doubles up to this while claims come back full (a backlog), so a backlog costs
    /// one write per `batchSize` messages. The lease does not grow with it (see `leaseDuration`).
    public var batchSize = 128
    /// Deliveries in flight at once (`usher serve` matches it to the SMTP client's connection pool).
    public var concurrency = 4
    /// First retry delay; doubles per attempt up to `backoffMax`, with jitter.
    public var backoffBase: TimeInterval = 30
    public var backoffMax: TimeInterval = 3_600
    /// Attempts (counted at claim) after which a temporary failure abandons the message.
    public var maxAttempts = 8
    /// Age after which a temporary failure abandons the message, however few attempts it had.
    public var abandonAfter: TimeInterval = 3 * 24 * 3_600
    /// How long a claim holds its messages: what a crashed worker's messages wait before another worker takes
    /// them. A live worker renews the leases of everything it holds every third of this, so a send may take far
    /// longer (the SMTP client's summed timeouts are about 370 s) without another worker taking its message; a
    /// slot starts a message only while a sixth of a lease remains (renewals are failing otherwise) and hands it
    /// back unsent instead.
    public var leaseDuration: TimeInterval = 30
    /// Longest an accepted message waits to be marked sent. Zero, the default, writes each mark as soon as the
    /// writer is free, with every other acceptance since its last write (group commit): the window in which a
    /// crash re-sends a delivered message is one write long. The marks are written before, and apart from, the
    /// next claim.
    public var recordDelay: Duration = .zero
    /// Most messages accepted by the transport and not yet marked sent in the database, at any moment: what a
    /// crash (`kill -9`, power loss) can make the courier send twice. Slots wait for the writer's marks rather than
    /// go past it; at least `concurrency`.
    public var unrecordedLimit = 16

    public init() {}
}

/// Delivers the outbox: claims due messages under a lease, sends them through the transport, records the outcome.
///
/// At-least-once: a message is marked sent only after the transport accepted it, so a crash between the two sends
/// it again later (with the same Message-ID). Two healthy workers never send one message twice, because claims
/// are atomic and a send starts only while its lease outlasts any send.
///
/// The courier is a pipeline: `concurrency` delivery slots take claimed messages from a local line, and one
/// writer records outcomes and claims more. It claims the next batch while half of the current one still waits,
/// so the slots keep sending during its writes. Deliveries are marked sent as soon as the writer is free, before
/// the next claim and in their own commit, so a crash re-sends only what was accepted during one short write.
/// Failures are recorded by the slots, one by one (they are rare and each has its own retry time).
public final class Courier: Sendable {
    public let workerID: String
    /// What the service reads and writes: the outbox it claims from and records into, and the tenant log that an
    /// abandoned email is reported to in the same transaction.
    public typealias Store = any OutboxStore & LogStore & TransactionalStore

    let store: Store
    let transport: any MailTransport
    let clock: any UsherClock
    let settings: CourierSettings
    let logger: Logger
    /// A number in 0...1; injected so tests get deterministic backoff.
    let jitter: @Sendable () -> Double

    public init(
        store: Store, transport: any MailTransport, clock: any UsherClock = SystemClock(), settings: CourierSettings = CourierSettings(),
        logger: Logger = Logger(label: "usher.courier"), workerID: String? = nil,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.store = store
        self.transport = transport
        self.clock = clock
        self.settings = settings
        self.logger = logger
        self.workerID = workerID ?? "courier-" + SecureRandom.hex(byteCount: 6)
        self.jitter = jitter
    }

    /// The delay before the attempt after `attempts` failed ones: base·2^(attempts-1), capped, then "equal jitter"
    /// (half fixed, half random) so many messages failing together do not retry in lockstep.
    public func backoff(afterAttempts attempts: Int) -> TimeInterval {
        let exponent = Double(max(0, min(attempts - 1, 30)))
        let full = min(settings.backoffMax, settings.backoffBase * pow(2, exponent))
        return full / 2 + full / 2 * min(1, max(0, jitter()))
    }

    /// Delivers until cancelled (graceful shutdown). Cancellation stops the claiming only: the pipeline runs in an
    /// unstructured task, so no SMTP conversation is cut in half, and the messages already claimed are delivered
    /// and recorded before this returns.
    public func run() async {
        logger.info("Courier started", metadata: ["worker": "\(workerID)", "transport": "\(transport.name)"])
        let pipeline = makePipeline()
        await withTaskCancellationHandler {
            _ = await Task { await self.pump(pipeline, continuous: true) }.value
        } onCancel: {
            pipeline.stop()
        }
        logger.info("Courier stopped", metadata: ["worker": "\(workerID)"])
    }

    /// One round: free expired leases, claim up to `batchSize` messages, deliver them, record the outcomes.
    /// Returns how many messages were attempted.
    @discardableResult
    public func runOnce() async -> Int {
        await pump(makePipeline(), continuous: false)
    }

    private func makePipeline() -> Pipeline {
        let slots = max(1, settings.concurrency)
        return Pipeline(slots: slots, unrecordedLimit: max(slots, settings.unrecordedLimit))
    }

    /// The lease a claim or a renewal made at `now` gets.
    func leaseEnd(claimedAt now: Date) -> Date { now.addingTimeInterval(settings.leaseDuration) }

    /// Runs the slots and the writer until the pipeline is stopped and drained (after one claim when not
    /// `continuous`). Returns how many messages were claimed.
    private func pump(_ pipeline: Pipeline, continuous: Bool) async -> Int {
        async let claimed = write(pipeline, continuous: continuous)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<pipeline.slots {
                group.addTask {
                    while let message = await pipeline.next() {
                        pipeline.delivered(await self.deliver(message, in: pipeline) ? message.id : nil)
                    }
                }
            }
        }
        return await claimed
    }

    /// The writer: claims when the line runs low, writing the sent marks first in their own commit; writes the
    /// marks alone when no claim is coming (nothing due, shutting down) or they have waited `recordDelay`. Ends once
    /// the pipeline is stopped, drained and recorded.
    private func write(_ pipeline: Pipeline, continuous: Bool) async -> Int {
        let most = max(1, settings.batchSize)
        var limit = continuous ? min(pipeline.slots, most) : most
        var claimed = 0
        var claimsPausedUntil: ContinuousClock.Instant?
        var leasesChecked: ContinuousClock.Instant?
        // When the leases of everything held were last written (by the claim that started holding, then by
        // renewals); nil while nothing is held.
        var leasesWritten: ContinuousClock.Instant?
        let renewEvery = Duration.seconds(settings.leaseDuration / 3)
        while true {
            // Claim the next batch while less than a batch waits: the write overlaps with the sends.
            let lowWater = max(pipeline.slots, limit)
            let load = pipeline.load(lowWater: lowWater)
            let instant = ContinuousClock.now
            let paused = claimsPausedUntil.map { instant < $0 } ?? false
            let claiming = !load.stopping && !paused && load.waiting < lowWater
            let marksDue = load.sentSince.map { load.stopping || paused || instant - $0 >= settings.recordDelay } ?? false
            let holding = load.waiting > 0 || load.sending > 0 || load.sentSince != nil
            if !holding { leasesWritten = nil }
            if holding, let written = leasesWritten, instant - written >= renewEvery {
                leasesWritten = await renewLeases(pipeline) ? instant : written + .seconds(1)
                continue
            }
            if !claiming && !marksDue {
                if load.stopping && load.waiting == 0 && load.sending == 0 && load.sentSince == nil { break }
                let deadlines = [claimsPausedUntil, load.sentSince.map { $0 + settings.recordDelay }, leasesWritten.map { $0 + renewEvery }]
                    .compactMap { $0 }
                await pipeline.waitForSignal(timeout: deadlines.min().map { $0 - instant })
                continue
            }
            var ids = pipeline.takeSent()
            let now = clock.now
            if claiming, !ids.isEmpty {
                // Deliveries are recorded on their own, as soon as the writer is free: riding along with the claim
                // would add the claim's write (the courier's longest) to the window in which a crash re-sends them.
                do {
                    let (marked, _) = try await store.markOutboxSentAndClaim(
                        sent: ids, sentAt: now, worker: workerID, now: now, leaseUntil: leaseEnd(claimedAt: now), limit: 0)
                    warnUnmarked(ids, marked: marked)
                    pipeline.recorded(ids.count)
                    ids = []
                } catch {
                    // Left for the combined write below, which reports a database that keeps failing.
                }
            }
            do {
                if claiming, leasesChecked.map({ instant - $0 >= settings.pollInterval }) ?? true {
                    // Cheap (an indexed read), but once per poll interval is plenty while a backlog is being claimed.
                    leasesChecked = instant
                    let released = try await store.releaseExpiredOutboxLeases(now: now)
                    if released > 0 { logger.warning("Re-queued outbox messages whose worker stopped mid-send", metadata: ["count": "\(released)"]) }
                }
                let (marked, batch) = try await store.markOutboxSentAndClaim(
                    sent: ids, sentAt: now, worker: workerID, now: now, leaseUntil: leaseEnd(claimedAt: now), limit: claiming ? limit : 0)
                warnUnmarked(ids, marked: marked)
                pipeline.recorded(ids.count)
                if claiming {
                    claimed += batch.count
                    if !batch.isEmpty && leasesWritten == nil { leasesWritten = instant }
                    pipeline.push(batch)
                    if continuous {
                        limit = batch.count == limit ? min(most, limit * 2) : min(pipeline.slots, most)
                        claimsPausedUntil = batch.isEmpty ? ContinuousClock.now + settings.pollInterval : nil
                    } else {
                        pipeline.stop()
                    }
                }
            } catch {
                logger.error("Courier cannot update the outbox", metadata: ["error": "\(error)"])
                if claiming && !continuous { pipeline.stop() }
                if load.stopping || !continuous {
                    // Shutting down: do not wait for the database. Sent but not recorded: they will be re-sent
                    // after the lease expires (at-least-once).
                    if !ids.isEmpty {
                        logger.error("Sent outbox messages left unrecorded", metadata: ["count": "\(ids.count)", "first_outbox_id": "\(ids[0])"])
                    }
                    pipeline.recorded(ids.count)
                } else {
                    pipeline.returnSent(ids)
                    claimsPausedUntil = ContinuousClock.now + settings.pollInterval
                    try? await Task.sleep(for: min(settings.pollInterval, .seconds(1)))
                }
            }
        }
        return claimed
    }

    /// A sent message this worker could not mark was claimed by another meanwhile: it may be sent twice.
    private func warnUnmarked(_ ids: [String], marked: some Collection<String>) {
        guard marked.count < ids.count else { return }
        let recorded = Set(marked)
        for id in ids where !recorded.contains(id) {
            logger.warning("Outbox message was re-claimed before it was marked sent (lease too short?)", metadata: ["outbox_id": "\(id)"])
        }
    }

    /// Extends the lease of every message this worker holds; false when the write failed (retried a second later).
    private func renewLeases(_ pipeline: Pipeline) async -> Bool {
        let until = leaseEnd(claimedAt: clock.now)
        do {
            _ = try await store.renewOutboxLeases(worker: workerID, until: until)
            pipeline.leasesRenewed(until: until)
            return true
        } catch {
            logger.error("Courier cannot renew its outbox leases", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Sends one claimed message. Returns true when the transport accepted it (the writer marks it sent); a
    /// failure is recorded here.
    private func deliver(_ message: OutboxMessage, in pipeline: Pipeline) async -> Bool {
        let leaseEnd = max(message.leaseExpiresAt ?? .distantPast, pipeline.renewedUntil ?? .distantPast)
        if leaseEnd.timeIntervalSince(clock.now) < settings.leaseDuration / 6 {
            // The lease is about to run out (renewals are failing, or the writer fell behind): another worker
            // could take the message mid-send and send it too. Hand it back, due now, without counting the attempt.
            logger.warning("Outbox message handed back unsent: its lease is running out", metadata: ["outbox_id": "\(message.id)"])
            do {
                _ = try await store.markOutboxFailed(
                    id: message.id, worker: workerID, error: "not attempted: the worker's earlier sends were too slow",
                    nextAttemptAt: clock.now, countAttempt: false)
            } catch {
                logger.error(
                    "Cannot hand back an outbox message; it is re-queued when its lease expires", metadata: ["outbox_id": "\(message.id)", "error": "\(error)"])
            }
            return false
        }
        let failure: MailDeliveryError
        do {
            // A body sealed with a key this instance lacks: retried (another instance, or this one after a
            // configuration fix, may open it), and abandoned with the reason if it never can be.
            if let problem = message.bodyUnreadable { throw MailDeliveryError(.temporary, problem) }
            _ = try await transport.send(OutboundEmail(message))
            return true
        } catch let error as MailDeliveryError {
            failure = error
        } catch {
            failure = MailDeliveryError(.temporary, "\(error)")
        }
        let metadata: Logger.Metadata = ["outbox_id": "\(message.id)", "attempt": "\(message.attempts)", "purpose": "\(message.purpose)"]
        await record(failure, for: message, metadata: metadata)
        return false
    }

    /// Gives up on `message` and, in the same transaction, writes Auth0's `fn` entry ("failed sending notification")
    /// to the tenant log, with the reason and the outbox id, under the user the email was about: an email that will
    /// never arrive is something the administrator must see, not only the server's own log. Nothing is logged when
    /// the mark did not apply (another worker holds the message now).
    func abandon(_ message: OutboxMessage, reason: String, at now: Date) async throws {
        let worker = workerID
        let entry = LogEvent(
            date: now, type: .failedNotification, description: "Email not delivered: \(reason)", userID: message.userID, userName: message.to,
            details: [
                "outbox_id": .string(message.id), "message_id": .string(message.messageID), "purpose": .string(message.purpose),
                "attempts": .int(Int64(message.attempts)),
            ])
        try await store.transaction { tx in
            if try await tx.markOutboxAbandoned(id: message.id, worker: worker, error: reason) { try await tx.insertLogs([entry]) }
        }
    }

    func record(_ failure: MailDeliveryError, for message: OutboxMessage, metadata: Logger.Metadata) async {
        let now = clock.now
        let tooOld = now.timeIntervalSince(message.createdAt) >= settings.abandonAfter
        do {
            switch failure.classification {
            case .permanent:
                logger.warning("Outbox message abandoned: permanent failure", metadata: metadata.merging(["error": "\(failure.message)"]) { $1 })
                try await abandon(message, reason: failure.message, at: now)
            case .temporary where message.attempts >= settings.maxAttempts:
                let reason = "gave up after \(message.attempts) attempts; last: \(failure.message)"
                logger.warning("Outbox message abandoned: retry limit", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
                try await abandon(message, reason: reason, at: now)
            case .temporary, .transportUnavailable:
                if tooOld {
                    let reason = "gave up after \(Int(settings.abandonAfter / 3_600)) hours; last: \(failure.message)"
                    logger.warning("Outbox message abandoned: too old", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
                    try await abandon(message, reason: reason, at: now)
                    return
                }
                let counted = failure.classification == .temporary
                let delay = backoff(afterAttempts: counted ? message.attempts : max(1, message.attempts - 1))
                if counted {
                    logger.info(
                        "Outbox delivery failed; will retry", metadata: metadata.merging(["error": "\(failure.message)", "retry_in_s": "\(Int(delay))"]) { $1 })
                } else {
                    logger.error("Mail transport unusable; message kept for later", metadata: metadata.merging(["error": "\(failure.message)"]) { $1 })
                }
                _ = try await store.markOutboxFailed(
                    id: message.id, worker: workerID, error: failure.message, nextAttemptAt: now.addingTimeInterval(delay), countAttempt: counted)
            }
        } catch {
            logger.error("Cannot record an outbox delivery failure", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }
}

/// The courier's shared state: claimed messages waiting for a slot, messages accepted but not yet recorded, and
/// the signal that wakes the writer. Slots wait in `next()` while nothing waits or while `unrecordedLimit`
/// messages are being sent or wait to be recorded; after `stop()` they finish what is left and then get nil.
final class Pipeline: Sendable {
    let slots: Int

    private struct State {
        var waiting: [OutboxMessage] = []
        var sending = 0
        var sent: [String] = []
        /// Accepted ids the writer took and has not yet written (or given back).
        var recording = 0
        var unrecordedLimit = 1
        /// When the oldest unrecorded accepted message was accepted.
        var sentSince: ContinuousClock.Instant?
        var stopping = false
        /// The writer wants to hear when fewer than this many messages wait.
        var lowWater = 0
        /// Slots waiting for a message, or for room under `unrecordedLimit`.
        var parked: [CheckedContinuation<OutboxMessage?, Never>] = []
        var writer: CheckedContinuation<Void, Never>?
        var signalled = false
        /// Until when the last renewal extended the lease of every message held.
        var renewedUntil: Date?

        /// Hands waiting messages to parked slots while fewer than `unrecordedLimit` are in flight or unrecorded;
        /// once stopping with nothing waiting, releases the parked slots (nil). Resume the pairs outside the lock.
        mutating func dispatch() -> [(CheckedContinuation<OutboxMessage?, Never>, OutboxMessage?)] {
            var handed: [(CheckedContinuation<OutboxMessage?, Never>, OutboxMessage?)] = []
            while !parked.isEmpty, !waiting.isEmpty, sending + sent.count + recording < unrecordedLimit {
                sending += 1
                handed.append((parked.removeFirst(), waiting.removeFirst()))
            }
            if stopping && waiting.isEmpty {
                handed += parked.map { ($0, nil) }
                parked = []
            }
            return handed
        }

        /// Marks the writer signalled; returns its continuation if it is waiting (resume it outside the lock).
        mutating func signal() -> CheckedContinuation<Void, Never>? {
            if let writer {
                self.writer = nil
                return writer
            }
            signalled = true
            return nil
        }
    }

    private let state = Mutex(State())

    init(slots: Int, unrecordedLimit: Int) {
        self.slots = slots
        state.withLock { $0.unrecordedLimit = max(1, unrecordedLimit) }
    }

    private static func resume(_ handed: [(CheckedContinuation<OutboxMessage?, Never>, OutboxMessage?)]) {
        for (slot, message) in handed { slot.resume(returning: message) }
    }

    /// A snapshot for the writer, which asks to be signalled when fewer than `lowWater` messages wait.
    func load(lowWater: Int) -> (waiting: Int, sending: Int, sentSince: ContinuousClock.Instant?, stopping: Bool) {
        state.withLock { s in
            s.lowWater = lowWater
            return (s.waiting.count, s.sending, s.sentSince, s.stopping)
        }
    }

    func push(_ batch: [OutboxMessage]) {
        if batch.isEmpty { return }
        Self.resume(
            state.withLock { s in
                s.waiting += batch
                return s.dispatch()
            })
    }

    /// The next message for a slot, waiting for one; nil once stopped and empty. Pair each with `delivered(_:)`.
    func next() async -> OutboxMessage? {
        await withCheckedContinuation { (continuation: CheckedContinuation<OutboxMessage?, Never>) in
            let (handed, writer) = state.withLock { s -> ([(CheckedContinuation<OutboxMessage?, Never>, OutboxMessage?)], CheckedContinuation<Void, Never>?) in
                let waitingBefore = s.waiting.count
                s.parked.append(continuation)
                let handed = s.dispatch()
                // The writer hears when the line crosses its low-water mark (it claims more) and when a slot is left
                // waiting (for messages, or for the marks that make room).
                let crossed = waitingBefore >= s.lowWater && s.waiting.count < s.lowWater
                return (handed, crossed || !s.parked.isEmpty ? s.signal() : nil)
            }
            writer?.resume()
            Self.resume(handed)
        }
    }

    /// A slot is done with a message; `sentID` when the transport accepted it.
    func delivered(_ sentID: String?) {
        var handed: [(CheckedContinuation<OutboxMessage?, Never>, OutboxMessage?)] = []
        let writer = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.sending -= 1
            guard let sentID else {
                handed = s.dispatch()
                return s.stopping ? s.signal() : nil
            }
            s.sent.append(sentID)
            // The first unrecorded one starts the writer's `recordDelay` clock; when stopping, it records at once.
            if s.sentSince == nil {
                s.sentSince = .now
                return s.signal()
            }
            return s.stopping ? s.signal() : nil
        }
        writer?.resume()
        Self.resume(handed)
    }

    /// Every accepted id not yet taken. They still count against `unrecordedLimit` until `recorded(_:)` or
    /// `returnSent(_:)` says what became of them.
    func takeSent() -> [String] {
        state.withLock { s in
            defer {
                s.recording += s.sent.count
                s.sent = []
                s.sentSince = nil
            }
            return s.sent
        }
    }

    /// `count` taken ids are written (or, shutting down, given up on): room for as many sends.
    func recorded(_ count: Int) {
        if count == 0 { return }
        Self.resume(
            state.withLock { s in
                s.recording -= count
                return s.dispatch()
            })
    }

    /// Gives ids back after a failed write, to be recorded by the next one.
    func returnSent(_ ids: [String]) {
        if ids.isEmpty { return }
        state.withLock { s in
            s.recording -= ids.count
            s.sent.insert(contentsOf: ids, at: 0)
            if s.sentSince == nil { s.sentSince = .now }
        }
    }

    /// Until when the writer's last renewal holds every message (nil before the first renewal).
    var renewedUntil: Date? { state.withLock { $0.renewedUntil } }

    func leasesRenewed(until: Date) { state.withLock { $0.renewedUntil = until } }

    /// No more claims: slots finish the waiting messages, then stop; the writer records and ends.
    func stop() {
        let (handed, writer) = state.withLock { s in
            s.stopping = true
            return (s.dispatch(), s.signal())
        }
        Self.resume(handed)
        writer?.resume()
    }

    /// Waits until signalled (something to record, room in the line, stopping) or `timeout` passes; returns at
    /// once if signalled since the last wait.
    func waitForSignal(timeout: Duration?) async {
        let timer = timeout.map { timeout in
            Task {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                state.withLock { $0.signal() }?.resume()
            }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.signalled {
                    s.signalled = false
                    return true
                }
                s.writer = continuation
                return false
            }
            if now { continuation.resume() }
        }
        timer?.cancel()
    }
}
