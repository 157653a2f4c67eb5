import Foundation
import NIOCore

/// What the protocol state machine needs to know about the session it drives.
struct SMTPSessionSettings: Sendable {
    var heloName: String
    var tlsMode: SMTPConfiguration.TLSMode
    var credentials: SMTPConfiguration.Credentials?
    var authMechanism: SMTPConfiguration.AuthMechanism
    var allowInsecureAuthentication: Bool

    init(
        heloName: String, tlsMode: SMTPConfiguration.TLSMode, credentials: SMTPConfiguration.Credentials? = nil,
        authMechanism: SMTPConfiguration.AuthMechanism = .automatic, allowInsecureAuthentication: Bool = false
    ) {
        self.heloName = heloName
        self.tlsMode = tlsMode
        self.credentials = credentials
        self.authMechanism = authMechanism
        self.allowInsecureAuthentication = allowInsecureAuthentication
    }

    init(_ configuration: SMTPConfiguration) {
        self.init(
            heloName: configuration.heloName, tlsMode: configuration.tls, credentials: configuration.credentials,
            authMechanism: configuration.authMechanism,
            allowInsecureAuthentication: configuration.allowInsecureAuthentication)
    }
}

/// What a connection learned while it was set up.
public struct SMTPSessionInfo: Sendable, Equatable {
    /// The server's `220` greeting.
    public var greeting: SMTPReply
    /// The extensions from the last EHLO (after STARTTLS, the encrypted one); `.none` after HELO.
    public var capabilities: SMTPCapabilities
    /// Whether the connection is encrypted (implicit TLS or STARTTLS).
    public var isEncrypted: Bool
    /// The SASL mechanism used to authenticate, if any.
    public var authenticationMechanism: String?
}

/// One mail transaction, ready for the wire.
struct SMTPTransaction: Sendable {
    /// `MAIL FROM` address (wire form); empty for the null sender `<>`.
    var envelopeFrom: String
    /// `RCPT TO` addresses (wire form).
    var recipients: [String]
    /// The message, dot-stuffed and terminated (see ``SMTPDataEncoding``).
    var data: ByteBuffer
    /// The unstuffed message size, for `SIZE=`.
    var messageSize: Int
    var requiresSMTPUTF8: Bool
    var requires8BitMIME: Bool
    /// Send `RSET` first (the connection was used before).
    var reset: Bool
}

/// What came of a transaction, and whether its connection can carry another one.
struct SMTPTransactionOutcome: Sendable {
    /// The final reply and per-recipient replies, or why the transaction failed.
    var result: Result<SMTPTransactionSuccess, SMTPError>
    /// Whether the connection is in a clean state for the next transaction.
    var connectionReusable: Bool
}

struct SMTPTransactionSuccess: Sendable, Equatable {
    /// The reply to the end of DATA (`250 2.0.0 Ok: queued as …`).
    var finalReply: SMTPReply
    /// The reply to each `RCPT TO`, in order.
    var recipientReplies: [SMTPReply]
}

/// The SMTP client protocol as a pure state machine: events in (replies, requests, timeouts,
/// connection loss), actions out (send these commands, upgrade to TLS, complete this request). No
/// I/O, no NIO channel: ``SMTPClientHandler`` performs the actions, and tests can drive it directly.
///
/// Session: greeting → EHLO (HELO if EHLO is refused with 5xx) → STARTTLS as the TLS mode says → EHLO
/// again → AUTH (PLAIN or LOGIN; only over TLS unless insecure authentication is allowed) → ready.
/// Transaction: [RSET] → MAIL → RCPT… → DATA → message → final reply, pipelined (RFC 2920) in one
/// write up to DATA when the server offers PIPELINING, one command per round trip otherwise.
struct SMTPClientStateMachine {
    enum TimeoutKind: Equatable {
        case greeting, command, dataEnd
    }

