import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// What the server said about a delivered message.
public struct SMTPDeliveryReceipt: Sendable {
    /// The message's `Message-ID` header value, with angle brackets.
    public let messageID: String
    /// Recipients the server accepted: it now has responsibility for delivering to them.
    public let acceptedRecipients: [EmailAddress]
    /// Recipients the server refused while accepting others (the message was still sent to the
    /// accepted ones). A courier may retry just the temporary ones (`error.isTemporary`).
    public let rejectedRecipients: [RejectedRecipient]
    /// The server's reply to the end of the data (`250 2.0.0 Ok: queued as 4Xyz`): worth storing, it
    /// names the message in the server's logs.
    public let reply: SMTPReply
    /// Whether the message travelled over an encrypted connection.
    public let wasEncrypted: Bool

    /// A recipient refused with its reason.
    public struct RejectedRecipient: Sendable {
        public let address: EmailAddress
        /// Kind ``SMTPError/Kind/rejected``, scope ``SMTPError/Scope/recipient``, with the server's reply.
        public let error: SMTPError
    }

    /// Whether every recipient was accepted.
    public var allRecipientsAccepted: Bool { rejectedRecipients.isEmpty }
}

/// An SMTP client with a small connection pool, for sending many messages from a few concurrent
/// workers (an outbox courier).
///
/// ```swift
/// let client = try SMTPClient(configuration: SMTPConfiguration(url: "smtp://user:pass@mail.example.com"))
/// do {
///     let receipt = try await client.send(message)      // one call per queued message
///     // mark sent; store receipt.reply.description
/// } catch {
///     // error is SMTPError: store error.description; retry later if error.isTemporary
/// }
/// await client.shutdown()
/// ```
///
/// `send` is safe to call concurrently; it takes an idle pooled connection (after an `RSET`) or opens
/// one, and waits when ``SMTPConfiguration/Pool/maximumConnections`` are busy. If a *reused* connection
/// turns out to be dead before the message could have been accepted (the server closed it while idle,
/// or refused the `RSET`), the message is sent once more on a fresh connection, which cannot produce a
/// duplicate. A connection that broke after the data was sent yields a temporary error: the server
/// may or may not have the message (an unavoidable SMTP ambiguity); the stable Message-ID lets
/// receivers de-duplicate.
public final class SMTPClient: Sendable {
    /// The configuration the client was created with.
    public let configuration: SMTPConfiguration
    private let group: any EventLoopGroup
    private let tlsContext: NIOSSLContext?
    private let pool: SMTPConnectionPool
    private let logger: Logger
    private let connectionIDs = ConnectionCounter()

