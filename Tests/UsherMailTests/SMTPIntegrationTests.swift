import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import UsherMail

/// The real SMTP servers started by `tests/support/start_smtp_servers.sh DIR` (then
/// `set -a; . DIR/env; set +a`): aiosmtpd with STARTTLS + AUTH and fault injection, and postfix's
/// smtp-sink. Without those variables these tests are skipped, except in CI (`CI` set, as `.ci/run` runs), where
/// `smtpServersArePresentInCI` fails instead: a missing real component must not pass as a skip.
enum TestServers {
    static let env = ProcessInfo.processInfo.environment
    static let host = env["USHER_TEST_SMTP_HOST"] ?? "127.0.0.1"

    static var tlsAvailable: Bool {
        env["USHER_TEST_SMTP_TLS_PORT"] != nil && env["USHER_TEST_SMTP_TLS_MAILDIR"] != nil && env["USHER_TEST_SMTP_CA"] != nil
            && env["USHER_TEST_SMTP_USER"] != nil && env["USHER_TEST_SMTP_PASS"] != nil
    }
    static var sinkAvailable: Bool { env["USHER_TEST_SMTP_SINK_PORT"] != nil && env["USHER_TEST_SMTP_SINK_DIR"] != nil }

    static let skipTLS = "needs USHER_TEST_SMTP_TLS_PORT/…_MAILDIR/…_CA/…_USER/…_PASS: run tests/support/start_smtp_servers.sh DIR and source DIR/env"
    static let skipSink = "needs USHER_TEST_SMTP_SINK_PORT/…_SINK_DIR: run tests/support/start_smtp_servers.sh DIR and source DIR/env"

    static func tlsConfiguration(
        mechanism: SMTPConfiguration.AuthMechanism = .automatic, password: String? = nil, trustCA: Bool = true,
        verification: SMTPConfiguration.CertificateVerification = .full
    ) -> SMTPConfiguration {
        SMTPConfiguration(
            host: host, port: Int(env["USHER_TEST_SMTP_TLS_PORT"]!)!, tls: .required,
            credentials: .init(username: env["USHER_TEST_SMTP_USER"]!, password: password ?? env["USHER_TEST_SMTP_PASS"]!),
            authMechanism: mechanism, trustedCAFile: trustCA ? env["USHER_TEST_SMTP_CA"] : nil,
            certificateVerification: verification, heloName: "usher-tests.example",
            timeouts: .init(connect: .seconds(5), greeting: .seconds(10), command: .seconds(10), dataEnd: .seconds(20)))
    }

    static var maildir: URL { URL(fileURLWithPath: env["USHER_TEST_SMTP_TLS_MAILDIR"]!).appendingPathComponent("new") }
    static var sinkDir: URL { URL(fileURLWithPath: env["USHER_TEST_SMTP_SINK_DIR"]!) }