    enum Action {
        /// Nothing to do; wait for the next event.
        case wait
        /// Write and flush these commands.
        case send([SMTPCommand])
        /// Write and flush the message data.
        case sendData(ByteBuffer)
        /// Drop buffered plaintext, add the TLS handler, then send these commands through it.
        case upgradeToTLS(then: [SMTPCommand])
        /// Setup is complete.
        case sessionReady(SMTPSessionInfo)
        /// The running transaction has finished (successfully or not); close the connection if asked.
        case transactionCompleted(SMTPTransactionOutcome, close: Bool)
        /// A request could not be started (not ready, busy); the connection is unaffected.
        case rejectRequest(SMTPError)
        /// Close the connection, failing whatever is pending with this error (nil after QUIT).
        case close(SMTPError?)
    }

    private enum AuthStep {
        case plainSent, plainResponseSent, loginSent, loginUserSent, loginPasswordSent
    }

    private enum Expect {
        case reset, mail
        case rcpt(Int)
        case data, dataEnd, abortEnd
    }

    private struct TransactionState {
        var transaction: SMTPTransaction
        var pipelined: Bool
        var expecting: [Expect]
        var next = 0
        var resetReply: SMTPReply?
        var mailReply: SMTPReply?
        var rcptReplies: [SMTPReply?]
        var dataSent = false
    }

    private enum State {
        case greeting
        case ehlo(afterTLS: Bool)
        case helo(afterTLS: Bool)
        case startTLS
        case auth(AuthStep, mechanism: String)
        case ready
        case transaction(TransactionState)
        case quit
        case closed
    }

    private var state: State = .greeting
    private let settings: SMTPSessionSettings
    private var greeting = SMTPReply(code: 220, lines: [""])
    private var capabilities = SMTPCapabilities.none
    private var encrypted: Bool
    private var authenticatedWith: String?

    init(settings: SMTPSessionSettings) {
        self.settings = settings
        self.encrypted = settings.tlsMode == .implicit
    }

    /// The information gathered so far.
    var sessionInfo: SMTPSessionInfo {
        SMTPSessionInfo(greeting: greeting, capabilities: capabilities, isEncrypted: encrypted, authenticationMechanism: authenticatedWith)
    }

    var isReady: Bool {
        if case .ready = state { return true }
        return false
    }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// The step the machine is waiting on, for error messages and timeouts.
    var currentStep: SMTPError.Step? {
        switch state {
        case .greeting: return .greeting
        case .ehlo: return .ehlo
        case .helo: return .helo
        case .startTLS: return .startTLS
        case .auth: return .auth
        case .ready, .closed: return nil
        case .quit: return .quit
        case .transaction(let tx):
            guard tx.next < tx.expecting.count else { return nil }
            switch tx.expecting[tx.next] {
            case .reset: return .reset
            case .mail: return .mailFrom
            case .rcpt: return .rcptTo
            case .data: return .data
            case .dataEnd, .abortEnd: return .dataEnd
            }
        }
    }

    /// The time limit that applies to what the machine is waiting for, or nil when it waits for nothing.
    var pendingTimeout: TimeoutKind? {
        switch state {
        case .greeting: return .greeting
        case .ehlo, .helo, .startTLS, .auth, .quit: return .command
        case .ready, .closed: return nil
        case .transaction(let tx):
            guard tx.next < tx.expecting.count else { return nil }
            switch tx.expecting[tx.next] {
            case .dataEnd, .abortEnd: return .dataEnd
            default: return .command
            }
        }
    }

    /// Whether the running transaction's data has been sent (after which a failure is ambiguous).
    var transactionDataSent: Bool {
        if case .transaction(let tx) = state { return tx.dataSent }
        return false
    }

    // MARK: - events

