import Logging
import NIOCore
import NIOSSL

/// A request written into an SMTP channel (handled by ``SMTPClientHandler``).
enum SMTPClientRequest: Sendable {
    /// Run one mail transaction; the promise gets the outcome (a failed transaction is a *successful*
    /// promise with a failure result; the promise fails only when the connection breaks).
    case transaction(SMTPTransaction, EventLoopPromise<SMTPTransactionOutcome>)
    /// Send QUIT and close; the promise succeeds once the connection is closed.
    case quit(EventLoopPromise<Void>)
}

/// The last stage of the client pipeline: runs ``SMTPClientStateMachine`` on the channel.
///
/// It turns replies, requests, timeouts and connection events into state machine events and performs
/// the actions the machine returns: writing commands, writing message data, upgrading to TLS after
/// STARTTLS (first telling ``SMTPReplyDecoder`` to discard any buffered plaintext, then inserting a
/// `NIOSSLClientHandler` at the front of the pipeline), completing promises, closing the channel. Every
/// wait for the server is covered by a timer whose length depends on the step.
final class SMTPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = SMTPReply
    typealias OutboundIn = SMTPClientRequest
    typealias OutboundOut = ByteBuffer

    private var stateMachine: SMTPClientStateMachine
    private let timeouts: SMTPConfiguration.Timeouts
    private let tlsContext: NIOSSLContext?
    private let tlsServerName: String?
    private let logger: Logger
    private var setupPromise: EventLoopPromise<SMTPSessionInfo>?
    private var transactionPromise: EventLoopPromise<SMTPTransactionOutcome>?
    private var quitPromise: EventLoopPromise<Void>?
    private var timer: Scheduled<Void>?
    /// When the scheduled timer task fires.
    private var timerDeadline: NIODeadline?
    /// When the current wait times out (nil: not waiting).
    private var deadline: NIODeadline?

    /// - Parameters:
    ///   - tlsContext: used for STARTTLS; nil if TLS cannot be used (then STARTTLS fails the session).
    ///   - tlsServerName: the name for SNI and certificate verification (nil for an IP address, which
    ///     NIOSSL then verifies against the certificate's IP entries).
    ///   - setupPromise: completed when the session is ready (or failed when setup fails).
    init(
        settings: SMTPSessionSettings, timeouts: SMTPConfiguration.Timeouts, tlsContext: NIOSSLContext?,
        tlsServerName: String?, logger: Logger, setupPromise: EventLoopPromise<SMTPSessionInfo>?
    ) {
        self.stateMachine = SMTPClientStateMachine(settings: settings)
        self.timeouts = timeouts
        self.tlsContext = tlsContext
        self.tlsServerName = tlsServerName
        self.logger = logger
        self.setupPromise = setupPromise
    }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { rearmTimer(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    func channelActive(context: ChannelHandlerContext) {
        rearmTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(stateMachine.connectionClosed(), context: context)
        cancelTimer()
        // Anything still pending (a close without an action) fails now, so no promise leaks.
        failPending(SMTPError(.connectionClosed, temporary: true, detail: "the connection was closed"))
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        if logger.logLevel <= .trace { logger.trace("S: \(reply.description.prefix(200))") }
        perform(stateMachine.receivedReply(reply), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let mapped = Self.map(error, step: stateMachine.currentStep)
        logger.debug("SMTP connection error", metadata: ["error": "\(mapped.detail)"])
        perform(stateMachine.errorCaught(mapped), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let discarded = event as? SMTPReplyDecoder.DiscardedInput {
            logger.warning(
                "discarded plaintext the server sent after its 220 reply to STARTTLS (possible STARTTLS command injection)",
                metadata: ["bytes": "\(discarded.byteCount)"])
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: requests

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        promise?.succeed(())
        switch unwrapOutboundIn(data) {
        case .transaction(let transaction, let outcomePromise):
            guard transactionPromise == nil else {
                outcomePromise.fail(SMTPError(.connectionClosed, temporary: true, detail: "the connection is busy with another transaction"))
                return
            }
            let action = stateMachine.startTransaction(transaction)
            if case .rejectRequest(let error) = action {
                outcomePromise.fail(error)
                return
            }
            transactionPromise = outcomePromise
            perform(action, context: context)
        case .quit(let quitPromise):
            if stateMachine.isClosed {
                quitPromise.succeed(())
                return
            }
            if let existing = self.quitPromise {
                existing.futureResult.cascade(to: quitPromise)
                return
            }
            self.quitPromise = quitPromise
            perform(stateMachine.quit(), context: context)
        }
    }

    func flush(context: ChannelHandlerContext) {
        // Requests flush themselves; nothing is buffered here.
    }

    // MARK: actions

    private func perform(_ action: SMTPClientStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .wait:
            break
        case .send(let commands):
            send(commands, context: context)
        case .sendData(let data):
            if logger.logLevel <= .trace { logger.trace("C: <message data, \(data.readableBytes) octets>") }
            context.writeAndFlush(wrapOutboundOut(data), promise: nil)
        case .upgradeToTLS(let commands):
            guard upgradeToTLS(context: context) else { return }
            send(commands, context: context)
        case .sessionReady(let info):
            let promise = setupPromise
            setupPromise = nil
            promise?.succeed(info)
        case .transactionCompleted(let outcome, let close):
            let promise = transactionPromise
            transactionPromise = nil
            promise?.succeed(outcome)
            if close { context.close(promise: nil) }
        case .rejectRequest:
            break  // handled where requests arrive
        case .close(let error):
            cancelTimer()
            failPending(error ?? SMTPError(.connectionClosed, temporary: true, detail: "the connection was closed"))
            context.close(promise: nil)
            return
        }
        rearmTimer(context: context)
    }

    private func send(_ commands: [SMTPCommand], context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 48 * commands.count)
        for command in commands {
            command.write(to: &buffer)
            if logger.logLevel <= .trace { logger.trace("C: \(command.logDescription)") }
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// STARTTLS was accepted: drop buffered plaintext (injection defence), then put TLS at the front
    /// of the pipeline. NIOSSL starts the handshake at once and holds our writes until it completes.
    private func upgradeToTLS(context: ChannelHandlerContext) -> Bool {
        context.triggerUserOutboundEvent(SMTPReplyDecoder.DiscardBufferedInput(), promise: nil)
        guard let tlsContext else {
            perform(
                stateMachine.errorCaught(SMTPError(.invalidConfiguration, step: .startTLS, detail: "no TLS context for STARTTLS")),
                context: context)
            return false
        }
        do {
            let tls = try NIOSSLClientHandler(context: tlsContext, serverHostname: tlsServerName)
            try context.pipeline.syncOperations.addHandler(tls, position: .first)
            logger.debug("STARTTLS accepted; TLS handshake started")
            return true
        } catch {
            perform(
                stateMachine.errorCaught(SMTPError(.tlsFailed, step: .tlsHandshake, detail: "could not start TLS: \(error)")),
                context: context)
            return false
        }
    }

    private func failPending(_ error: SMTPError) {
        if let promise = setupPromise {
            setupPromise = nil
            promise.fail(error)
        }
        if let promise = transactionPromise {
            transactionPromise = nil
            promise.fail(error)
        }
        if let promise = quitPromise {
            quitPromise = nil
            promise.succeed(())
        }
    }

    // MARK: timeouts

    /// Sets the deadline for what the state machine now waits for. One scheduled task serves many
    /// deadlines: when it fires early (the deadline moved on), it re-schedules itself for the current
    /// deadline, so a busy connection costs about one timer per timeout period instead of one per reply.
    private func rearmTimer(context: ChannelHandlerContext) {
        guard let kind = stateMachine.pendingTimeout else {
            deadline = nil
            return
        }
        let amount: TimeAmount
        switch kind {
        case .greeting: amount = timeouts.greeting
        case .command: amount = timeouts.command
        case .dataEnd: amount = timeouts.dataEnd
        }
        let newDeadline = context.eventLoop.now + amount
        deadline = newDeadline
        if let scheduledAt = timerDeadline, scheduledAt <= newDeadline { return }
        timer?.cancel()
        schedule(at: newDeadline, context: context)
    }

    private func schedule(at when: NIODeadline, context: ChannelHandlerContext) {
        timerDeadline = when
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: when) { [weak self] in
            guard let self else { return }
            self.timer = nil
            self.timerDeadline = nil
            guard let deadline = self.deadline else { return }
            if context.eventLoop.now < deadline {
                self.schedule(at: deadline, context: context)
                return
            }
            self.deadline = nil
            self.logger.debug("SMTP step timed out", metadata: ["step": "\(self.stateMachine.currentStep?.rawValue ?? "?")"])
            self.perform(self.stateMachine.timedOut(), context: context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        deadline = nil
    }

    // MARK: errors

    static func map(_ error: any Error, step: SMTPError.Step?) -> SMTPError {
        if let smtp = error as? SMTPError { return smtp }
        if let tls = error as? NIOSSLError {
            if case .handshakeFailed = tls {
                return SMTPError(.tlsFailed, step: .tlsHandshake, detail: "TLS handshake failed: \(tls)")
            }
            if case .uncleanShutdown = tls {
                return SMTPError(.connectionClosed, step: step, temporary: true, detail: "the server closed the TLS connection")
            }
            return SMTPError(.tlsFailed, step: step, detail: "TLS error: \(tls)")
        }
        if error is NIOSSLExtraError {
            return SMTPError(.tlsFailed, step: .tlsHandshake, detail: "TLS handshake failed: \(error)")
        }
        return SMTPError(.connectionClosed, step: step, temporary: true, detail: "connection error: \(error)")
    }
}

@available(*, unavailable)
extension SMTPClientHandler: Sendable {}