    /// Files in `directory` whose content contains `needle` (waits up to 3 s for at least `count`).
    static func files(in directory: URL, containing needle: String, atLeast count: Int = 1) async throws -> [URL] {
        var found: [URL] = []
        for _ in 0..<30 {
            found = []
            for url in (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [] {
                if let data = try? Data(contentsOf: url), String(decoding: data, as: UTF8.self).contains(needle) { found.append(url) }
            }
            if found.count >= count { return found }
            try await Task.sleep(for: .milliseconds(100))
        }
        return found
    }

    static func token() -> String { String(UInt64.random(in: 0...UInt64.max), radix: 36) }
}

private let longURL = "https://usher.example/accept?ticket=" + String(repeating: "a1B2c3D4", count: 40)

private func invitation(to recipients: [EmailAddress], id: String) -> MailMessage {
    MailMessage(
        from: address("noreply@usher.example", "Usher — Équipe «Accès»"),
        to: recipients,
        subject: MailMessageTests.unicodeSubject,
        html: """
            <html><body><h1>Hi Zoë,</h1>
            <p>You have been invited. <a href="\(longURL)">Accept</a></p>
            <p>\(String(repeating: "A long line without breaks. ", count: 60))</p>
            </body></html>
            """,
        text: "Hi Zoë,\n.This line starts with a dot\n..and this with two\n.\nAccept: \(longURL)\n",
        replyTo: [address("support@usher.example", "Support, Usher")],
        headers: [("X-Usher-Test", id)],
        messageID: "<\(id)@usher.example>")
}

private func makeClient(_ configuration: SMTPConfiguration) throws -> SMTPClient {
    try SMTPClient(configuration: configuration, logger: Logger(label: "usher.mail.test"))
}

/// In CI the integration suites below must run: their servers missing is a failure there, not a skip.
@Test(.enabled(if: TestServers.env["CI"] != nil, "only in CI, where the SMTP test servers are required"))
func smtpServersArePresentInCI() {
    #expect(TestServers.tlsAvailable, "\(TestServers.skipTLS)")
    #expect(TestServers.sinkAvailable, "\(TestServers.skipSink)")
}

@Suite(.serialized) struct AiosmtpdIntegrationTests {
    @Test(.enabled(if: TestServers.tlsAvailable, "\(TestServers.skipTLS)"))
    func startTLSWithAuthDeliversAParseableMessage() async throws {
        let client = try makeClient(TestServers.tlsConfiguration())
        let id = "it-\(TestServers.token())"
        let receipt = try await client.send(invitation(to: [address("zoe@example.com", "Zoë Martin"), address("bob@example.com", "Smith, Bob")], id: id))
        await client.shutdown()
        #expect(receipt.wasEncrypted)
        #expect(receipt.allRecipientsAccepted)
        #expect(receipt.acceptedRecipients.count == 2)
        #expect(receipt.messageID == "<\(id)@usher.example>")
        #expect(receipt.reply.code == 250)

        let files = try await TestServers.files(in: TestServers.maildir, containing: id)
        #expect(files.count == 1)
        let file = try #require(files.first)
        let summary = try PythonEmailChecker.summary(ofFile: file.path)
        let headers = summary["headers"] as? [String: String] ?? [:]
        #expect(headers["X-Usher-TLS"] == "yes")
        #expect(headers["X-Usher-Mail-From"] == "<noreply@usher.example>")
        #expect(headers["X-Usher-Rcpt-To"] == "<zoe@example.com>, <bob@example.com>")
        #expect(summary.string("subject") == MailMessageTests.unicodeSubject)
        #expect(summary.list("from").first?.string("name") == "Usher — Équipe «Accès»")
        #expect(summary.list("to").map { $0.string("name") } == ["Zoë Martin", "Smith, Bob"])
        #expect(summary.list("reply_to").first?.string("name") == "Support, Usher")
        #expect(summary.string("message_id") == "<\(id)@usher.example>")
        #expect(summary.string("content_type") == "multipart/alternative")
        #expect(summary.strings("defects") == [])
        let text = try #require(summary.string("text")).replacingOccurrences(of: "\r\n", with: "\n")
        let html = try #require(summary.string("html"))
        #expect(text.contains("\n.This line starts with a dot\n..and this with two\n.\nAccept: \(longURL)"))
        #expect(html.contains(longURL))
        #expect(html.contains(String(repeating: "A long line without breaks. ", count: 60)))
        #expect(summary.int("max_line_length") ?? 999 <= 78 + 60, "server-added envelope headers aside, lines are short")
    }

    @Test(.enabled(if: TestServers.tlsAvailable, "\(TestServers.skipTLS)"))
    func authLoginAndVerifyConnection() async throws {
        let client = try makeClient(TestServers.tlsConfiguration(mechanism: .login))
        let info = try await client.verifyConnection()
        #expect(info.isEncrypted)
        #expect(info.authenticationMechanism == "LOGIN")
        #expect(info.capabilities.maximumMessageSize == 1_048_576)
        let receipt = try await client.send(invitation(to: [address("login@example.com")], id: "login-\(TestServers.token())"))
        #expect(receipt.wasEncrypted)
        await client.shutdown()
    }

    @Test(.enabled(if: TestServers.tlsAvailable && TestServers.env["USHER_TEST_SMTP_IMPLICIT_TLS_PORT"] != nil, "\(TestServers.skipTLS)"))
    func implicitTLS() async throws {
        var configuration = TestServers.tlsConfiguration()
        configuration.tls = .implicit
        configuration.port = Int(TestServers.env["USHER_TEST_SMTP_IMPLICIT_TLS_PORT"]!)!
        let client = try makeClient(configuration)
        let id = "implicit-\(TestServers.token())"
        let receipt = try await client.send(invitation(to: [address("implicit@example.com")], id: id))
        await client.shutdown()
        #expect(receipt.wasEncrypted)
        #expect(try await TestServers.files(in: TestServers.maildir, containing: id).count == 1)
    }