    mutating func receivedReply(_ reply: SMTPReply) -> Action {
        switch state {
        case .greeting:
            guard reply.code == 220 else {
                if reply.isTransientFailure || reply.isPermanentFailure {
                    return closeWith(.rejected(reply, step: .greeting, what: "server refused the connection in its greeting"))
                }
                return closeWith(SMTPError(.malformedReply, step: .greeting, detail: "expected a 220 greeting, got \(reply.code)"))
            }
            greeting = reply
            state = .ehlo(afterTLS: false)
            return .send([.ehlo(settings.heloName)])

        case .ehlo(let afterTLS):
            if reply.code == 250 {
                capabilities = SMTPCapabilities(ehloReply: reply)
                return afterHello()
            }
            if reply.isPermanentFailure && reply.code != 554 {
                // The server does not know EHLO (500/502/504): fall back to HELO, without extensions.
                state = .helo(afterTLS: afterTLS)
                return .send([.helo(settings.heloName)])
            }
            return closeWith(.rejected(reply, step: .ehlo, what: "server refused EHLO"))

        case .helo:
            guard reply.code == 250 else { return closeWith(.rejected(reply, step: .helo, what: "server refused HELO")) }
            capabilities = .none
            return afterHello()

        case .startTLS:
            if reply.code == 220 {
                encrypted = true
                capabilities = .none  // everything learned before TLS is forgotten (RFC 3207 §4.2)
                state = .ehlo(afterTLS: true)
                return .upgradeToTLS(then: [.ehlo(settings.heloName)])
            }
            if settings.tlsMode == .opportunistic && !(reply.code == 421) {
                return afterTLSDecision()
            }
            return closeWith(
                SMTPError(
                    .tlsUnavailable, step: .startTLS, reply: reply,
                    detail: "server refused STARTTLS and TLS is required"))

        case .auth(let step, let mechanism):
            return authReply(reply, step: step, mechanism: mechanism)

        case .ready:
            // Unsolicited: typically "421 idle timeout" before the server hangs up.
            return closeWith(
                SMTPError(
                    .connectionClosed, step: nil, reply: reply, temporary: true,
                    detail: "server sent an unsolicited reply on an idle connection"))

        case .transaction(var tx):
            let outcome = transactionReply(reply, tx: &tx)
            return outcome

        case .quit:
            state = .closed
            return .close(nil)

        case .closed:
            return .wait
        }
    }

    mutating func startTransaction(_ transaction: SMTPTransaction) -> Action {
        guard case .ready = state else {
            let detail: String
            switch state {
            case .transaction: detail = "the connection is busy with another transaction"
            case .closed, .quit: detail = "the connection is closed"
            default: detail = "the connection is not ready"
            }
            var error = SMTPError(.connectionClosed, temporary: true, detail: detail)
            error.safeToRetryOnFreshConnection = true  // nothing was sent
            return .rejectRequest(error)
        }
        if let limit = capabilities.maximumMessageSize, transaction.messageSize > limit {
            return .transactionCompleted(
                SMTPTransactionOutcome(
                    result: .failure(
                        SMTPError(
                            .messageTooLarge, step: .mailFrom, temporary: false,
                            detail: "the message is \(transaction.messageSize) octets; the server accepts at most \(limit) (SIZE)")),
                    connectionReusable: true),
                close: false)
        }
        if transaction.requiresSMTPUTF8 && !capabilities.smtpUTF8 {
            return .transactionCompleted(
                SMTPTransactionOutcome(
                    result: .failure(
                        SMTPError(
                            .extensionUnavailable, step: .mailFrom, temporary: false,
                            detail: "an address has a non-ASCII local part, which needs SMTPUTF8, and the server does not offer it")),
                    connectionReusable: true),
                close: false)
        }
        if transaction.requires8BitMIME && !capabilities.eightBitMIME {
            return .transactionCompleted(
                SMTPTransactionOutcome(
                    result: .failure(
                        SMTPError(
                            .extensionUnavailable, step: .mailFrom, temporary: false,
                            detail: "the message has an 8-bit body and the server does not offer 8BITMIME")),
                    connectionReusable: true),
                close: false)
        }
        let mail = mailCommand(transaction)
        var tx = TransactionState(
            transaction: transaction, pipelined: capabilities.pipelining, expecting: [],
            rcptReplies: Array(repeating: nil, count: transaction.recipients.count))
        if tx.pipelined {
            var commands: [SMTPCommand] = []
            if transaction.reset {
                commands.append(.reset)
                tx.expecting.append(.reset)
            }
            commands.append(mail)
            tx.expecting.append(.mail)
            for (i, rcpt) in transaction.recipients.enumerated() {
                commands.append(.rcptTo(rcpt, parameters: []))
                tx.expecting.append(.rcpt(i))
            }
            commands.append(.data)
            tx.expecting.append(.data)
            state = .transaction(tx)
            return .send(commands)
        }
        if transaction.reset {
            tx.expecting = [.reset]
            state = .transaction(tx)
            return .send([.reset])
        }
        tx.expecting = [.mail]
        state = .transaction(tx)
        return .send([mail])
    }

