import Foundation
import Logging

/// How the courier paces itself. Defaults suit production; tests shorten them (see `USHER_MAIL_*`).
public struct CourierSettings: Sendable, Equatable {
    /// How long to sleep when nothing was due.
    public var pollInterval: Duration = .seconds(2)
    /// Messages claimed per round. Claimed messages beyond `concurrency` wait for a free slot, so the lease
    /// grows with the number of sequential sends per slot (see `leaseDuration`).
    public var batchSize = 4
    /// Deliveries in flight at once.
    public var concurrency = 4
    /// First retry delay; doubles per attempt up to `backoffMax`, with jitter.
    public var backoffBase: TimeInterval = 30
    public var backoffMax: TimeInterval = 3_600
    /// Attempts (counted at claim) after which a temporary failure abandons the message.
    public var maxAttempts = 8
    /// Age after which a temporary failure abandons the message, however few attempts it had.
    public var abandonAfter: TimeInterval = 3 * 24 * 3_600
    /// How long one send may take at worst; must exceed the SMTP client's summed timeouts (about 370 s with
    /// UsherMail's defaults) so a healthy worker never loses a message it is still sending. A claim lasts this
    /// long times the number of sends each slot makes in a round, ⌈batchSize / concurrency⌉; it is also how long
    /// a crashed worker's messages wait before another worker takes them.
    public var leaseDuration: TimeInterval = 600

    public init() {}
}

/// Delivers the outbox: claims due messages under a lease, sends them through the transport, records the outcome.
///
/// At-least-once: a message is marked sent only after the transport accepted it, so a crash between the two sends
/// it again later (with the same Message-ID). Two healthy workers never send one message twice, because claims
/// are atomic and a lease outlives any send.
public final class Courier: Sendable {
    public let workerID: String
    let store: any UsherStore
    let transport: any MailTransport
    let clock: any UsherClock
    let settings: CourierSettings
    let logger: Logger
    /// A number in 0...1; injected so tests get deterministic backoff.
    let jitter: @Sendable () -> Double

    public init(store: any UsherStore, transport: any MailTransport, clock: any UsherClock = SystemClock(), settings: CourierSettings = CourierSettings(),
                logger: Logger = Logger(label: "usher.courier"), workerID: String? = nil,
                jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }) {
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

    /// Polls until cancelled (graceful shutdown). A round in progress finishes first: its deliveries run in an
    /// unstructured task so cancellation does not cut an SMTP conversation in half.
    public func run() async {
        logger.info("Courier started", metadata: ["worker": "\(workerID)", "transport": "\(transport.name)"])
        while !Task.isCancelled {
            let processed = await Task { await self.runOnce() }.value
            if processed == 0 {
                do { try await Task.sleep(for: settings.pollInterval) } catch { break }
            }
        }
        logger.info("Courier stopped", metadata: ["worker": "\(workerID)"])
    }

    /// One round: free expired leases, claim a batch, deliver it. Returns how many messages were attempted.
    @discardableResult
    public func runOnce() async -> Int {
        let batch: [OutboxMessage]
        do {
            let now = clock.now
            let released = try await store.releaseExpiredOutboxLeases(now: now)
            if released > 0 { logger.warning("Re-queued outbox messages whose worker stopped mid-send", metadata: ["count": "\(released)"]) }
            let slots = max(1, settings.concurrency)
            let rounds = (max(1, settings.batchSize) + slots - 1) / slots
            batch = try await store.claimOutbox(worker: workerID, now: now, leaseUntil: now.addingTimeInterval(settings.leaseDuration * Double(rounds)),
                                                limit: max(1, settings.batchSize))
        } catch {
            logger.error("Courier cannot read the outbox", metadata: ["error": "\(error)"])
            return 0
        }
        if batch.isEmpty { return 0 }
        await withTaskGroup(of: Void.self) { group in
            var iterator = batch.makeIterator()
            for _ in 0..<max(1, settings.concurrency) {
                guard let message = iterator.next() else { break }
                group.addTask { await self.deliver(message) }
            }
            while await group.next() != nil {
                if let message = iterator.next() { group.addTask { await self.deliver(message) } }
            }
        }
        return batch.count
    }

    /// Sends one claimed message and records what happened.
    func deliver(_ message: OutboxMessage) async {
        let metadata: Logger.Metadata = ["outbox_id": "\(message.id)", "attempt": "\(message.attempts)", "purpose": "\(message.purpose)"]
        let failure: MailDeliveryError
        do {
            _ = try await transport.send(OutboundEmail(message))
            do {
                if try await !store.markOutboxSent(id: message.id, worker: workerID, at: clock.now) {
                    logger.warning("Outbox message was re-claimed before it was marked sent (lease too short?)", metadata: metadata)
                }
            } catch {
                // Sent but not recorded: it will be re-sent after the lease expires (at-least-once).
                logger.error("Cannot record a sent outbox message", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            }
            return
        } catch let error as MailDeliveryError {
            failure = error
        } catch {
            failure = MailDeliveryError(.temporary, "\(error)")
        }
        await record(failure, for: message, metadata: metadata)
    }

    func record(_ failure: MailDeliveryError, for message: OutboxMessage, metadata: Logger.Metadata) async {
        let now = clock.now
        let tooOld = now.timeIntervalSince(message.createdAt) >= settings.abandonAfter
        do {
            switch failure.classification {
            case .permanent:
                logger.warning("Outbox message abandoned: permanent failure", metadata: metadata.merging(["error": "\(failure.message)"]) { $1 })
                _ = try await store.markOutboxAbandoned(id: message.id, worker: workerID, error: failure.message)
            case .temporary where message.attempts >= settings.maxAttempts:
                let reason = "gave up after \(message.attempts) attempts; last: \(failure.message)"
                logger.warning("Outbox message abandoned: retry limit", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
                _ = try await store.markOutboxAbandoned(id: message.id, worker: workerID, error: reason)
            case .temporary, .transportUnavailable:
                if tooOld {
                    let reason = "gave up after \(Int(settings.abandonAfter / 3_600)) hours; last: \(failure.message)"
                    logger.warning("Outbox message abandoned: too old", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
                    _ = try await store.markOutboxAbandoned(id: message.id, worker: workerID, error: reason)
                    return
                }
                let counted = failure.classification == .temporary
                let delay = backoff(afterAttempts: counted ? message.attempts : max(1, message.attempts - 1))
                if counted {
                    logger.info("Outbox delivery failed; will retry", metadata: metadata.merging(["error": "\(failure.message)", "retry_in_s": "\(Int(delay))"]) { $1 })
                } else {
                    logger.error("Mail transport unusable; message kept for later", metadata: metadata.merging(["error": "\(failure.message)"]) { $1 })
                }
                _ = try await store.markOutboxFailed(id: message.id, worker: workerID, error: failure.message, nextAttemptAt: now.addingTimeInterval(delay), countAttempt: counted)
            }
        } catch {
            logger.error("Cannot record an outbox delivery failure", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }
}
