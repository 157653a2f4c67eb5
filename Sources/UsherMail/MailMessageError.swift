/// Why a message or an address cannot be turned into a safe RFC 5322 message.
///
/// These are the sender's mistakes (a malformed address, a line break in a subject, a reserved
/// header name), so retrying the same message can never succeed: ``SMTPClient`` reports them as a
/// permanent ``SMTPError`` of kind ``SMTPError/Kind/invalidMessage``.
public struct MailMessageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of problem.
    public enum Kind: Sendable, Equatable {
        /// An address does not satisfy the RFC 5321 mailbox grammar.
        case invalidAddress
        /// A header name or value is unsafe or malformed (control characters, line breaks, a reserved name).
        case invalidHeader
        /// The message as a whole is unusable (no recipients, no body, bad Message-ID).
        case invalidMessage
    }

    /// The class of problem.
    public let kind: Kind
    /// The header or field concerned (`Subject`, `To`, `X-Campaign`), when there is one.
    public let field: String?
    /// What is wrong, in words an operator can act on.
    public let reason: String

    init(_ kind: Kind, field: String?, reason: String) {
        self.kind = kind
        self.field = field
        self.reason = reason
    }

    public var description: String {
        if let field { return "\(field): \(reason)" }
        return reason
    }
}