    @Test(.enabled(if: TestServers.tlsAvailable, "\(TestServers.skipTLS)"))
    func wrongPasswordIsAPermanentSessionError() async throws {
        let client = try makeClient(TestServers.tlsConfiguration(password: "definitely-wrong-pw"))
        do {
            _ = try await client.send(invitation(to: [address("x@example.com")], id: "pw-\(TestServers.token())"))
            Issue.record("expected an authentication failure")
        } catch {
            #expect(error.kind == .authenticationFailed)
            #expect(error.replyCode == 535)
            #expect(error.isPermanent)
            #expect(error.scope == .session)
            #expect(!error.description.contains("definitely-wrong-pw"))
        }
        await client.shutdown()
    }

    @Test(.enabled(if: TestServers.tlsAvailable, "\(TestServers.skipTLS)"))
    func untrustedCertificateIsRefusedUnlessExplicitlyAllowed() async throws {
        let strict = try makeClient(TestServers.tlsConfiguration(trustCA: false))
        do {
            _ = try await strict.verifyConnection()
            Issue.record("a self-signed certificate must not be trusted by default")
        } catch {
            #expect(error.kind == .tlsFailed)
            #expect(error.isTemporary)
        }
        await strict.shutdown()
        let lax = try makeClient(TestServers.tlsConfiguration(trustCA: false, verification: .none))
        let info = try await lax.verifyConnection()
        #expect(info.isEncrypted)
        await lax.shutdown()
    }

    @Test(.enabled(if: TestServers.tlsAvailable, "\(TestServers.skipTLS)"))
    func temporaryFailureThenSuccessStoresExactlyOneMessage() async throws {
        let client = try makeClient(TestServers.tlsConfiguration())
        let token = TestServers.token()
        let message = invitation(to: [address("defer-1-\(token)@example.com")], id: "defer-\(token)")
        do {
            _ = try await client.send(message)
            Issue.record("the first attempt must fail with 451")
        } catch {
            #expect(error.isTemporary)
            #expect(error.replyCode == 451)
            #expect(error.step == .dataEnd)
            #expect(error.enhancedStatusCode?.description == "4.3.0")
            #expect(error.serverMessage?.contains("Temporary failure") == true)
        }
        let receipt = try await client.send(message)  // a courier's retry: same message, same Message-ID
        #expect(receipt.allRecipientsAccepted)
        await client.shutdown()
        #expect(try await TestServers.files(in: TestServers.maildir, containing: "defer-\(token)").count == 1)
    }

    @Test(.enabled(if: TestServers.tlsAvailable, "\(TestServers.skipTLS)"))
    func rejectedRecipientIsPermanent() async throws {
        let client = try makeClient(TestServers.tlsConfiguration())
        let id = "reject-\(TestServers.token())"
        do {
            _ = try await client.send(invitation(to: [address("reject@example.com")], id: id))
            Issue.record("expected a 550")
        } catch {
            #expect(error.kind == .recipientsRejected)
            #expect(error.isPermanent)
            #expect(error.replyCode == 550)
            #expect(error.enhancedStatusCode?.description == "5.1.1")
            #expect(error.recipientErrors.map(\.address) == ["reject@example.com"])
            #expect(error.description.contains("550"))
        }
        // Some recipients refused, others accepted: delivered, with the refusal in the receipt.
        let receipt = try await client.send(invitation(to: [address("reject@example.com"), address("ok@example.com")], id: id + "-partial"))
        #expect(receipt.acceptedRecipients.map(\.address) == ["ok@example.com"])
        #expect(receipt.rejectedRecipients.first?.error.replyCode == 550)
        #expect(receipt.rejectedRecipients.first?.error.scope == .recipient)
        await client.shutdown()
        #expect(try await TestServers.files(in: TestServers.maildir, containing: id).count == 1)
    }

    @Test(.enabled(if: TestServers.tlsAvailable, "\(TestServers.skipTLS)"))
    func tooLargeForServerSizeIsRefusedUpFront() async throws {
        let client = try makeClient(TestServers.tlsConfiguration())
        var message = invitation(to: [address("big@example.com")], id: "big-\(TestServers.token())")
        message.html = String(repeating: "<p>0123456789 abcdefghij</p>\n", count: 50_000)
        do {
            _ = try await client.send(message)
            Issue.record("expected messageTooLarge")
        } catch {
            #expect(error.kind == .messageTooLarge)
            #expect(error.isPermanent)
        }
        await client.shutdown()
    }

