import Foundation
import UsherJSON

/// Email operations the entry points call: the provider (Management API), the test email, the outbox and
/// development mailbox views, and `enqueue` for services that send mail as part of a state change.
public struct MailService: Sendable {
    /// What the service reads and writes: the outbox, the development mailbox and the stored provider; never the data
    /// the mail is about.
    public typealias Store = any OutboxStore & DevMailboxStore & EmailProviderStore

    let store: Store
    let clock: any UsherClock
    /// Right-hand side of generated Message-IDs (the public host).
    public let messageIDDomain: String
    /// Whether undelivered mail goes to the development mailbox (no provider configured at start-up).
    public let usesDevelopmentMailbox: Bool

    public init(store: Store, clock: any UsherClock, messageIDDomain: String, usesDevelopmentMailbox: Bool) {
        self.store = store
        self.clock = clock
        self.messageIDDomain = messageIDDomain
        self.usesDevelopmentMailbox = usesDevelopmentMailbox
    }

    // MARK: enqueueing

    /// Queues an email in `store`, which may be a transaction's store: the email then exists exactly when the
    /// transaction's other writes do. Sends nothing now.
    @discardableResult
    public func enqueue(
        in store: (any OutboxStore)? = nil, to: String, from: String? = nil, replyTo: String? = nil, subject: String,
        html: String, text: String? = nil, purpose: String, userID: String? = nil
    ) async throws -> OutboxMessage {
        let message = try self.message(
            to: to, from: from, replyTo: replyTo, subject: subject, html: html, text: text, purpose: purpose,
            userID: userID)
        let target: any OutboxStore = store ?? self.store
        try await target.enqueueOutbox(message)
        return message
    }

    /// A validated message for the outbox, not yet stored (for callers that write it in their own transaction).
    /// `secrets` (a link's token) are kept out of the redacted copy that outlives delivery.
    public func message(
        to: String, from: String? = nil, replyTo: String? = nil, subject: String, html: String, text: String? = nil,
        purpose: String, userID: String? = nil, secrets: [String] = []
    ) throws -> OutboxMessage {
        try Self.validateAddress(to, field: "to")
        return OutboxMessage.new(
            to: to, from: from, replyTo: replyTo, subject: subject, html: html, text: text, purpose: purpose,
            userID: userID, secrets: secrets, messageIDDomain: messageIDDomain, now: clock.now)
    }

