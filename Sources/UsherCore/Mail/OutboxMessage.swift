import Foundation
import UsherJSON

/// Where an outbox message is in its life.
///
/// `failed` means "the last attempt failed and another is scheduled"; `abandoned` is the only terminal failure.
public enum OutboxStatus: String, Sendable, CaseIterable, Equatable {
    case queued, sending, sent, failed, abandoned
}

/// One email waiting for (or done with) delivery, written in the same transaction as the change that caused it.
///
/// The `messageID` is fixed when the message is enqueued so every retry carries the same `Message-ID` header and
/// a receiver can de-duplicate the (rare, unavoidable) second copy of an at-least-once delivery.
public struct OutboxMessage: Sendable, Equatable {
    public var id: String
    public var to: String
    /// The author; nil means the provider's default from address.
    public var from: String?
    public var replyTo: String?
    public var subject: String
    public var html: String
    public var text: String?
    /// `<random@domain>`, fixed at enqueue.
    public var messageID: String
    /// What the message is for (`test_email`, `user_invitation`, …), for operators reading the outbox.
    public var purpose: String
    public var status: OutboxStatus
    /// Delivery attempts started (counted when a worker claims the message).
    public var attempts: Int
    public var lastError: String?
    public var nextAttemptAt: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var createdAt: Date
    public var sentAt: Date?
    /// The user the email is about (an invitation, a reset, a verification), so the administrator can find a
    /// user's undelivered mail; nil for mail about no one (the provider test email).
    public var userID: String?
    /// The bodies with every secret (the link's token) replaced, for the outbox API and for what is kept after the
    /// message is delivered or abandoned; nil when the bodies hold no secret (they are their own redacted copy).
    public var redactedHTML: String?
    public var redactedText: String?
    /// True once the original bodies are gone: `html` and `text` are the redacted copy and cannot be sent again.
    public var bodyRedacted: Bool
    /// Why the stored bodies could not be read (a key this instance lacks); the courier retries later.
    public var bodyUnreadable: String?

    public init(
        id: String, to: String, from: String? = nil, replyTo: String? = nil, subject: String, html: String, text: String? = nil,
        messageID: String, purpose: String, status: OutboxStatus = .queued, attempts: Int = 0, lastError: String? = nil,
        nextAttemptAt: Date, leaseOwner: String? = nil, leaseExpiresAt: Date? = nil, createdAt: Date, sentAt: Date? = nil,
        userID: String? = nil, redactedHTML: String? = nil, redactedText: String? = nil, bodyRedacted: Bool = false,
        bodyUnreadable: String? = nil
    ) {
        self.id = id
        self.to = to
        self.from = from
        self.replyTo = replyTo
        self.subject = subject
        self.html = html
        self.text = text
        self.messageID = messageID
        self.purpose = purpose
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.createdAt = createdAt
        self.sentAt = sentAt
        self.userID = userID
        self.redactedHTML = redactedHTML
        self.redactedText = redactedText
        self.bodyRedacted = bodyRedacted
        self.bodyUnreadable = bodyUnreadable
    }

    /// What stands in for a secret in the redacted copy.
    public static let redactionMark = "REDACTED"

    /// A new queued message, due now, with a fresh id and Message-ID.
    public static func new(
        to: String, from: String? = nil, replyTo: String? = nil, subject: String, html: String, text: String? = nil,
        purpose: String, userID: String? = nil, secrets: [String] = [], messageIDDomain: String, now: Date
    ) -> OutboxMessage {
        // Header fields built from templates and user data are neutralised here, where every email enters the
        // outbox (see `HeaderLine`): a line break in a user's name must not keep their invitation from being sent.
        var message = OutboxMessage(
            id: "msg_" + SecureRandom.hex(byteCount: 12), to: to, from: from.map(HeaderLine.neutralized), replyTo: replyTo.map(HeaderLine.neutralized),
            subject: HeaderLine.neutralized(subject), html: html, text: text,
            messageID: "<\(SecureRandom.hex(byteCount: 16))@\(messageIDDomain)>", purpose: purpose, nextAttemptAt: now, createdAt: now,
            userID: userID)
        let secrets = secrets.filter { !$0.isEmpty }
        if secrets.contains(where: { html.contains($0) || text?.contains($0) == true }) {
            func redact(_ body: String) -> String {
                secrets.reduce(body) { $0.replacingOccurrences(of: $1, with: redactionMark) }
            }
            message.redactedHTML = redact(html)
            message.redactedText = text.map(redact)
        }
        return message
    }

    /// What a store keeps once the outcome is final (sent, abandoned): the redacted copy in place of bodies that
    /// held a secret. Bodies without one stay as they are.
    public mutating func redactBodies() {
        guard let redactedHTML else { return }
        (html, text) = (redactedHTML, redactedText)
        (self.redactedHTML, redactedText, bodyRedacted) = (nil, nil, true)
    }

    /// The Management API / CLI shape. Bodies are included only on request (they can be large).
    public func managementJSON(includeBodies: Bool = false) -> JSONObject {
        var object: JSONObject = [
            "id": .string(id), "to": .string(to), "subject": .string(subject), "message_id": .string(messageID),
            "purpose": .string(purpose), "status": .string(status.rawValue), "attempts": .int(Int64(attempts)),
            "created_at": .string(Timestamp.iso8601(createdAt)),
        ]
        object["user_id"] = userID.map(JSONValue.string) ?? .null
        object["from"] = from.map(JSONValue.string) ?? .null
        object["reply_to"] = replyTo.map(JSONValue.string) ?? .null
        object["last_error"] = lastError.map(JSONValue.string) ?? .null
        object["next_attempt_at"] = (status == .queued || status == .failed) ? .string(Timestamp.iso8601(nextAttemptAt)) : .null
        object["sent_at"] = sentAt.map { .string(Timestamp.iso8601($0)) } ?? .null
        object["body_redacted"] = .bool(bodyRedacted)
        if includeBodies {
            // Never the live link: an API reader sees the copy without secrets.
            object["html"] = .string(redactedHTML ?? html)
            object["text"] = (redactedHTML != nil ? redactedText : text).map(JSONValue.string) ?? .null
        }
        return object
    }
}

/// A message as the development mailbox stores it: what would have been sent.
public struct DevMailboxMessage: Sendable, Equatable {
    public var id: String
    public var outboxID: String?
    public var to: String
    public var from: String
    public var replyTo: String?
    public var subject: String
    public var html: String
    public var text: String?
    public var messageID: String
    public var receivedAt: Date

    public init(
        id: String, outboxID: String?, to: String, from: String, replyTo: String?, subject: String, html: String, text: String?,
        messageID: String, receivedAt: Date
    ) {
        self.id = id
        self.outboxID = outboxID
        self.to = to
        self.from = from
        self.replyTo = replyTo
        self.subject = subject
        self.html = html
        self.text = text
        self.messageID = messageID
        self.receivedAt = receivedAt
    }
}
