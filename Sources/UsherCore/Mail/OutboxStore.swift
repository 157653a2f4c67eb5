import Foundation

/// Persistence of the durable outbox.
///
/// The `mark…` calls take the claiming worker's id and only change a message that is still `sending` under that
/// worker's lease, so a worker whose lease expired (and whose message another worker re-claimed) cannot overwrite
/// the newer outcome. They return whether the row changed.
public protocol OutboxStore: Sendable {
    /// Writes a queued message; call it inside the transaction that makes the change the email is about.
    func enqueueOutbox(_ message: OutboxMessage) async throws
    /// Writes several queued messages, all or none (SQL stores: two multi-row inserts). A batch of password reset
    /// requests queues its emails this way.
    func enqueueOutbox(_ messages: [OutboxMessage]) async throws
    /// Atomically takes up to `limit` due messages (`queued`/`failed` with `next_attempt_at <= now`), oldest due first:
    /// each becomes `sending`, leased to `worker` until `leaseUntil`, with `attempts` incremented.
    /// Concurrent claimers (in this process or other instances on one PostgreSQL) never get the same message.
    func claimOutbox(worker: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [OutboxMessage]
    /// Marks sent and, in the same write, replaces bodies that hold a secret by their redacted copy (as
    /// `markOutboxAbandoned` does): a delivered link is not kept, even sealed.
    func markOutboxSent(id: String, worker: String, at: Date) async throws -> Bool
    /// `markOutboxSent` for several messages in one write (the courier records a batch of deliveries at once).
    /// Returns the ids that changed; the others were no longer `sending` under `worker`'s lease.
    func markOutboxSent(ids: [String], worker: String, at: Date) async throws -> Set<String>
    /// `markOutboxSent(ids:worker:at:)` with `sent`, then `claimOutbox` of up to `limit` messages (none when 0), in
    /// one write: one commit on SQLite, where each commit waits for the disk. The courier's write.
    func markOutboxSentAndClaim(sent: [String], sentAt: Date, worker: String, now: Date, leaseUntil: Date, limit: Int) async throws
        -> (sent: Set<String>, claimed: [OutboxMessage])
    /// Schedules another attempt. `countAttempt: false` gives back the attempt counted at claim time
    /// (the transport was unusable, the message was not at fault).
    func markOutboxFailed(id: String, worker: String, error: String, nextAttemptAt: Date, countAttempt: Bool) async throws -> Bool
    func markOutboxAbandoned(id: String, worker: String, error: String) async throws -> Bool
    /// A message no courier holds (`queued` or `failed`) is abandoned with `reason` and its bodies redacted: what
    /// it was about was undone (a revoked invitation), so it must not go out. Returns whether it was; one already
    /// `sending`, sent or abandoned is left as it is.
    func withdrawOutbox(id: String, reason: String) async throws -> Bool
    /// Extends to `until` the lease of every message `worker` holds (`sending` under its lease): a live worker's
    /// heartbeat, so leases can be short and a dead worker's messages wait only one lease. Returns how many.
    func renewOutboxLeases(worker: String, until: Date) async throws -> Int
    /// Messages whose lease ran out while `sending` (their worker died) become `queued` and due now. Returns how many.
    func releaseExpiredOutboxLeases(now: Date) async throws -> Int
    /// Newest first, the messages `filter` admits, and the total matching.
    func listOutbox(_ filter: OutboxFilter, offset: Int, limit: Int) async throws -> (messages: [OutboxMessage], total: Int)
    func outboxMessage(id: String) async throws -> OutboxMessage?
    /// A `failed` or `abandoned` message becomes `queued`, due `now`, with its attempt count reset.
    /// Returns the updated message; nil when there is no such message; throws `conflict` for any other status and
    /// `outboxBodyRedacted` when only the redacted copy is left.
    func retryOutbox(id: String, now: Date) async throws -> OutboxMessage?
}

/// Which outbox messages a listing shows; nil fields do not filter.
public struct OutboxFilter: Sendable, Equatable {
    public var status: OutboxStatus?
    /// Only mail about this user (`OutboxMessage.userID`).
    public var userID: String?

    public init(status: OutboxStatus? = nil, userID: String? = nil) {
        self.status = status
        self.userID = userID
    }
}

extension OutboxStore {
    /// Newest first, optionally of one status, and the total matching.
    public func listOutbox(status: OutboxStatus?, offset: Int, limit: Int) async throws -> (messages: [OutboxMessage], total: Int) {
        try await listOutbox(OutboxFilter(status: status), offset: offset, limit: limit)
    }

    /// One write per message; stores that can do better (SQL) override it.
    public func markOutboxSent(ids: [String], worker: String, at: Date) async throws -> Set<String> {
        var changed = Set<String>()
        for id in ids where try await markOutboxSent(id: id, worker: worker, at: at) { changed.insert(id) }
        return changed
    }

    /// Two writes; stores that can do better (SQL) override it.
    public func markOutboxSentAndClaim(sent: [String], sentAt: Date, worker: String, now: Date, leaseUntil: Date, limit: Int) async throws
        -> (sent: Set<String>, claimed: [OutboxMessage])
    {
        let marked = sent.isEmpty ? [] : try await markOutboxSent(ids: sent, worker: worker, at: sentAt)
        let claimed = limit > 0 ? try await claimOutbox(worker: worker, now: now, leaseUntil: leaseUntil, limit: limit) : []
        return (marked, claimed)
    }
}

/// The development mailbox: mail "sent" while no provider is configured.
public protocol DevMailboxStore: Sendable {
    func insertDevMail(_ message: DevMailboxMessage) async throws
    /// Newest first.
    func devMails(limit: Int) async throws -> [DevMailboxMessage]
    func devMail(id: String) async throws -> DevMailboxMessage?
}

/// The single email-provider row.
public protocol EmailProviderStore: Sendable {
    func emailProvider() async throws -> EmailProvider?
    /// Throws `UsherError.emailProviderExists` when one is already configured.
    func insertEmailProvider(_ provider: EmailProvider) async throws
    /// Throws `UsherError.emailProviderNotFound` when none is configured.
    func updateEmailProvider(_ provider: EmailProvider) async throws
    func deleteEmailProvider() async throws -> Bool
}

extension UsherError {
    public static let emailProviderExists = UsherError(.conflict, "Email provider is already configured.", errorCode: "email_provider_conflict")
    public static let emailProviderNotFound = UsherError(.notFound, "Email provider has not been configured.", errorCode: "inexistent_email_provider")
    /// A retry of a message whose link was removed after its final outcome.
    public static let outboxBodyRedacted = UsherError(
        .conflict, "This message held a single-use link and only its redacted copy is kept; send a new email (a new invitation or reset) instead.",
        errorCode: "outbox_body_redacted")
    public static let outboxMessageNotFound = UsherError(.notFound, "The outbox message does not exist.", errorCode: "inexistent_outbox_message")
}

extension OutboxStore {
    /// One message after another: the fallback for stores without a batch write (call it inside a transaction for
    /// all-or-none).
    public func enqueueOutbox(_ messages: [OutboxMessage]) async throws {
        for message in messages { try await enqueueOutbox(message) }
    }
}
