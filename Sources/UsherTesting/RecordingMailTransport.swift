import Synchronization
import UsherCore

/// A `MailTransport` that records every email it is asked to send and answers from a script.
///
/// Each send takes the next scripted outcome: `nil` accepts (`250 ok`), a `MailDeliveryError` is thrown as the
/// SMTP server's refusal would be. When the script runs out every send is accepted, so a test scripts only the
/// failures it is about. Courier and flow tests use it to see what left the outbox without an SMTP server.
public final class RecordingMailTransport: MailTransport {
    private let state = Mutex<(script: [MailDeliveryError?], sent: [OutboundEmail])>(([], []))

    public init(_ script: [MailDeliveryError?] = []) { state.withLock { $0.script = script } }

    public var name: String { "recording" }

    /// Every email handed to `send`, failed attempts included, in order.
    public var sent: [OutboundEmail] { state.withLock { $0.sent } }

    public func send(_ email: OutboundEmail) async throws -> MailDeliveryReceipt {
        let failure: MailDeliveryError? = state.withLock { s in
            s.sent.append(email)
            return s.script.isEmpty ? nil : s.script.removeFirst()
        }
        if let failure { throw failure }
        return MailDeliveryReceipt(summary: "250 ok")
    }
}