    @Test(.enabled(if: TestServers.tlsAvailable, "\(TestServers.skipTLS)"))
    func utf8LocalPartUsesSMTPUTF8() async throws {
        let client = try makeClient(TestServers.tlsConfiguration())
        let id = "utf8-\(TestServers.token())"
        let receipt = try await client.send(invitation(to: [address("zoë@exämple.com", "Zoë")], id: id))
        #expect(receipt.allRecipientsAccepted)
        await client.shutdown()
        let file = try #require(try await TestServers.files(in: TestServers.maildir, containing: id).first)
        let summary = try PythonEmailChecker.summary(ofFile: file.path)
        let headers = summary["headers"] as? [String: String] ?? [:]
        #expect(headers["X-Usher-Mail-Options"]?.contains("SMTPUTF8") == true)
        #expect(headers["X-Usher-Rcpt-To"] == "<zoë@xn--exmple-cua.com>")
        #expect(summary.list("to").first?.string("address") == "zoë@xn--exmple-cua.com")
    }

    @Test(.enabled(if: TestServers.tlsAvailable, "\(TestServers.skipTLS)"))
    func concurrentSendersShareAFewConnections() async throws {
        var configuration = TestServers.tlsConfiguration()
        configuration.pool = .init(maximumConnections: 3, maximumMessagesPerConnection: 4)
        let client = try makeClient(configuration)
        let token = TestServers.token()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<24 {
                group.addTask {
                    _ = try await client.send(invitation(to: [address("pool\(i)@example.com")], id: "pool-\(token)-\(i)"))
                    #expect(client.openConnections <= 3)
                }
            }
            try await group.waitForAll()
        }
        await client.shutdown()
        #expect(client.openConnections == 0)
        #expect(try await TestServers.files(in: TestServers.maildir, containing: "pool-\(token)-", atLeast: 24).count == 24)
    }

    @Test(.enabled(if: TestServers.tlsAvailable, "\(TestServers.skipTLS)"))
    func slowServerHitsTheDataTimeout() async throws {
        var configuration = TestServers.tlsConfiguration()
        configuration.timeouts.dataEnd = .milliseconds(500)
        let client = try makeClient(configuration)
        do {
            _ = try await client.send(invitation(to: [address("slow-3000-\(TestServers.token())@example.com")], id: "slow-\(TestServers.token())"))
            Issue.record("expected a timeout")
        } catch {
            #expect(error.kind == .timeout)
            #expect(error.step == .dataEnd)
            #expect(error.isTemporary)
        }
        await client.shutdown()
    }

    @Test(.enabled(if: TestServers.tlsAvailable, "\(TestServers.skipTLS)"))
    func serverDroppingTheConnectionIsTemporary() async throws {
        let client = try makeClient(TestServers.tlsConfiguration())
        do {
            _ = try await client.send(invitation(to: [address("close-\(TestServers.token())@example.com")], id: "close-\(TestServers.token())"))
            Issue.record("expected a connection failure")
        } catch {
            #expect(error.kind == .connectionClosed)
            #expect(error.isTemporary)
        }
        // The client recovers: the next message goes through on a new connection.
        _ = try await client.send(invitation(to: [address("after-close@example.com")], id: "after-close-\(TestServers.token())"))
        await client.shutdown()
    }
}

@Suite struct SMTPSinkIntegrationTests {
    static func configuration(_ tls: SMTPConfiguration.TLSMode) -> SMTPConfiguration {
        SMTPConfiguration(host: TestServers.host, port: Int(TestServers.env["USHER_TEST_SMTP_SINK_PORT"]!)!, tls: tls, heloName: "usher-tests.example")
    }