    mutating func quit() -> Action {
        switch state {
        case .ready:
            state = .quit
            return .send([.quit])
        case .closed, .quit:
            return .wait
        default:
            // Mid-setup or mid-transaction: just hang up (an unfinished DATA is discarded by the server).
            state = .closed
            return .close(SMTPError(.shutdown, temporary: true, detail: "the connection was closed by the client"))
        }
    }

    mutating func timedOut() -> Action {
        guard let step = currentStep else { return .wait }
        if case .quit = state {
            state = .closed
            return .close(nil)
        }
        return closeWith(SMTPError(.timeout, step: step, temporary: true, detail: "no reply from the server in time"))
    }

    mutating func connectionClosed() -> Action {
        switch state {
        case .closed: return .wait
        case .quit, .ready:
            state = .closed
            return .close(nil)
        default:
            return closeWith(SMTPError(.connectionClosed, step: currentStep, temporary: true, detail: "the server closed the connection"))
        }
    }

    mutating func errorCaught(_ error: SMTPError) -> Action {
        switch state {
        case .closed: return .wait
        case .quit:
            state = .closed
            return .close(nil)
        default:
            return closeWith(error)
        }
    }

    // MARK: - setup

    private mutating func closeWith(_ error: SMTPError) -> Action {
        var error = error
        if case .transaction(let tx) = state {
            error.safeToRetryOnFreshConnection =
                !tx.dataSent
                && (error.kind == .connectionClosed || error.kind == .timeout || error.reply?.code == 421 || error.step == .reset)
        }
        state = .closed
        return .close(error)
    }

    private mutating func afterHello() -> Action {
        if !encrypted && (settings.tlsMode == .required || settings.tlsMode == .opportunistic) {
            if capabilities.startTLS {
                state = .startTLS
                return .send([.startTLS])
            }
            if settings.tlsMode == .required {
                return closeWith(
                    SMTPError(
                        .tlsUnavailable, step: .startTLS,
                        detail: "TLS is required but the server does not offer STARTTLS (tls=opportunistic or tls=off would send in clear text)"))
            }
        }
        return afterTLSDecision()
    }

    private mutating func afterTLSDecision() -> Action {
        guard let credentials = settings.credentials else { return becomeReady() }
        guard encrypted || settings.allowInsecureAuthentication else {
            return closeWith(
                SMTPError(
                    .authenticationUnavailable, step: .auth,
                    detail: "refusing to send credentials over an unencrypted connection; use TLS or allow insecure authentication explicitly"))
        }
        let offered = capabilities.authMechanisms
        let mechanism: String
        switch settings.authMechanism {
        case .plain: mechanism = "PLAIN"
        case .login: mechanism = "LOGIN"
        case .automatic:
            if offered.contains("PLAIN") {
                mechanism = "PLAIN"
            } else if offered.contains("LOGIN") {
                mechanism = "LOGIN"
            } else {
                let list = offered.isEmpty ? "none" : offered.sorted().joined(separator: ", ")
                return closeWith(
                    SMTPError(
                        .authenticationUnavailable, step: .auth,
                        detail: "credentials are configured but the server offers no supported AUTH mechanism (offered: \(list); supported: PLAIN, LOGIN)"))
            }
        }
        if settings.authMechanism != .automatic && !offered.contains(mechanism) {
            return closeWith(
                SMTPError(
                    .authenticationUnavailable, step: .auth,
                    detail:
                        "AUTH \(mechanism) is configured but the server does not offer it (offered: \(offered.isEmpty ? "none" : offered.sorted().joined(separator: ", ")))"
                ))
        }
        if mechanism == "PLAIN" {
            state = .auth(.plainSent, mechanism: mechanism)
            return .send([.auth(mechanism: "PLAIN", initialResponse: Self.plainResponse(credentials))])
        }
        state = .auth(.loginSent, mechanism: mechanism)
        return .send([.auth(mechanism: "LOGIN", initialResponse: nil)])
    }

