import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One set-up SMTP connection (greeting, EHLO, TLS and AUTH done), ready for transactions.
///
/// The pipeline is `[NIOSSLClientHandler] → SMTPReplyDecoder → SMTPClientHandler`; the TLS handler is
/// there from the start with implicit TLS and inserted after STARTTLS otherwise. Requests are written
/// into the channel; all protocol state lives in the handler on the channel's event loop, so this
/// wrapper is freely shareable (the pool makes sure only one transaction runs at a time).
final class SMTPConnection: Sendable {
    let channel: any Channel
    let info: SMTPSessionInfo
    let id: UInt64

    private init(channel: any Channel, info: SMTPSessionInfo, id: UInt64) {
        self.channel = channel
        self.info = info
        self.id = id
    }

    /// Whether the socket is still open (the server may have closed an idle connection).
    var isActive: Bool { channel.isActive }

    /// Opens a connection and runs the session setup.
    static func connect(
        configuration: SMTPConfiguration, tlsContext: NIOSSLContext?, eventLoop: any EventLoop, logger: Logger, id: UInt64
    ) async throws(SMTPError) -> SMTPConnection {
        var logger = logger
        logger[metadataKey: "smtp.connection"] = "\(id)"
        let setupPromise = eventLoop.makePromise(of: SMTPSessionInfo.self)
        let settings = SMTPSessionSettings(configuration)
        let serverName = Self.tlsServerName(configuration)
        let implicitTLS = configuration.tls == .implicit
        let timeouts = configuration.timeouts
        if implicitTLS && tlsContext == nil {
            setupPromise.fail(SMTPError(.invalidConfiguration, step: .connect, detail: "no TLS context"))
        }
        let handlerLogger = logger
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.timeouts.connect)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if implicitTLS, let tlsContext {
                        try sync.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: serverName))
                    }
                    try sync.addHandler(SMTPReplyDecoder())
                    try sync.addHandler(
                        SMTPClientHandler(
                            settings: settings, timeouts: timeouts, tlsContext: tlsContext, tlsServerName: serverName,
                            logger: handlerLogger, setupPromise: setupPromise))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            let failure = SMTPError(
                .connectionFailed, step: .connect, temporary: true,
                detail: "could not connect to \(configuration.host):\(configuration.port): \(error)")
            setupPromise.fail(failure)
            throw failure
        }
        do {
            let info = try await setupPromise.futureResult.get()
            logger.debug(
                "SMTP session ready",
                metadata: [
                    "smtp.encrypted": "\(info.isEncrypted)", "smtp.auth": "\(info.authenticationMechanism ?? "none")",
                    "smtp.pipelining": "\(info.capabilities.pipelining)",
                ])
            return SMTPConnection(channel: channel, info: info, id: id)
        } catch {
            channel.close(promise: nil)
            throw SMTPClientHandler.map(error, step: .connect)
        }
    }

    /// The name for SNI and certificate verification: nil for an IP address (NIOSSL then checks the
    /// certificate's IP entries against the peer address).
    static func tlsServerName(_ configuration: SMTPConfiguration) -> String? {
        var name = configuration.tlsServerName ?? configuration.host
        if name.hasSuffix(".") { name.removeLast() }
        if (try? SocketAddress(ipAddress: name, port: 0)) != nil { return nil }
        return name
    }

    /// Runs one transaction. Throws only when the connection broke; a refused message is a
    /// successful call whose outcome holds the failure.
    func run(_ transaction: SMTPTransaction) async throws(SMTPError) -> SMTPTransactionOutcome {
        let promise = channel.eventLoop.makePromise(of: SMTPTransactionOutcome.self)
        channel.writeAndFlush(SMTPClientRequest.transaction(transaction, promise)).whenFailure { error in
            // The request never reached the handler: nothing was sent.
            var failure = SMTPError(
                .connectionClosed, temporary: true, detail: "the connection was closed before the message could be sent")
            failure.safeToRetryOnFreshConnection = true
            promise.fail(failure)
        }
        do {
            return try await promise.futureResult.get()
        } catch {
            throw SMTPClientHandler.map(error, step: nil)
        }
    }

    /// Sends QUIT (bounded by the command timeout) and closes; never fails.
    func quit() -> EventLoopFuture<Void> {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(SMTPClientRequest.quit(promise)).whenFailure { _ in promise.succeed(()) }
        let channel = self.channel
        return promise.futureResult.flatMap { channel.close().recover { _ in } }
    }
}