    /// Creates a client. Opens no connection yet.
    /// - Parameters:
    ///   - eventLoopGroup: where connections run; not owned (not shut down by ``shutdown()``).
    ///   - logger: receives debug/trace events; commands are logged without addresses or credentials.
    /// - Throws: ``SMTPError`` of kind `.invalidConfiguration` if the TLS settings cannot be loaded
    ///   (for example an unreadable CA file).
    public init(
        configuration: SMTPConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "usher.mail.smtp")
    ) throws(SMTPError) {
        self.configuration = configuration
        self.group = eventLoopGroup
        var logger = logger
        logger[metadataKey: "smtp.server"] = "\(configuration.host):\(configuration.port)"
        self.logger = logger
        self.tlsContext = configuration.tls == .off ? nil : try Self.makeTLSContext(configuration)
        self.pool = SMTPConnectionPool(configuration: configuration.pool, eventLoop: eventLoopGroup.next())
    }

    static func makeTLSContext(_ configuration: SMTPConfiguration) throws(SMTPError) -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        switch configuration.certificateVerification {
        case .full: tls.certificateVerification = .fullVerification
        case .noHostnameVerification: tls.certificateVerification = .noHostnameVerification
        case .none: tls.certificateVerification = .none
        }
        do {
            if let caFile = configuration.trustedCAFile {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            }
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw SMTPError(
                .invalidConfiguration, scope: .session, temporary: false,
                detail: "cannot set up TLS\(configuration.trustedCAFile.map { " with CA file \($0)" } ?? ""): \(error)")
        }
    }

    /// Number of open connections (for metrics and tests).
    public var openConnections: Int { pool.openConnections }

    /// Renders and sends one message.
    /// - Returns: the receipt when the server accepted the message for at least one recipient.
    /// - Throws: ``SMTPError``; see its documentation for how to classify it.
    public func send(_ message: MailMessage) async throws(SMTPError) -> SMTPDeliveryReceipt {
        var rendered: RenderedMessage?
        if message.bodyEncoding != .eightBitIfSupported {
            rendered = try Self.render(message, allow8Bit: false)
        }
        return try await deliver { (info: SMTPSessionInfo) throws(SMTPError) -> RenderedMessage in
            if let rendered { return rendered }
            return try Self.render(message, allow8Bit: info.capabilities.eightBitMIME)
        }
    }

    /// Sends an already rendered message (``MailMessage/renderForDelivery(allow8BitMIME:)``).
    public func send(_ rendered: RenderedMessage) async throws(SMTPError) -> SMTPDeliveryReceipt {
        try await deliver { (_: SMTPSessionInfo) throws(SMTPError) -> RenderedMessage in rendered }
    }

    private static func render(_ message: MailMessage, allow8Bit: Bool) throws(SMTPError) -> RenderedMessage {
        do {
            return try message.renderForDelivery(allow8BitMIME: allow8Bit)
        } catch {
            throw SMTPError(.invalidMessage, step: .render, temporary: false, detail: "the message cannot be sent: \(error.description)")
        }
    }

    private func deliver(
        _ render: (SMTPSessionInfo) throws(SMTPError) -> RenderedMessage
    ) async throws(SMTPError) -> SMTPDeliveryReceipt {
        var encoded: (rendered: RenderedMessage, data: ByteBuffer)?
        var attempt = 0
        while true {
            attempt += 1
            let (connection, messagesSent, fresh) = try await checkOut()
            let rendered: RenderedMessage
            let data: ByteBuffer
            if let encoded {
                (rendered, data) = encoded
            } else {
                do {
                    rendered = try render(connection.info)
                } catch {
                    pool.release(connection, messagesSent: messagesSent, reusable: true)
                    throw error
                }
                data = SMTPDataEncoding.encode(rendered.bytes)
                encoded = (rendered, data)
            }
            let transaction = SMTPTransaction(
                envelopeFrom: rendered.envelopeFrom.wireAddress,
                recipients: rendered.recipients.map(\.wireAddress),
                data: data,
                messageSize: rendered.bytes.count,
                requiresSMTPUTF8: rendered.requiresSMTPUTF8,
                requires8BitMIME: rendered.requires8BitMIME,
                reset: messagesSent > 0)
            let outcome: SMTPTransactionOutcome
            do {
                outcome = try await connection.run(transaction)
            } catch {
                pool.release(connection, messagesSent: messagesSent + 1, reusable: false)
                if !fresh && attempt == 1 && error.safeToRetryOnFreshConnection {
                    logger.debug("pooled connection was dead; retrying on a fresh one", metadata: ["error": "\(error.detail)"])
                    continue
                }
                throw error
            }
            pool.release(connection, messagesSent: messagesSent + 1, reusable: outcome.connectionReusable)
            switch outcome.result {
            case .failure(let error):
                if !fresh && attempt == 1 && error.safeToRetryOnFreshConnection {
                    logger.debug("pooled connection failed before sending; retrying on a fresh one", metadata: ["error": "\(error.detail)"])
                    continue
                }
                throw error
            case .success(let success):
                return receipt(rendered: rendered, success: success, encrypted: connection.info.isEncrypted)
            }
        }
    }

    private func receipt(rendered: RenderedMessage, success: SMTPTransactionSuccess, encrypted: Bool) -> SMTPDeliveryReceipt {
        var accepted: [EmailAddress] = []
        var rejected: [SMTPDeliveryReceipt.RejectedRecipient] = []
        for (address, reply) in zip(rendered.recipients, success.recipientReplies) {
            if reply.isPositiveCompletion {
                accepted.append(address)
            } else {
                rejected.append(
                    .init(
                        address: address,
                        error: SMTPError(.rejected, scope: .recipient, step: .rcptTo, reply: reply, detail: "server refused recipient <\(address.wireAddress)>")
                    ))
            }
        }
        return SMTPDeliveryReceipt(
            messageID: rendered.messageID, acceptedRecipients: accepted, rejectedRecipients: rejected,
            reply: success.finalReply, wasEncrypted: encrypted)
    }

    /// A connection from the pool, or a newly opened one.
    private func checkOut() async throws(SMTPError) -> (SMTPConnection, messagesSent: Int, fresh: Bool) {
        switch try await pool.acquire() {
        case .existing(let connection, let messagesSent):
            return (connection, messagesSent, false)
        case .create:
            do {
                let connection = try await SMTPConnection.connect(
                    configuration: configuration, tlsContext: tlsContext, eventLoop: group.next(), logger: logger,
                    id: connectionIDs.next())
                return (connection, 0, true)
            } catch {
                pool.openFailed()
                throw error
            }
        }
    }

    /// Opens a fresh connection, runs the whole setup (greeting, EHLO, TLS, AUTH), and closes it with
    /// QUIT. For a "test SMTP settings" action: a wrong host, certificate or password shows up here
    /// rather than as silently failing invitations.
    public func verifyConnection() async throws(SMTPError) -> SMTPSessionInfo {
        let connection = try await SMTPConnection.connect(
            configuration: configuration, tlsContext: tlsContext, eventLoop: group.next(), logger: logger, id: connectionIDs.next())
        let info = connection.info
        try? await connection.quit().get()
        return info
    }

    /// Stops accepting sends, waits for running sends to finish and closes every connection with QUIT.
    public func shutdown() async {
        await pool.shutdown()
    }
}

/// Connection ids for log metadata.
private final class ConnectionCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 0
    func next() -> UInt64 {
        lock.withLock {
            value += 1
            return value
        }
    }
}
