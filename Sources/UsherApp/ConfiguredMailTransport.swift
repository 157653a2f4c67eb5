import Foundation
import Logging
import Synchronization
import UsherCore
import UsherMail

/// The transport the courier uses: `USHER_SMTP_URL` if set, else the provider stored through the Management API
/// (re-read at most once a second, so configuring one takes effect without a restart), else the development
/// mailbox (development) or nothing (production: messages wait, the operator is told).
public actor ConfiguredMailTransport: MailTransport {
    nonisolated public var name: String { fixed != nil ? "smtp (USHER_SMTP_URL)" : "provider or development mailbox" }
    let store: any EmailProviderStore
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

    public init(
        store: any EmailProviderStore, fixed: SMTPMailTransport?, devMailbox: DevelopmentMailbox?, fallbackFrom: String, logger: Logger,
        providerCAFile: String? = nil
    ) {
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
                transport = try SMTPMailTransport(
                    configuration: try SMTPMailTransport.configuration(for: usable, trustedCAFile: providerCAFile),
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
