/// Why a delivery (or a step of it) failed, classified so a courier knows what to do next.
///
/// Classification (``isTemporary`` / ``isPermanent``):
/// - a **4xx** reply, a connection that could not be opened or broke, a timeout, a TLS handshake
///   failure, and a client being shut down are **temporary**: retry later with backoff;
/// - a **5xx** reply, a message that cannot be rendered, a message over the server's SIZE limit, and a
///   server lacking an extension the message needs (SMTPUTF8) are **permanent**: stop retrying.
///
/// ``scope`` says what the failure is about. `.message` and `.recipient` failures belong to that
/// message; `.session` failures (greeting, EHLO, STARTTLS, AUTH, configuration) happen before any
/// message is looked at, so they say nothing about the message: a courier should pause and alert on
/// those rather than mark each queued message failed (a wrong password gives a permanent `535`, but
/// every message is fine once the operator fixes the password).
///
/// ``description`` is a one-line, human-readable summary meant to be stored as a message's "last
/// error"; it contains the server's reply text but never credentials.
public struct SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable, Equatable {
        /// The TCP connection could not be opened (refused, unreachable, name not resolved).
        case connectionFailed
        /// The connection broke or the server closed it mid-conversation.
        case connectionClosed
        /// The server did not answer within the configured time.
        case timeout
        /// The TLS handshake failed (certificate not trusted, wrong hostname, protocol error).
        case tlsFailed
        /// TLS is required but the server does not offer STARTTLS.
        case tlsUnavailable
        /// The server refused the credentials (or AUTH failed temporarily, with a 4xx).
        case authenticationFailed
        /// Credentials are configured but cannot be used: no common mechanism, or the connection is
        /// not encrypted and insecure authentication was not allowed.
        case authenticationUnavailable
        /// The server answered a command with a 4xx or 5xx (see ``SMTPError/reply``).
        case rejected
        /// Every recipient was refused (see the receipt-less per-recipient details in ``recipientErrors``).
        case recipientsRejected
        /// The message is larger than the server's declared SIZE limit.
        case messageTooLarge
        /// The message needs an extension (SMTPUTF8, 8BITMIME) that the server does not offer.
        case extensionUnavailable
        /// The server sent something that is not an SMTP reply.
        case malformedReply
        /// The message could not be rendered (invalid address, unsafe header); see the detail.
        case invalidMessage
        /// The configuration cannot work (bad CA file, bad TLS server name).
        case invalidConfiguration
        /// The client was shut down.
        case shutdown
    }

    /// What a failure is about (see the type's documentation).
    public enum Scope: String, Sendable, Equatable {
        /// This message (its content, size or sender, or the transaction as a whole).
        case message
        /// One recipient of this message.
        case recipient
        /// The connection or its setup (greeting, EHLO, STARTTLS, AUTH) or the configuration.
        case session
    }

    /// The protocol step during which a failure happened.
    public enum Step: String, Sendable, Equatable {
        case connect, greeting, ehlo, helo
        case startTLS = "STARTTLS"
        case tlsHandshake = "TLS handshake"
        case auth = "AUTH"
        case reset = "RSET"
        case mailFrom = "MAIL FROM"
        case rcptTo = "RCPT TO"
        case data = "DATA"
        case dataEnd = "end of DATA"
        case quit = "QUIT"
        case noop = "NOOP"
        case render = "rendering"
    }

    /// What went wrong.
    public let kind: Kind
    /// What the failure is about.
    public let scope: Scope
    /// The step during which it happened, when known.
    public let step: Step?
    /// The server's reply, when the failure is a reply.
    public let reply: SMTPReply?
    /// Whether retrying later may succeed.
    public let isTemporary: Bool
    /// A human-readable explanation (without the reply, which ``description`` adds).
    public let detail: String
    /// For ``Kind/recipientsRejected``: why each recipient was refused.
    public let recipientErrors: [RecipientError]

    /// Whether retrying the same message can never succeed.
    public var isPermanent: Bool { !isTemporary }
    /// The reply code (`451`, `550`), when the failure is a reply.
    public var replyCode: Int? { reply?.code }
    /// The RFC 3463 enhanced status code (`5.1.1`), when the server sent one.
    public var enhancedStatusCode: SMTPEnhancedStatusCode? { reply?.enhancedStatusCode }
    /// The server's text (all lines, without code and enhanced status).
    public var serverMessage: String? { reply?.text }

    /// Whether a failure on a reused pooled connection happened before the message could have been
    /// accepted, so sending it again on a fresh connection cannot duplicate it.
    var safeToRetryOnFreshConnection = false

    /// One refused recipient.
    public struct RecipientError: Sendable, Equatable, CustomStringConvertible {
        /// The recipient's address (wire form).
        public let address: String
        /// The server's reply to `RCPT TO`.
        public let reply: SMTPReply
        /// Whether the refusal was temporary (4xx).
        public var isTemporary: Bool { reply.isTransientFailure }
        public var description: String { "<\(address)>: \(reply)" }
    }

    init(
        _ kind: Kind, scope: Scope? = nil, step: Step? = nil, reply: SMTPReply? = nil, temporary: Bool? = nil,
        detail: String, recipientErrors: [RecipientError] = []
    ) {
        self.kind = kind
        self.step = step
        self.reply = reply
        self.detail = detail
        self.recipientErrors = recipientErrors
        self.scope = scope ?? Self.defaultScope(kind: kind, step: step)
        if let temporary {
            self.isTemporary = temporary
        } else if let reply {
            self.isTemporary = reply.isTransientFailure || reply.isPositiveCompletion || reply.isPositiveIntermediate
        } else {
            self.isTemporary = Self.defaultTemporary(kind)
        }
    }

    private static func defaultTemporary(_ kind: Kind) -> Bool {
        switch kind {
        case .connectionFailed, .connectionClosed, .timeout, .tlsFailed, .shutdown, .malformedReply:
            return true
        case .tlsUnavailable, .authenticationFailed, .authenticationUnavailable, .rejected, .recipientsRejected,
            .messageTooLarge, .extensionUnavailable, .invalidMessage, .invalidConfiguration:
            return false
        }
    }

    private static func defaultScope(kind: Kind, step: Step?) -> Scope {
        switch kind {
        case .invalidMessage, .messageTooLarge, .extensionUnavailable, .recipientsRejected: return .message
        case .tlsFailed, .tlsUnavailable, .authenticationFailed, .authenticationUnavailable, .invalidConfiguration,
            .shutdown:
            return .session
        default:
            switch step {
            case .mailFrom, .data, .dataEnd: return .message
            case .rcptTo: return .recipient
            default: return .session
            }
        }
    }

    /// A rejection by the server of the command at `step`.
    static func rejected(_ reply: SMTPReply, step: Step, what: String? = nil) -> SMTPError {
        SMTPError(.rejected, step: step, reply: reply, detail: what ?? "server refused \(step.rawValue)")
    }

    public var description: String {
        var text = "\(isTemporary ? "temporary" : "permanent") failure"
        if let step { text += " at \(step.rawValue)" }
        text += ": \(detail)"
        if let reply { text += " (server said: \(reply.description.prefix(300)))" }
        if !recipientErrors.isEmpty {
            text += "; " + recipientErrors.prefix(5).map(\.description).joined(separator: "; ")
            if recipientErrors.count > 5 { text += "; …" }
        }
        return text
    }

    public static func == (lhs: SMTPError, rhs: SMTPError) -> Bool {
        lhs.kind == rhs.kind && lhs.scope == rhs.scope && lhs.step == rhs.step && lhs.reply == rhs.reply
            && lhs.isTemporary == rhs.isTemporary && lhs.detail == rhs.detail && lhs.recipientErrors == rhs.recipientErrors
    }
}
