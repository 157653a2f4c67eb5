import Foundation

/// An email ready for a transport: the outbox message with its sender resolved.
public struct OutboundEmail: Sendable, Equatable {
    public var outboxID: String?
    public var to: String
    /// nil: the transport's default sender.
    public var from: String?
    public var replyTo: String?
    public var subject: String
    public var html: String
    public var text: String?
    public var messageID: String

    public init(outboxID: String?, to: String, from: String?, replyTo: String?, subject: String, html: String, text: String?, messageID: String) {
        self.outboxID = outboxID
        self.to = to
        self.from = from
        self.replyTo = replyTo
        self.subject = subject
        self.html = html
        self.text = text
        self.messageID = messageID
    }

    public init(_ message: OutboxMessage) {
        self.init(
            outboxID: message.id, to: message.to, from: message.from, replyTo: message.replyTo, subject: message.subject,
            html: message.html, text: message.text, messageID: message.messageID)
    }
}

/// What a transport reports for an accepted message (stored nowhere secret; shown to operators).
public struct MailDeliveryReceipt: Sendable, Equatable {
    public var summary: String
    public init(summary: String) { self.summary = summary }
}

/// Why a transport could not deliver, in the only terms the courier acts on.
public struct MailDeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the courier should do with the message.
    public enum Classification: Sendable, Equatable {
        /// Try this message again later (4xx, connection trouble, timeouts).
        case temporary
        /// Retrying this message can never work (5xx for this recipient or content): abandon it.
        case permanent
        /// The transport itself is unusable (bad credentials, TLS setup, no provider): not the message's fault,
        /// so the attempt does not count toward the retry cap; the message waits for the operator's fix.
        case transportUnavailable
    }

    public var classification: Classification
    /// One line for `last_error`; never contains credentials.
    public var message: String

    public init(_ classification: Classification, _ message: String) {
        self.classification = classification
        self.message = message
    }

    public var description: String { message }
}

/// Something that delivers one email: SMTP, or the development mailbox.
///
/// Implementations throw `MailDeliveryError`; anything else is treated as temporary.
public protocol MailTransport: Sendable {
    /// Short name for logs (`smtp`, `dev_mailbox`).
    var name: String { get }
    func send(_ email: OutboundEmail) async throws -> MailDeliveryReceipt
}

/// Stores mail in the database (`dev_mailbox`) instead of sending it, for development without a provider.
/// Read it at `/dev/mail`.
public struct DevelopmentMailbox: MailTransport {
    let store: any DevMailboxStore
    let clock: any UsherClock
    let defaultFrom: String

    public init(store: any DevMailboxStore, clock: any UsherClock = SystemClock(), defaultFrom: String) {
        self.store = store
        self.clock = clock
        self.defaultFrom = defaultFrom
    }

    public var name: String { "dev_mailbox" }

    public func send(_ email: OutboundEmail) async throws -> MailDeliveryReceipt {
        let stored = DevMailboxMessage(
            id: "dev_" + SecureRandom.hex(byteCount: 12), outboxID: email.outboxID, to: email.to, from: email.from ?? defaultFrom,
            replyTo: email.replyTo, subject: email.subject, html: email.html, text: email.text, messageID: email.messageID,
            receivedAt: clock.now)
        do {
            try await store.insertDevMail(stored)
        } catch {
            throw MailDeliveryError(.temporary, "development mailbox: cannot store the message: \(error)")
        }
        return MailDeliveryReceipt(summary: "stored in the development mailbox as \(stored.id)")
    }
}