    private static func plainResponse(_ credentials: SMTPConfiguration.Credentials) -> String {
        // RFC 4616: authzid NUL authcid NUL passwd, UTF-8, base64.
        var bytes: [UInt8] = [0]
        bytes.append(contentsOf: credentials.username.utf8)
        bytes.append(0)
        bytes.append(contentsOf: credentials.password.utf8)
        return Data(bytes).base64EncodedString()
    }

    private mutating func authReply(_ reply: SMTPReply, step: AuthStep, mechanism: String) -> Action {
        guard let credentials = settings.credentials else { return closeWith(SMTPError(.authenticationUnavailable, detail: "no credentials")) }
        if reply.code == 235 {
            switch step {
            case .plainSent, .plainResponseSent, .loginPasswordSent:
                authenticatedWith = mechanism
                return becomeReady()
            case .loginSent, .loginUserSent:
                return closeWith(SMTPError(.malformedReply, step: .auth, reply: reply, detail: "server accepted AUTH LOGIN before the password was sent"))
            }
        }
        if reply.code == 334 {
            switch step {
            case .plainSent:
                // The server ignored the initial response and asks for it.
                state = .auth(.plainResponseSent, mechanism: mechanism)
                return .send([.authResponse(Self.plainResponse(credentials))])
            case .loginSent:
                state = .auth(.loginUserSent, mechanism: mechanism)
                return .send([.authResponse(Data(credentials.username.utf8).base64EncodedString())])
            case .loginUserSent:
                state = .auth(.loginPasswordSent, mechanism: mechanism)
                return .send([.authResponse(Data(credentials.password.utf8).base64EncodedString())])
            case .plainResponseSent, .loginPasswordSent:
                return closeWith(
                    SMTPError(
                        .authenticationFailed, step: .auth, reply: reply, temporary: false, detail: "server asked for more after the credentials were sent"))
            }
        }
        return closeWith(
            SMTPError(
                .authenticationFailed, step: .auth, reply: reply,
                detail: reply.isTransientFailure
                    ? "authentication failed temporarily (AUTH \(mechanism))"
                    : "server rejected the credentials (AUTH \(mechanism) as '\(credentials.username)')"))
    }

    private mutating func becomeReady() -> Action {
        state = .ready
        return .sessionReady(sessionInfo)
    }

    // MARK: - transaction