    /// A plausible single address: something@something, no spaces or line breaks (the MIME builder checks fully).
    static func validateAddress(_ address: String, field: String) throws(UsherError) {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard address.count <= 320, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            !address.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0 == "<" || $0 == ">" || $0 == "," })
        else {
            throw UsherError.invalidBody("'Object didn't pass validation for format email: \(address.prefix(100))' on property \(field).")
        }
    }

    /// Queues the provider test email (`POST /api/v2/emails/provider/test`).
    public func sendTestEmail(_ body: JSONObject) async throws -> OutboxMessage {
        let reader = try PayloadReader(body, allowed: ["to"])
        guard let to = try reader.string("to", minLength: 3, maxLength: 320).value else {
            throw UsherError.invalidBody("'Missing required property: to'.")
        }
        let html = """
            <!doctype html><html><body><h1>Usher test email</h1>\
            <p>If you can read this, Usher can deliver mail through its configured provider. Grüße ✓</p></body></html>
            """
        let text = "Usher test email\n\nIf you can read this, Usher can deliver mail through its configured provider. Grüße ✓\n"
        return try await enqueue(to: to, subject: "Usher test email ✓ Grüße", html: html, text: text, purpose: "test_email")
    }

    // MARK: outbox

    /// A page of the outbox, newest first, optionally of one status and of one user's mail.
    public func listOutbox(status: String?, page: Int, perPage: Int, userID: String? = nil) async throws
        -> (messages: [OutboxMessage], total: Int, start: Int)
    {
        var parsed: OutboxStatus?
        if let status {
            guard let value = OutboxStatus(rawValue: status) else {
                throw UsherError.invalidQuery(
                    "Query validation error: 'status' must be one of \(OutboxStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            parsed = value
        }
        let start = QueryParameters.offset(page: page, perPage: perPage)
        let result = try await store.listOutbox(OutboxFilter(status: parsed, userID: userID), offset: start, limit: perPage)
        return (result.messages, result.total, start)
    }

    public func outboxMessage(id: String) async throws -> OutboxMessage {
        guard let message = try await store.outboxMessage(id: id) else { throw UsherError.outboxMessageNotFound }
        return message
    }

    /// Puts a failed or abandoned message back in the queue, due now.
    public func retry(id: String) async throws -> OutboxMessage {
        guard let message = try await store.retryOutbox(id: id, now: clock.now) else { throw UsherError.outboxMessageNotFound }
        return message
    }

    // MARK: development mailbox

    public func devMails(limit: Int = 200) async throws -> [DevMailboxMessage] { try await store.devMails(limit: limit) }
    public func devMail(id: String) async throws -> DevMailboxMessage? { try await store.devMail(id: id) }

    // MARK: provider

    public func provider() async throws -> EmailProvider {
        guard let provider = try await store.emailProvider() else { throw UsherError.emailProviderNotFound }
        return provider
    }

    static let providerFields: Set<String> = ["name", "enabled", "default_from_address", "credentials", "settings"]

    public func createProvider(_ body: JSONObject) async throws -> EmailProvider {
        let reader = try PayloadReader(body, allowed: Self.providerFields)
        guard let name = try reader.string("name").value else { throw UsherError.invalidBody("'Missing required property: name'.") }
        try Self.checkName(name)
        guard let credentials = try reader.object("credentials").value else { throw UsherError.invalidBody("'Missing required property: credentials'.") }
        try Self.checkCredentials(credentials, requirePassword: true)
        let from = try reader.optionalString("default_from_address", maxLength: 320)
        if let from { try Self.validateAddress(from, field: "default_from_address") }
        let now = clock.now
        let provider = EmailProvider(
            name: name, enabled: try reader.bool("enabled").value ?? true, defaultFromAddress: from, credentials: credentials,
            settings: try reader.object("settings", nullable: true).value ?? [:], createdAt: now, updatedAt: now)
        try await store.insertEmailProvider(provider)
        return provider
    }

    public func updateProvider(_ body: JSONObject) async throws -> EmailProvider {
        let reader = try PayloadReader(body, allowed: Self.providerFields)
        var provider = try await provider()
        if let name = try reader.string("name").value {
            try Self.checkName(name)
            provider.name = name
        }
        if let enabled = try reader.bool("enabled").value { provider.enabled = enabled }
        switch try reader.string("default_from_address", maxLength: 320, nullable: true) {
        case .absent: break
        case .null: provider.defaultFromAddress = nil
        case .value(let from):
            try Self.validateAddress(from, field: "default_from_address")
            provider.defaultFromAddress = from
        }
        if let credentials = try reader.object("credentials").value {
            var merged = provider.credentials
            for (key, value) in credentials { merged[key] = value }
            // Auth0: changing where or as whom to log in requires sending the password again.
            let moved = ["smtp_host", "smtp_port", "smtp_user"].contains { credentials[$0] != nil && credentials[$0] != provider.credentials[$0] }
            if moved && credentials["smtp_pass"] == nil {
                throw UsherError.invalidBody("'smtp_pass is required when smtp_host, smtp_port or smtp_user change' on property credentials.")
            }
            try Self.checkCredentials(merged, requirePassword: true)
            provider.credentials = merged
        }
        switch try reader.object("settings", nullable: true) {
        case .absent: break
        case .null: provider.settings = [:]
        case .value(let settings): provider.settings = settings
        }
        provider.updatedAt = clock.now
        try await store.updateEmailProvider(provider)
        return provider
    }

    public func deleteProvider() async throws {
        if try await !store.deleteEmailProvider() { throw UsherError.emailProviderNotFound }
    }

    static func checkName(_ name: String) throws(UsherError) {
        guard EmailProvider.knownNames.contains(name) else {
            throw UsherError.invalidBody("'No enum match for: \"\(name.prefix(40))\"' on property name.")
        }
        guard name == "smtp" else {
            throw UsherError.invalidBody("'Usher delivers mail through SMTP only; use name \"smtp\" with your provider's SMTP credentials' on property name.")
        }
    }

    static func checkCredentials(_ credentials: JSONObject, requirePassword: Bool) throws(UsherError) {
        let allowed: Set<String> = ["smtp_host", "smtp_port", "smtp_user", "smtp_pass"]
        if let unknown = credentials.keys.first(where: { !allowed.contains($0) }) {
            throw UsherError.invalidBody("'Additional properties not allowed: \(unknown.prefix(60))' on property credentials.")
        }
        for key in ["smtp_host", "smtp_user"] + (requirePassword ? ["smtp_pass"] : []) {
            guard let value = credentials[key] else { throw UsherError.invalidBody("'Missing required property: \(key)' on property credentials.") }
            guard case .string(let text) = value, !text.isEmpty, text.count <= 1_024 else {
                throw UsherError.invalidBody(
                    "'Expected type string but found type \(value.jsonString.prefix(1) == "\"" ? "empty string" : "other")' on property credentials.\(key).")
            }
            if key == "smtp_host", text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0 == "/" || $0 == "@" }) {
                throw UsherError.invalidBody("'smtp_host must be a hostname, IPv4 or IPv6 address' on property credentials.smtp_host.")
            }
        }
        guard case .int(let port)? = credentials["smtp_port"] else {
            throw UsherError.invalidBody("'Missing required property: smtp_port (integer)' on property credentials.")
        }
        guard (1...65_535).contains(port) else {
            throw UsherError.invalidBody("'Value \(port) is out of range 1..65535' on property credentials.smtp_port.")
        }
    }
}
