import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
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
                from: try email.from.map { try EmailAddress(parsing: $0) } ?? defaultFromAddress ?? EmailAddress(parsing: defaultFrom), to: [try EmailAddress(parsing: email.to)], subject: email.subject,
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

/// The transport the courier uses: `USHER_SMTP_URL` if set, else the provider stored through the Management API
/// (re-read at most once a second, so configuring one takes effect without a restart), else the development
/// mailbox (development) or nothing (production: messages wait, the operator is told).
public actor ConfiguredMailTransport: MailTransport {
    nonisolated public var name: String { fixed != nil ? "smtp (USHER_SMTP_URL)" : "provider or development mailbox" }
    let store: any UsherStore
    nonisolated let fixed: SMTPMailTransport?
    nonisolated let devMailbox: DevelopmentMailbox?
    let fallbackFrom: String
    let logger: Logger
    private var cached: (provider: EmailProvider?, transport: (any MailTransport)?, checked: ContinuousClock.Instant)?
    /// `cached`'s transport and age, readable without a hop onto the actor: sends within a second of the last
    /// check (nearly all of them) go straight to the transport.
    private nonisolated let recent = Mutex<(transport: (any MailTransport)?, checked: ContinuousClock.Instant)?>(nil)

    /// CA file trusted for the stored provider's server (`USHER_SMTP_CA_FILE`).
    nonisolated let providerCAFile: String?

    public init(store: any UsherStore, fixed: SMTPMailTransport?, devMailbox: DevelopmentMailbox?, fallbackFrom: String, logger: Logger,
                providerCAFile: String? = nil) {
        self.providerCAFile = providerCAFile
        self.store = store
        self.fixed = fixed
        self.devMailbox = devMailbox
        self.fallbackFrom = fallbackFrom
        self.logger = logger
    }

    nonisolated public func send(_ email: OutboundEmail) async throws -> MailDeliveryReceipt {
        if let fixed { return try await fixed.send(email) }
        let now = ContinuousClock.now
        let transport: any MailTransport
        if let fresh = recent.withLock({ $0.flatMap { now - $0.checked < .seconds(1) ? $0 : nil } }) {
            transport = try fresh.transport ?? fallback()
        } else {
            transport = try await current()
        }
        return try await transport.send(email)
    }

    func current() async throws -> any MailTransport {
        let now = ContinuousClock.now
        if let cached, now - cached.checked < .seconds(1) {
            if let transport = cached.transport { return transport }
            return try fallback()
        }
        let provider: EmailProvider?
        do { provider = try await store.emailProvider() } catch {
            throw MailDeliveryError(.temporary, "cannot read the email provider: \(error)")
        }
        let usable = provider.flatMap { $0.enabled && $0.name == "smtp" ? $0 : nil }
        if let cached, cached.provider == usable {
            self.cached?.checked = now
            recent.withLock { $0 = (cached.transport, now) }
            if let transport = cached.transport { return transport }
            return try fallback()
        }
        // The provider changed: build a new client, retire the old one.
        if let old = cached?.transport as? SMTPMailTransport { Task { await old.client.shutdown() } }
        var transport: (any MailTransport)?
        if let usable {
            do {
                transport = try SMTPMailTransport(configuration: try SMTPMailTransport.configuration(for: usable, trustedCAFile: providerCAFile),
                                                  defaultFrom: usable.defaultFromAddress ?? fallbackFrom, logger: logger)
                logger.info("Delivering mail through the configured email provider", metadata: ["smtp_host": "\(usable.smtpHost ?? "-")"])
            } catch {
                logger.error("The stored email provider cannot be used", metadata: ["error": "\(error)"])
            }
        }
        cached = (usable, transport, now)
        recent.withLock { $0 = (transport, now) }
        if let transport { return transport }
        return try fallback()
    }

    private nonisolated func fallback() throws -> any MailTransport {
        if let devMailbox { return devMailbox }
        throw MailDeliveryError(.transportUnavailable, "no email provider is configured (set USHER_SMTP_URL or POST /api/v2/emails/provider)")
    }

    /// Closes the SMTP connections.
    public func shutdown() async {
        if let fixed { await fixed.client.shutdown() }
        if let old = cached?.transport as? SMTPMailTransport { await old.client.shutdown() }
    }
}

/// The courier as a swift-service-lifecycle service: stops claiming on graceful shutdown, finishes what it holds.
public struct CourierService: Service {
    public let courier: Courier
    let transport: ConfiguredMailTransport

    public init(courier: Courier, transport: ConfiguredMailTransport) {
        self.courier = courier
        self.transport = transport
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await courier.run() }
        await transport.shutdown()
    }
}