    private mutating func transactionReply(_ reply: SMTPReply, tx: inout TransactionState) -> Action {
        guard tx.next < tx.expecting.count else {
            return closeWith(SMTPError(.malformedReply, reply: reply, detail: "unexpected extra reply from the server"))
        }
        if reply.code == 421 {
            state = .transaction(tx)
            return closeWith(.rejected(reply, step: currentStep ?? .mailFrom, what: "server is closing the connection"))
        }
        let expected = tx.expecting[tx.next]
        tx.next += 1
        switch expected {
        case .reset:
            tx.resetReply = reply
            guard reply.isPositiveCompletion else {
                state = .transaction(tx)
                return closeWith(SMTPError(.rejected, step: .reset, reply: reply, temporary: true, detail: "server refused RSET on a reused connection"))
            }
            if tx.pipelined {
                state = .transaction(tx)
                return .wait
            }
            tx.expecting.append(.mail)
            state = .transaction(tx)
            return .send([mailCommand(tx.transaction)])

        case .mail:
            tx.mailReply = reply
            if tx.pipelined {
                state = .transaction(tx)
                return .wait
            }
            guard reply.isPositiveCompletion else {
                return finish(.failure(.rejected(reply, step: .mailFrom, what: "server refused the sender")), reusable: true)
            }
            tx.expecting.append(.rcpt(0))
            state = .transaction(tx)
            return .send([.rcptTo(tx.transaction.recipients[0], parameters: [])])

        case .rcpt(let index):
            tx.rcptReplies[index] = reply
            if tx.pipelined {
                state = .transaction(tx)
                return .wait
            }
            if index + 1 < tx.transaction.recipients.count {
                tx.expecting.append(.rcpt(index + 1))
                state = .transaction(tx)
                return .send([.rcptTo(tx.transaction.recipients[index + 1], parameters: [])])
            }
            guard tx.rcptReplies.contains(where: { $0?.isPositiveCompletion == true }) else {
                return finish(.failure(recipientsRejectedError(tx)), reusable: true)
            }
            tx.expecting.append(.data)
            state = .transaction(tx)
            return .send([.data])

        case .data:
            let mailOK = tx.mailReply?.isPositiveCompletion ?? false
            let anyRecipient = tx.rcptReplies.contains { $0?.isPositiveCompletion == true }
            if reply.code == 354 {
                if tx.pipelined && !mailOK {
                    // The server wants data although the sender was refused: hang up rather than risk it.
                    state = .transaction(tx)
                    return finishAndClose(.failure(.rejected(tx.mailReply!, step: .mailFrom, what: "server refused the sender")))
                }
                if !anyRecipient {
                    // RFC 2920 §3.1: end the (empty) data so the connection stays in sync; nothing can be delivered.
                    tx.expecting.append(.abortEnd)
                    tx.dataSent = false
                    state = .transaction(tx)
                    var terminator = ByteBuffer()
                    terminator.writeString(".\r\n")
                    return .sendData(terminator)
                }
                tx.expecting.append(.dataEnd)
                tx.dataSent = true
                let data = tx.transaction.data
                state = .transaction(tx)
                return .sendData(data)
            }
            if tx.pipelined && !mailOK, let mailReply = tx.mailReply {
                return finish(.failure(.rejected(mailReply, step: .mailFrom, what: "server refused the sender")), reusable: true)
            }
            if !anyRecipient {
                return finish(.failure(recipientsRejectedError(tx)), reusable: true)
            }
            return finish(.failure(.rejected(reply, step: .data, what: "server refused DATA")), reusable: true)

        case .dataEnd:
            guard reply.isPositiveCompletion else {
                return finish(.failure(.rejected(reply, step: .dataEnd, what: "server refused the message")), reusable: true)
            }
            let replies = tx.rcptReplies.map { $0 ?? SMTPReply(code: 554, lines: ["no reply"]) }
            return finish(.success(SMTPTransactionSuccess(finalReply: reply, recipientReplies: replies)), reusable: true)

        case .abortEnd:
            return finish(.failure(recipientsRejectedError(tx)), reusable: true)
        }
    }

    private func mailCommand(_ transaction: SMTPTransaction) -> SMTPCommand {
        var parameters: [String] = []
        if capabilities.supports("SIZE") { parameters.append("SIZE=\(transaction.messageSize)") }
        if capabilities.eightBitMIME && (transaction.requires8BitMIME || transaction.requiresSMTPUTF8) {
            parameters.append("BODY=8BITMIME")
        }
        if transaction.requiresSMTPUTF8 { parameters.append("SMTPUTF8") }
        return .mailFrom(transaction.envelopeFrom, parameters: parameters)
    }

    private func recipientsRejectedError(_ tx: TransactionState) -> SMTPError {
        var errors: [SMTPError.RecipientError] = []
        for (i, reply) in tx.rcptReplies.enumerated() {
            errors.append(
                SMTPError.RecipientError(
                    address: tx.transaction.recipients[i], reply: reply ?? SMTPReply(code: 554, lines: ["no reply"])))
        }
        let temporary = errors.contains { $0.isTemporary }
        return SMTPError(
            .recipientsRejected, step: .rcptTo, reply: errors.first?.reply, temporary: temporary,
            detail: errors.count == 1 ? "server refused the recipient" : "server refused all \(errors.count) recipients",
            recipientErrors: errors)
    }

    private mutating func finish(_ result: Result<SMTPTransactionSuccess, SMTPError>, reusable: Bool) -> Action {
        state = .ready
        return .transactionCompleted(SMTPTransactionOutcome(result: result, connectionReusable: reusable), close: false)
    }

    private mutating func finishAndClose(_ result: Result<SMTPTransactionSuccess, SMTPError>) -> Action {
        state = .closed
        return .transactionCompleted(SMTPTransactionOutcome(result: result, connectionReusable: false), close: true)
    }
}
