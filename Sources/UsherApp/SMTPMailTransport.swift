import Foundation
import Logging
import NIOCore
import UsherCore
import UsherMail

/// `MailTransport` over UsherMail's SMTP client. Lives in the composition root so UsherMail stays free of Usher types.
public final class SMTPMailTransport: MailTransport {
    public let client: SMTPClient
    let defaultFrom: String
    /// `defaultFrom` parsed once, not per message (nil if it does not parse: each send then reports why).
    let defaultFromAddress: EmailAddress?
    let logger: Logger

    public init(configuration: SMTPConfiguration, defaultFrom: String, logger: Logger) throws {
        self.client = try SMTPClient(configuration: configuration, logger: logger)
        self.defaultFrom = defaultFrom
        self.defaultFromAddress = try? EmailAddress(parsing: defaultFrom)
        self.logger = logger
    }

    public var name: String { "smtp" }

    public func send(_ email: OutboundEmail) async throws -> MailDeliveryReceipt {
        let message: MailMessage
        do {
            message = MailMessage(
                from: try email.from.map { try EmailAddress(parsing: $0) } ?? defaultFromAddress ?? EmailAddress(parsing: defaultFrom),
                to: [try EmailAddress(parsing: email.to)], subject: email.subject,
                html: email.html, text: email.text, replyTo: try email.replyTo.map { [try EmailAddress(parsing: $0)] } ?? [],
                messageID: email.messageID)
        } catch {
            throw MailDeliveryError(.permanent, "the message cannot be sent: \(error)")
        }
        do {
            let receipt = try await client.send(message)
            return MailDeliveryReceipt(summary: receipt.reply.description)
        } catch {
            let mapped = Self.classify(error)
            if mapped.classification == .transportUnavailable {
                // Not this message's fault (a wrong password gives a permanent 535 for every message): keep the
                // message and tell the operator loudly. The description never contains credentials.
                logger.error("SMTP server refused the session; mail is held until the configuration is fixed", metadata: ["error": "\(error.description)"])
            }
            throw mapped
        }
    }

    /// SMTP's classification in the courier's terms. Session-scope permanent failures (AUTH, TLS setup,
    /// configuration) are the transport's, not the message's.
    public static func classify(_ error: SMTPError) -> MailDeliveryError {
        if error.isTemporary { return MailDeliveryError(.temporary, error.description) }
        if error.scope == .session { return MailDeliveryError(.transportUnavailable, error.description) }
        return MailDeliveryError(.permanent, error.description)
    }

    /// The SMTP configuration for a stored Auth0-style provider: STARTTLS required (implicit TLS on 465),
    /// as Auth0 demands TLS 1.2+ of custom SMTP servers.
    /// `trustedCAFile` adds a private CA (an internal relay's) to the system trust roots.
    public static func configuration(for provider: EmailProvider, trustedCAFile: String? = nil) throws -> SMTPConfiguration {
        guard let host = provider.smtpHost, let port = provider.smtpPort else {
            throw MailDeliveryError(.transportUnavailable, "the email provider has no smtp_host/smtp_port")
        }
        var credentials: SMTPConfiguration.Credentials?
        if let user = provider.smtpUser, !user.isEmpty { credentials = .init(username: user, password: provider.smtpPassword ?? "") }
        var configuration = SMTPConfiguration(host: host, port: port, tls: port == 465 ? .implicit : .required, credentials: credentials)
        configuration.trustedCAFile = trustedCAFile
        return configuration
    }
}