    @Test(.enabled(if: TestServers.sinkAvailable, "\(TestServers.skipSink)"))
    func plainDeliveryToSMTPSink() async throws {
        let client = try makeClient(Self.configuration(.off))
        let id = "sink-\(TestServers.token())"
        let receipt = try await client.send(invitation(to: [address("zoe@example.com", "Zoë Martin")], id: id))
        #expect(!receipt.wasEncrypted)
        await client.shutdown()
        let file = try #require(try await TestServers.files(in: TestServers.sinkDir, containing: id).first)
        let summary = try PythonEmailChecker.summary(ofFile: file.path)
        #expect(summary.string("subject") == MailMessageTests.unicodeSubject)
        #expect(summary.list("to").first?.string("name") == "Zoë Martin")
        let text = try #require(summary.string("text")).replacingOccurrences(of: "\r\n", with: "\n")
        #expect(text.contains("\n.This line starts with a dot\n..and this with two\n.\n"))
        #expect(summary.string("html")?.contains(longURL) == true)
        #expect(summary.strings("defects") == [])
    }

    @Test(.enabled(if: TestServers.sinkAvailable, "\(TestServers.skipSink)"))
    func opportunisticTLSFallsBackToPlainWithoutSTARTTLS() async throws {
        let client = try makeClient(Self.configuration(.opportunistic))
        let info = try await client.verifyConnection()
        #expect(!info.isEncrypted)
        #expect(info.capabilities.pipelining)
        await client.shutdown()
        let required = try makeClient(Self.configuration(.required))
        do {
            _ = try await required.verifyConnection()
            Issue.record("smtp-sink offers no STARTTLS")
        } catch {
            #expect(error.kind == .tlsUnavailable)
        }
        await required.shutdown()
    }

    @Test(.enabled(if: TestServers.sinkAvailable, "\(TestServers.skipSink)"))
    func pooledConnectionIsReusedWithRSET() async throws {
        var configuration = Self.configuration(.off)
        configuration.pool = .init(maximumConnections: 1)
        let client = try makeClient(configuration)
        let token = TestServers.token()
        for i in 0..<5 {
            _ = try await client.send(invitation(to: [address("reuse@example.com")], id: "reuse-\(token)-\(i)"))
            #expect(client.openConnections == 1)
        }
        await client.shutdown()
        #expect(try await TestServers.files(in: TestServers.sinkDir, containing: "reuse-\(token)-", atLeast: 5).count == 5)
    }
}

@Suite struct ConnectionFailureTests {
    /// A loopback port with nothing listening (bound once, then closed).
    static func closedPort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try channel.close().wait()
        return port
    }

    @Test func connectionRefusedIsTemporary() async throws {
        let port = try Self.closedPort()
        let client = try makeClient(SMTPConfiguration(host: "127.0.0.1", port: port, tls: .off))
        do {
            _ = try await client.send(MailMessage(from: address("a@usher.example"), to: [address("b@example.com")], subject: "x", text: "y"))
            Issue.record("expected a connection failure")
        } catch {
            #expect(error.kind == .connectionFailed)
            #expect(error.isTemporary)
            #expect(error.step == .connect)
            #expect(error.description.contains("127.0.0.1:\(port)"))
        }
        #expect(client.openConnections == 0, "a failed connect frees its pool slot")
        await client.shutdown()
    }

    @Test func invalidMessageIsPermanentAndNeedsNoConnection() async throws {
        let client = try makeClient(SMTPConfiguration(host: "127.0.0.1", port: try Self.closedPort(), tls: .off))
        do {
            _ = try await client.send(
                MailMessage(from: address("a@usher.example"), to: [address("b@example.com")], subject: "a\r\nBcc: x@evil.test", text: "y"))
            Issue.record("expected an invalid message")
        } catch {
            #expect(error.kind == .invalidMessage)
            #expect(error.isPermanent)
            #expect(error.scope == .message)
        }
        await client.shutdown()
    }

    @Test func unreadableCAFileIsAConfigurationError() {
        var configuration = SMTPConfiguration(host: "127.0.0.1")
        configuration.trustedCAFile = "/nonexistent/ca.pem"
        #expect {
            try SMTPClient(configuration: configuration)
        } throws: { error in
            (error as? SMTPError)?.kind == .invalidConfiguration
        }
    }

    @Test func sendAfterShutdownFails() async throws {
        let client = try makeClient(SMTPConfiguration(host: "127.0.0.1", port: try Self.closedPort(), tls: .off))
        await client.shutdown()
        do {
            _ = try await client.send(MailMessage(from: address("a@usher.example"), to: [address("b@example.com")], subject: "x", text: "y"))
            Issue.record("expected shutdown")
        } catch {
            #expect(error.kind == .shutdown)
            #expect(error.isTemporary)
        }
    }
}
