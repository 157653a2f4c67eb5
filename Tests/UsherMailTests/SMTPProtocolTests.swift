import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOSSL
import Testing

@testable import UsherMail

/// Drives `SMTPReplyDecoder → SMTPClientHandler` on an `EmbeddedChannel`, playing the server by hand.
final class SMTPHarness {
    let channel = EmbeddedChannel()
    let setup: EventLoopFuture<SMTPSessionInfo>

    init(
        settings: SMTPSessionSettings = SMTPSessionSettings(heloName: "client.test", tlsMode: .off),
        timeouts: SMTPConfiguration.Timeouts = .init(), tlsContext: NIOSSLContext? = nil, tlsServerName: String? = nil
    ) throws {
        let promise = channel.eventLoop.makePromise(of: SMTPSessionInfo.self)
        setup = promise.futureResult
        try channel.pipeline.syncOperations.addHandlers([
            SMTPReplyDecoder(),
            SMTPClientHandler(
                settings: settings, timeouts: timeouts, tlsContext: tlsContext, tlsServerName: tlsServerName,
                logger: Logger(label: "test"), setupPromise: promise),
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
    }

    /// The server sends `text` (use \r\n line endings).
    func server(_ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    /// Each write the client made since the last call, as strings.
    func writes() throws -> [String] {
        var result: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { result.append(String(buffer: buffer)) }
        return result
    }

    /// Everything the client wrote since the last call.
    func sent() throws -> String { try writes().joined() }

    /// Greeting and EHLO with these extension lines; returns the session info.
    @discardableResult
    func establish(extensions: [String] = ["PIPELINING", "SIZE 1000000", "8BITMIME"]) throws -> SMTPSessionInfo {
        try server("220 mail.test ESMTP\r\n")
        #expect(try sent() == "EHLO client.test\r\n")
        var reply = ""
        let lines = ["mail.test greets client.test"] + extensions
        for (i, line) in lines.enumerated() { reply += "250\(i == lines.count - 1 ? " " : "-")\(line)\r\n" }
        try server(reply)
        return try #require(try setup.embeddedResult()?.get())
    }

    func send(_ transaction: SMTPTransaction) -> EventLoopFuture<SMTPTransactionOutcome> {
        let promise = channel.eventLoop.makePromise(of: SMTPTransactionOutcome.self)
        channel.writeAndFlush(SMTPClientRequest.transaction(transaction, promise), promise: nil)
        return promise.futureResult
    }

    var setupError: SMTPError? {
        guard case .failure(let error)? = setup.embeddedResult() else { return nil }
        return error as? SMTPError
    }
}

func transaction(
    from: String = "sender@usher.test", to: [String] = ["rcpt@example.com"], message: String = "Subject: hi\r\n\r\nbody\r\n",
    reset: Bool = false, smtputf8: Bool = false, eightBit: Bool = false
) -> SMTPTransaction {
    SMTPTransaction(
        envelopeFrom: from, recipients: to, data: SMTPDataEncoding.encode(Array(message.utf8)), messageSize: message.utf8.count,
        requiresSMTPUTF8: smtputf8, requires8BitMIME: eightBit, reset: reset)
}

extension EventLoopFuture where Value == SMTPTransactionOutcome {
    var outcome: SMTPTransactionOutcome? { try? embeddedResult()?.get() }
    var failure: SMTPError? {
        if case .failure(let error)? = outcome?.result { return error }
        return nil
    }
    var success: SMTPTransactionSuccess? {
        if case .success(let s)? = outcome?.result { return s }
        return nil
    }
}

@Suite struct SMTPSessionSetupTests {
    @Test func greetingThenEHLOCapabilities() throws {
        let h = try SMTPHarness()
        let info = try h.establish(extensions: ["PIPELINING", "SIZE 35882577", "8BITMIME", "SMTPUTF8", "AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES"])
        #expect(info.greeting.text == "mail.test ESMTP")
        #expect(info.capabilities.pipelining)
        #expect(info.capabilities.maximumMessageSize == 35_882_577)
        #expect(info.capabilities.smtpUTF8)
        #expect(info.capabilities.authMechanisms == ["PLAIN", "LOGIN"])
        #expect(!info.isEncrypted)
        #expect(info.authenticationMechanism == nil)
    }

    @Test func fallsBackToHELOWhenEHLOIsUnknown() throws {
        let h = try SMTPHarness()
        try h.server("220 old.test SMTP\r\n")
        #expect(try h.sent() == "EHLO client.test\r\n")
        try h.server("502 5.5.2 Command not recognized\r\n")
        #expect(try h.sent() == "HELO client.test\r\n")
        try h.server("250 old.test\r\n")
        let info = try #require(try h.setup.embeddedResult()?.get())
        #expect(info.capabilities == .none)
    }

    @Test(arguments: [
        ("554 5.7.1 No SMTP service here\r\n", false, SMTPError.Kind.rejected),
        ("421 4.3.2 Too busy, try later\r\n", true, SMTPError.Kind.rejected),
        ("HTTP/1.1 400 Bad Request\r\n", true, SMTPError.Kind.malformedReply),
        ("250 not a greeting\r\n", true, SMTPError.Kind.malformedReply),
    ])
    func badGreetings(_ greeting: String, _ temporary: Bool, _ kind: SMTPError.Kind) throws {
        let h = try SMTPHarness()
        try h.server(greeting)
        let error = try #require(h.setupError)
        #expect(error.kind == kind)
        #expect(error.isTemporary == temporary)
        #expect(error.scope == .session)
        #expect(!h.channel.isActive)
    }

    @Test func ehloAndHeloFailures() throws {
        let h = try SMTPHarness()
        try h.server("220 x\r\n")
        _ = try h.sent()
        try h.server("421 4.7.0 try again later\r\n")
        #expect(h.setupError?.isTemporary == true)
        #expect(h.setupError?.step == .ehlo)

        let h2 = try SMTPHarness()
        try h2.server("220 x\r\n")
        try h2.server("500 what\r\n")
        try h2.server("550 go away\r\n")
        #expect(h2.setupError?.isPermanent == true)
        #expect(h2.setupError?.step == .helo)
        #expect(h2.setupError?.replyCode == 550)
    }

    @Test func requiredTLSWithoutSTARTTLSFails() throws {
        let h = try SMTPHarness(settings: SMTPSessionSettings(heloName: "client.test", tlsMode: .required))
        try h.server("220 x\r\n250-x\r\n250 PIPELINING\r\n")
        let error = try #require(h.setupError)
        #expect(error.kind == .tlsUnavailable)
        #expect(error.isPermanent)
        #expect(error.scope == .session)
        #expect(try h.sent() == "EHLO client.test\r\n")  // nothing else, certainly no AUTH
    }

    @Test func opportunisticTLSContinuesInPlainTextWhenNotOffered() throws {
        let h = try SMTPHarness(settings: SMTPSessionSettings(heloName: "client.test", tlsMode: .opportunistic))
        let info = try h.establish(extensions: ["PIPELINING"])
        #expect(!info.isEncrypted)
    }

    @Test func opportunisticTLSContinuesWhenSTARTTLSIsRefused() throws {
        let h = try SMTPHarness(settings: SMTPSessionSettings(heloName: "client.test", tlsMode: .opportunistic))
        try h.server("220 x\r\n250-x\r\n250 STARTTLS\r\n")
        #expect(try h.sent() == "EHLO client.test\r\nSTARTTLS\r\n")
        try h.server("454 4.7.0 TLS not available due to temporary reason\r\n")
        let info = try #require(try h.setup.embeddedResult()?.get())
        #expect(!info.isEncrypted)
    }

    @Test func requiredTLSFailsWhenSTARTTLSIsRefused() throws {
        let h = try SMTPHarness(settings: SMTPSessionSettings(heloName: "client.test", tlsMode: .required))
        try h.server("220 x\r\n250-x\r\n250 STARTTLS\r\n")
        try h.server("454 4.7.0 TLS not available due to temporary reason\r\n")
        let error = try #require(h.setupError)
        #expect(error.kind == .tlsUnavailable)
        #expect(error.isTemporary)
        #expect(error.replyCode == 454)
    }

    @Test func credentialsAreNeverSentInClearText() throws {
        let settings = SMTPSessionSettings(
            heloName: "client.test", tlsMode: .opportunistic, credentials: .init(username: "u", password: "secret"))
        let h = try SMTPHarness(settings: settings)
        try h.server("220 x\r\n250-x\r\n250 AUTH PLAIN LOGIN\r\n")
        let error = try #require(h.setupError)
        #expect(error.kind == .authenticationUnavailable)
        #expect(error.isPermanent && error.scope == .session)
        let sent = try h.sent()
        #expect(!sent.contains("AUTH"))
        #expect(!sent.contains(Data("\0u\0secret".utf8).base64EncodedString()))
        #expect(!error.description.contains("secret"))
    }

    @Test func authPlainWhenInsecureAuthIsAllowed() throws {
        let settings = SMTPSessionSettings(
            heloName: "client.test", tlsMode: .off, credentials: .init(username: "user", password: "pässword"),
            allowInsecureAuthentication: true)
        let h = try SMTPHarness(settings: settings)
        try h.server("220 x\r\n250-x\r\n250 AUTH LOGIN PLAIN\r\n")
        let expected = Data("\0user\0pässword".utf8).base64EncodedString()
        #expect(try h.sent() == "EHLO client.test\r\nAUTH PLAIN \(expected)\r\n")
        try h.server("235 2.7.0 Authentication successful\r\n")
        let info = try #require(try h.setup.embeddedResult()?.get())
        #expect(info.authenticationMechanism == "PLAIN")
    }

    @Test func authPlainAnswersAnEmptyChallenge() throws {
        let settings = SMTPSessionSettings(
            heloName: "c", tlsMode: .off, credentials: .init(username: "user", password: "pw"), allowInsecureAuthentication: true)
        let h = try SMTPHarness(settings: settings)
        try h.server("220 x\r\n250-x\r\n250 AUTH PLAIN\r\n")
        _ = try h.sent()
        try h.server("334 \r\n")
        #expect(try h.sent() == Data("\0user\0pw".utf8).base64EncodedString() + "\r\n")
        try h.server("235 ok\r\n")
        #expect(try h.setup.embeddedResult()?.get() != nil)
    }

    @Test func authLogin() throws {
        let settings = SMTPSessionSettings(
            heloName: "c", tlsMode: .off, credentials: .init(username: "user@example.com", password: "pw"),
            allowInsecureAuthentication: true)
        let h = try SMTPHarness(settings: settings)
        try h.server("220 x\r\n250-x\r\n250 AUTH=LOGIN\r\n")
        #expect(try h.sent() == "EHLO c\r\nAUTH LOGIN\r\n")
        try h.server("334 VXNlcm5hbWU6\r\n")
        #expect(try h.sent() == "dXNlckBleGFtcGxlLmNvbQ==\r\n")
        try h.server("334 UGFzc3dvcmQ6\r\n")
        #expect(try h.sent() == "cHc=\r\n")
        try h.server("235 2.7.0 ok\r\n")
        #expect(try h.setup.embeddedResult()?.get().authenticationMechanism == "LOGIN")
    }

    @Test(arguments: [("535 5.7.8 Authentication credentials invalid\r\n", false), ("454 4.7.0 Temporary authentication failure\r\n", true)])
    func authFailures(_ reply: String, _ temporary: Bool) throws {
        let settings = SMTPSessionSettings(
            heloName: "c", tlsMode: .off, credentials: .init(username: "user", password: "wrong-secret"),
            allowInsecureAuthentication: true)
        let h = try SMTPHarness(settings: settings)
        try h.server("220 x\r\n250-x\r\n250 AUTH PLAIN\r\n")
        try h.server(reply)
        let error = try #require(h.setupError)
        #expect(error.kind == .authenticationFailed)
        #expect(error.isTemporary == temporary)
        #expect(error.scope == .session)
        #expect(!error.description.contains("wrong-secret"))
        if !temporary { #expect(error.enhancedStatusCode?.description == "5.7.8") }
    }

    @Test func noCommonAuthMechanism() throws {
        let settings = SMTPSessionSettings(
            heloName: "c", tlsMode: .off, credentials: .init(username: "u", password: "p"), allowInsecureAuthentication: true)
        let h = try SMTPHarness(settings: settings)
        try h.server("220 x\r\n250-x\r\n250 AUTH CRAM-MD5 XOAUTH2\r\n")
        #expect(h.setupError?.kind == .authenticationUnavailable)
        #expect(h.setupError?.detail.contains("CRAM-MD5") == true)
    }

    @Test func greetingTimeout() throws {
        let h = try SMTPHarness(timeouts: .init(greeting: .seconds(5)))
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(h.setup.embeddedResult() == nil)
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        let error = try #require(h.setupError)
        #expect(error.kind == .timeout && error.step == .greeting && error.isTemporary)
        #expect(!h.channel.isActive)
    }

    @Test func commandTimeout() throws {
        let h = try SMTPHarness(timeouts: .init(command: .seconds(3)))
        try h.server("220 x\r\n")
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        #expect(h.setupError?.kind == .timeout)
        #expect(h.setupError?.step == .ehlo)
    }

    @Test func serverHangsUpDuringSetup() throws {
        let h = try SMTPHarness()
        try h.server("220 x\r\n")
        h.channel.pipeline.fireChannelInactive()
        #expect(h.setupError?.kind == .connectionClosed)
        #expect(h.setupError?.isTemporary == true)
    }
}

@Suite struct SMTPTransactionTests {
    @Test func plainTransactionOneCommandAtATime() throws {
        let h = try SMTPHarness()
        try h.establish(extensions: ["SIZE 1000000"])
        let message = "Subject: x\r\n\r\n.hidden\r\n..two\r\nend"
        let result = h.send(transaction(message: message))
        #expect(try h.sent() == "MAIL FROM:<sender@usher.test> SIZE=\(message.utf8.count)\r\n")
        try h.server("250 2.1.0 Ok\r\n")
        #expect(try h.sent() == "RCPT TO:<rcpt@example.com>\r\n")
        try h.server("250 2.1.5 Ok\r\n")
        #expect(try h.sent() == "DATA\r\n")
        try h.server("354 End data with <CR><LF>.<CR><LF>\r\n")
        #expect(try h.sent() == "Subject: x\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n")
        try h.server("250 2.0.0 Ok: queued as ABC123\r\n")
        let success = try #require(result.success)
        #expect(success.finalReply.text == "Ok: queued as ABC123")
        #expect(result.outcome?.connectionReusable == true)
    }

    @Test func pipelinedTransactionIsOneWrite() throws {
        let h = try SMTPHarness()
        try h.establish()
        let result = h.send(transaction(to: ["a@example.com", "b@example.com"], reset: true))
        let writes = try h.writes()
        #expect(writes == ["RSET\r\nMAIL FROM:<sender@usher.test> SIZE=21\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"])
        try h.server("250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n")
        #expect(try h.sent() == "Subject: hi\r\n\r\nbody\r\n.\r\n")
        try h.server("250 2.0.0 queued\r\n")
        #expect(result.success?.recipientReplies.map(\.code) == [250, 250])
    }

    @Test func someRecipientsRefused() throws {
        let h = try SMTPHarness()
        try h.establish()
        let result = h.send(transaction(to: ["ok@example.com", "reject@example.com", "later@example.com"]))
        _ = try h.sent()
        try h.server("250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n451 4.2.0 try later\r\n354 go\r\n")
        _ = try h.sent()
        try h.server("250 queued\r\n")
        let success = try #require(result.success)
        #expect(success.recipientReplies.map(\.code) == [250, 550, 451])
    }

    @Test func allRecipientsRefusedPipelined() throws {
        let h = try SMTPHarness()
        try h.establish()
        let result = h.send(transaction(to: ["reject@example.com", "later@example.com"]))
        _ = try h.sent()
        try h.server("250 ok\r\n550 5.1.1 no such user\r\n451 4.2.0 later\r\n554 5.5.1 no valid recipients\r\n")
        let error = try #require(result.failure)
        #expect(error.kind == .recipientsRejected)
        #expect(error.isTemporary, "one recipient was refused temporarily")
        #expect(error.recipientErrors.map(\.address) == ["reject@example.com", "later@example.com"])
        #expect(result.outcome?.connectionReusable == true)
        // The connection is still usable.
        let next = h.send(transaction(reset: true))
        #expect(try h.sent().hasPrefix("RSET\r\nMAIL FROM"))
        try h.server("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
        _ = try h.sent()
        try h.server("250 ok\r\n")
        #expect(next.success != nil)
    }

    @Test func allRecipientsRefusedButDataAcceptedSendsAnEmptyTerminator() throws {
        let h = try SMTPHarness()
        try h.establish()
        let result = h.send(transaction(to: ["reject@example.com"]))
        _ = try h.sent()
        try h.server("250 ok\r\n550 5.1.1 unknown\r\n354 go ahead\r\n")
        #expect(try h.sent() == ".\r\n", "no message content may be sent")
        try h.server("554 5.5.1 no valid recipients\r\n")
        let error = try #require(result.failure)
        #expect(error.kind == .recipientsRejected && error.isPermanent)
    }

    @Test func senderRefusedPipelined() throws {
        let h = try SMTPHarness()
        try h.establish()
        let result = h.send(transaction())
        _ = try h.sent()
        try h.server("553 5.7.1 sender not owned by user\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need RCPT\r\n")
        let error = try #require(result.failure)
        #expect(error.step == .mailFrom && error.replyCode == 553 && error.isPermanent && error.scope == .message)
    }

    @Test(arguments: [
        (["451 4.3.0 local error\r\n"], SMTPError.Step.mailFrom, true),
        (["550 5.7.1 sender rejected\r\n"], SMTPError.Step.mailFrom, false),
        (["250 ok\r\n", "452 4.5.3 too many recipients\r\n"], SMTPError.Step.rcptTo, true),
        (["250 ok\r\n", "550 5.1.1 unknown\r\n"], SMTPError.Step.rcptTo, false),
        (["250 ok\r\n", "250 ok\r\n", "451 4.3.0 not now\r\n"], SMTPError.Step.data, true),
        (["250 ok\r\n", "250 ok\r\n", "554 5.5.0 no\r\n"], SMTPError.Step.data, false),
        (["250 ok\r\n", "250 ok\r\n", "354 go\r\n", "452 4.3.1 insufficient storage\r\n"], SMTPError.Step.dataEnd, true),
        (["250 ok\r\n", "250 ok\r\n", "354 go\r\n", "552 5.3.4 message too big\r\n"], SMTPError.Step.dataEnd, false),
    ])
    func failuresAtEachStepAreClassified(_ replies: [String], _ step: SMTPError.Step, _ temporary: Bool) throws {
        let h = try SMTPHarness()
        try h.establish(extensions: ["8BITMIME"])  // no PIPELINING: one step at a time
        let result = h.send(transaction())
        for reply in replies { try h.server(reply) }
        let error = try #require(result.failure)
        #expect(error.step == step)
        #expect(error.isTemporary == temporary)
        #expect(error.isPermanent == !temporary)
        #expect(error.replyCode == Int(replies.last!.prefix(3)))
        #expect(result.outcome?.connectionReusable == true)
        #expect(error.description.contains(temporary ? "temporary" : "permanent"))
    }

    @Test func serverClosingWith421() throws {
        let h = try SMTPHarness()
        try h.establish()
        let result = h.send(transaction(reset: true))
        _ = try h.sent()
        try h.server("421 4.4.2 idle too long, closing\r\n")
        #expect(throws: SMTPError.self) { try result.embeddedResult()?.get() }
        if case .failure(let error as SMTPError)? = result.embeddedResult() {
            #expect(error.isTemporary)
            #expect(error.safeToRetryOnFreshConnection, "nothing was sent: safe to retry elsewhere")
        }
        #expect(!h.channel.isActive)
    }

    @Test func connectionLostAfterDataIsNotSafeToRetry() throws {
        let h = try SMTPHarness()
        try h.establish()
        let result = h.send(transaction())
        _ = try h.sent()
        try h.server("250 ok\r\n250 ok\r\n354 go\r\n")
        _ = try h.sent()
        h.channel.pipeline.fireChannelInactive()
        guard case .failure(let error as SMTPError)? = result.embeddedResult() else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.kind == .connectionClosed && error.isTemporary)
        #expect(!error.safeToRetryOnFreshConnection)
    }

    @Test func dataEndTimeout() throws {
        let h = try SMTPHarness(timeouts: .init(command: .seconds(5), dataEnd: .seconds(60)))
        try h.establish()
        let result = h.send(transaction())
        try h.server("250 ok\r\n250 ok\r\n354 go\r\n")
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(result.embeddedResult() == nil, "the data timeout, not the command timeout, applies")
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(31))
        guard case .failure(let error as SMTPError)? = result.embeddedResult() else {
            Issue.record("expected a timeout")
            return
        }
        #expect(error.kind == .timeout && error.step == .dataEnd && error.isTemporary)
    }

    @Test func sizeLimitIsEnforcedUpFront() throws {
        let h = try SMTPHarness()
        try h.establish(extensions: ["SIZE 100"])
        let result = h.send(transaction(message: String(repeating: "x", count: 200)))
        let error = try #require(result.failure)
        #expect(error.kind == .messageTooLarge && error.isPermanent)
        #expect(try h.sent() == "", "nothing is sent for a message over the limit")
    }

    @Test func smtpUTF8AndEightBitParameters() throws {
        let h = try SMTPHarness()
        try h.establish(extensions: ["8BITMIME", "SMTPUTF8", "SIZE"])
        _ = h.send(transaction(from: "zoë@usher.test", smtputf8: true))
        #expect(try h.sent() == "MAIL FROM:<zoë@usher.test> SIZE=21 BODY=8BITMIME SMTPUTF8\r\n")

        let h2 = try SMTPHarness()
        try h2.establish(extensions: ["PIPELINING"])
        let refused = h2.send(transaction(to: ["zoë@example.com"], smtputf8: true))
        #expect(refused.failure?.kind == .extensionUnavailable)
        #expect(refused.failure?.isPermanent == true)
        let refused8 = h2.send(transaction(eightBit: true))
        #expect(refused8.failure?.kind == .extensionUnavailable)
        #expect(try h2.sent() == "")
    }

    @Test func malformedReplyMidTransactionClosesTheConnection() throws {
        let h = try SMTPHarness()
        try h.establish()
        let result = h.send(transaction())
        try h.server("250 ok\r\nxyz\r\n")
        guard case .failure(let error as SMTPError)? = result.embeddedResult() else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.kind == .malformedReply)
        #expect(!h.channel.isActive)
    }

    @Test func unsolicitedReplyOnIdleConnectionClosesIt() throws {
        let h = try SMTPHarness()
        try h.establish()
        try h.server("421 4.4.2 Timeout exceeded\r\n")
        #expect(!h.channel.isActive)
    }

    @Test func secondTransactionWhileBusyIsRefused() throws {
        let h = try SMTPHarness()
        try h.establish()
        _ = h.send(transaction())
        let second = h.send(transaction())
        #expect(throws: SMTPError.self) { try second.embeddedResult()?.get() }
    }

    @Test func quit() throws {
        let h = try SMTPHarness()
        try h.establish()
        let promise = h.channel.eventLoop.makePromise(of: Void.self)
        h.channel.writeAndFlush(SMTPClientRequest.quit(promise), promise: nil)
        #expect(try h.sent() == "QUIT\r\n")
        try h.server("221 2.0.0 Bye\r\n")
        #expect(promise.futureResult.embeddedResult() != nil)
        #expect(!h.channel.isActive)
    }
}

@Suite struct DotStuffingTests {
    @Test(arguments: [
        ("", ".\r\n"),
        ("a", "a\r\n.\r\n"),
        ("a\r\n", "a\r\n.\r\n"),
        (".", "..\r\n.\r\n"),
        (".\r\n", "..\r\n.\r\n"),
        ("a\r\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n"),
        ("a\r\n..b\r\n", "a\r\n...b\r\n.\r\n"),
        ("a.b\r\n.c", "a.b\r\n..c\r\n.\r\n"),
        ("bare\nlf\n.dot\n", "bare\r\nlf\r\n..dot\r\n.\r\n"),
        ("bare\rcr", "bare\r\ncr\r\n.\r\n"),
        ("x\n.\ny", "x\r\n..\r\ny\r\n.\r\n"),
    ])
    func stuffsAndTerminates(_ input: String, _ expected: String) {
        #expect(String(buffer: SMTPDataEncoding.encode(Array(input.utf8))) == expected)
    }

    @Test func smugglingSequencesCannotEndTheData() {
        // "\n.\n" and "\r.\r" would end DATA on lenient servers (SMTP smuggling); after encoding, the only
        // CRLF.CRLF is the terminator.
        let hostile = "a\n.\nMAIL FROM:<evil@x>\r\nb\r.\rc\r\n.\r\nRSET\r\n"
        let encoded = String(buffer: SMTPDataEncoding.encode(Array(hostile.utf8)))
        #expect(encoded.components(separatedBy: "\r\n.\r\n").count == 2)
        #expect(encoded.hasSuffix("\r\n.\r\n"))
    }
}

/// STARTTLS against an in-memory TLS server: the client must discard plaintext injected after the
/// `220`, upgrade, and take its capabilities only from the encrypted EHLO reply.
@Suite struct STARTTLSInjectionTests {
    static let certificatePEM = """
        -----BEGIN CERTIFICATE-----
        MIIBmjCCAUGgAwIBAgIUXgLM7vEmbugiFTPa3cDUMdPgqf8wCgYIKoZIzj0EAwIw
        FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTAwMjcxM1oYDzIxMjYxMTAx
        MDAyNzEzWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
        PQMBBwNCAAQMxvimPT4VTjKlHqJ3qYasCpcYfzKGEzDhrJVfPlDVBbswbwPbc6SP
        KC/J+a9MD7dg9mfOLQEPD7BwdArhx+q6o28wbTAdBgNVHQ4EFgQU99dRc4tpcmwU
        HnlsRYLS4SksMIEwHwYDVR0jBBgwFoAU99dRc4tpcmwUHnlsRYLS4SksMIEwDwYD
        VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
        zj0EAwIDRwAwRAIgTIOKjsDMITOcQsJzvCdBV6aXFkG2Q5C2j9YcHO9Ew8YCIEF5
        0i5xeRQe8L8+h0f/YgQIlP8A3vgrJQxJgxFwMXR1
        -----END CERTIFICATE-----
        """
    static let keyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtXvwuoURHcqtcYtq
        dam1wjQh385CpB0BN1o8rJt6IqKhRANCAAQMxvimPT4VTjKlHqJ3qYasCpcYfzKG
        EzDhrJVfPlDVBbswbwPbc6SPKC/J+a9MD7dg9mfOLQEPD7BwdArhx+q6
        -----END PRIVATE KEY-----
        """

    static func contexts() throws -> (client: NIOSSLContext, server: NIOSSLContext) {
        let certificate = try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        var client = TLSConfiguration.makeClientConfiguration()
        client.trustRoots = .certificates([certificate])
        let server = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        return (try NIOSSLContext(configuration: client), try NIOSSLContext(configuration: server))
    }

    /// Moves bytes between the client and the TLS server until both are quiet.
    static func pump(_ client: EmbeddedChannel, _ server: EmbeddedChannel) throws {
        var moved = true
        while moved {
            moved = false
            while let b = try client.readOutbound(as: ByteBuffer.self) {
                try server.writeInbound(b)
                moved = true
            }
            while let b = try server.readOutbound(as: ByteBuffer.self) {
                try client.writeInbound(b)
                moved = true
            }
        }
    }

    static func serverReceived(_ server: EmbeddedChannel) throws -> String {
        var text = ""
        while let b = try server.readInbound(as: ByteBuffer.self) { text += String(buffer: b) }
        return text
    }

    @Test func injectedPlaintextAfter220IsDiscarded() throws {
        let (clientContext, serverContext) = try Self.contexts()
        let settings = SMTPSessionSettings(
            heloName: "client.test", tlsMode: .required, credentials: .init(username: "user", password: "secret"))
        let h = try SMTPHarness(settings: settings, tlsContext: clientContext, tlsServerName: "localhost")
        try h.server("220 mail.test ESMTP\r\n250-mail.test\r\n250 STARTTLS\r\n")
        #expect(try h.sent() == "EHLO client.test\r\nSTARTTLS\r\n")

        // The attacker appends a fake post-TLS EHLO reply (no AUTH restrictions, bogus capabilities)
        // and a fake 235 to the 220, all in the same segment.
        try h.server("220 2.0.0 Ready to start TLS\r\n250-evil\r\n250 AUTH PLAIN\r\n235 2.7.0 accepted\r\n")
        _ = try h.channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
        #expect(h.setup.embeddedResult() == nil, "the injected replies must not complete the setup")

        let server = EmbeddedChannel(handler: NIOSSLServerHandler(context: serverContext))
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        try Self.pump(h.channel, server)
        // After the handshake the client sends EHLO again, encrypted, and nothing else yet.
        #expect(try Self.serverReceived(server) == "EHLO client.test\r\n")
        try server.writeOutbound(ByteBuffer(string: "250-mail.test secure\r\n250-SIZE 5000\r\n250 AUTH LOGIN\r\n"))
        try Self.pump(h.channel, server)
        #expect(try Self.serverReceived(server) == "AUTH LOGIN\r\n", "capabilities come from the encrypted EHLO only")
        try server.writeOutbound(ByteBuffer(string: "334 VXNlcm5hbWU6\r\n"))
        try Self.pump(h.channel, server)
        #expect(try Self.serverReceived(server) == "dXNlcg==\r\n")
        try server.writeOutbound(ByteBuffer(string: "334 UGFzc3dvcmQ6\r\n"))
        try Self.pump(h.channel, server)
        #expect(try Self.serverReceived(server) == "c2VjcmV0\r\n")
        try server.writeOutbound(ByteBuffer(string: "235 2.7.0 ok\r\n"))
        try Self.pump(h.channel, server)
        let info = try #require(try h.setup.embeddedResult()?.get())
        #expect(info.isEncrypted)
        #expect(info.capabilities.maximumMessageSize == 5000)
        #expect(info.capabilities.authMechanisms == ["LOGIN"])
        #expect(info.authenticationMechanism == "LOGIN")
    }

    @Test func wrongCertificateFailsTheHandshake() throws {
        let (_, serverContext) = try Self.contexts()
        var config = TLSConfiguration.makeClientConfiguration()
        config.trustRoots = .certificates([])  // trusts nothing
        let h = try SMTPHarness(
            settings: SMTPSessionSettings(heloName: "c", tlsMode: .required), tlsContext: try NIOSSLContext(configuration: config),
            tlsServerName: "localhost")
        try h.server("220 x\r\n250-x\r\n250 STARTTLS\r\n")
        _ = try h.sent()
        try h.server("220 go\r\n")
        let server = EmbeddedChannel(handler: NIOSSLServerHandler(context: serverContext))
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        try? Self.pump(h.channel, server)  // the server side sees the client's alert as an error
        let error = try #require(h.setupError)
        #expect(error.kind == .tlsFailed)
        #expect(error.isTemporary && error.scope == .session)
    }
}
