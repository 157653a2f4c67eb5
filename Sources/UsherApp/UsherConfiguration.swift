import Foundation
import UsherCore
import UsherHTTP
import UsherJSON
import UsherMail
import UsherStorage

/// Whether Usher may fall back to the development mailbox (`development`) or must have a real provider (`production`).
public enum UsherEnvironment: String, Sendable, CaseIterable {
    case development, production
}

/// Everything `usher serve` can be told, after merging flags, environment and config file.
public struct UsherConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Base URL the world uses to reach Usher: token issuer and every emailed link. Never taken from `Host`.
    public var publicURL = "http://127.0.0.1:8080"
    public var database = DatabaseLocation.sqlite(path: "./data/usher.sqlite")
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    public var trustedProxies = TrustedProxies.none
    public var bcryptCost = 10
    public var bootstrapClientID: String?
    public var bootstrapClientSecret: String?
    /// The first dashboard administrator (`USHER_BOOTSTRAP_ADMIN_EMAIL`/`_PASSWORD`), created at start if absent.
    public var bootstrapAdminEmail: String?
    public var bootstrapAdminPassword: String?
    public var logLevel = "info"
    /// `smtp://user:pass@host:port?…` (see `SMTPConfiguration(url:)`); wins over the provider stored through the API.
    /// Holds a password: never log it.
    public var smtpURL: String?
    /// PEM file of a private CA trusted (besides the system roots) for the SMTP server of the provider stored
    /// through the Management API; `USHER_SMTP_URL` takes `ca_file=` instead.
    public var smtpCAFile: String?
    public var environment = UsherEnvironment.development
    /// Sender when neither the message nor the provider names one; default `no-reply@<public host>`.
    public var mailFrom: String?
    /// Courier pacing (`USHER_MAIL_POLL_INTERVAL_MS`, `USHER_MAIL_BACKOFF_BASE_MS`, `USHER_MAIL_LEASE_MS`,
    /// `USHER_MAIL_MAX_ATTEMPTS`, `USHER_MAIL_BATCH_SIZE`, `USHER_MAIL_ABANDON_AFTER_HOURS`); tests shorten it.
    public var courier = CourierSettings()
    /// `/dbconnections/change_password` limit per client IP + email: `burst` requests, then one per `refill` seconds.
    public var changePasswordBurst = 10
    public var changePasswordRefillSeconds: TimeInterval = 60
    /// Reset emails one mailbox may be sent, whoever asks: `burst`, then one per `refill` seconds. Over it the email
    /// is dropped (logged), not refused, since a 429 keyed on the address alone would let anyone block someone's
    /// resets. nil follows the change-password limit (`resetMailLimit`).
    public var resetMailBurst: Int?
    public var resetMailRefillSeconds: TimeInterval?
    /// Accepted `change_password` requests waiting for the worker; a full queue answers 429.
    public var resetQueueCapacity = 10_000
    /// How long a worker holds the accepted requests it wrote or claimed: what a crashed instance's requests wait
    /// before another instance (or its restart) processes them.
    public var intakeLeaseSeconds = 30
    /// An invitation's link lifetime when its `ttl_sec` is 0 (Auth0: 7 days); at most 30 days.
    public var invitationLifetimeSeconds = Invitation.defaultLifetime
    /// Send `user_invitation_reminder` this long before a pending invitation expires; nil sends no reminders.
    public var invitationReminderSeconds: Int?
    /// How often an instance looks for reminders due and lapsed invitations to log.
    public var invitationClockSeconds = 60
    /// The key that seals outbox bodies (base64 of 32 bytes; `USHER_OUTBOX_KEY`). Holds a secret: never log it.
    /// Without it the key is read from (or created in) `outboxKeyFile`.
    public var outboxKey: String?
    /// Earlier keys, comma-separated base64 (`USHER_OUTBOX_PREVIOUS_KEYS`): they open what they sealed, during a
    /// rotation. Secret as well.
    public var outboxPreviousKeys: [String] = []
    /// Where the outbox key lives when `outboxKey` is not given (`USHER_OUTBOX_KEY_FILE`); default `outbox.key`
    /// beside the SQLite file, or in the working directory with PostgreSQL. Created 0600 at first start.
    public var outboxKeyFile: String?
    /// How long an expired ticket is kept, so its link still shows the "expired" page, and how often they are swept.
    public var ticketRetentionHours = 168
    public var ticketSweepIntervalSeconds = 3_600
    /// `/dbconnections/signup` limit per client IP: `signupBurst` requests, then one per `signupRefillMilliseconds`.
    public var signupBurst = 50
    public var signupRefillMilliseconds = 1_200
    /// Failed logins per identifier and IP before that pair is blocked (Auth0's brute-force protection).
    public var bruteForceThreshold = 10
    /// Tokens, codes and hosted-login sessions (`access_token_lifetime_seconds`, …); Auth0's defaults.
    public var loginLifetimes = LoginService.Lifetimes()
    /// Management API tokens from the client-credentials grant.
    public var managementTokenLifetimeSeconds = MachineTokenService.defaultTokenLifetime
    /// The tenant's raw name (`{{ tenant }}` in email templates).
    public var tenantName = "usher"
    /// Post-login Actions: worker processes `usher serve` runs, and the limits of one login's execution.
    public var actionsWorkers = 2
    public var actionsTimeoutMilliseconds = 5_000
    public var actionsMemoryMegabytes = 128
    /// The hard memory bound of one worker process; nil keeps it well above the per-execution budget
    /// (`actionsWorkerMemoryLimitBytes`), since JavaScriptCore's own heap counts against it.
    public var actionsWorkerMemoryMegabytes: Int?

    public init() {}

    /// The per-mailbox reset limit in effect: by default at least 20 emails in a burst and at most one per 3 minutes
    /// after it, however loose or tight the per-request limit is.
    public var resetMailLimit: (burst: Int, refillSeconds: TimeInterval) {
        (resetMailBurst ?? max(20, changePasswordBurst), resetMailRefillSeconds ?? min(180, changePasswordRefillSeconds * 3))
    }

    /// The host of `publicURL`: the right-hand side of Message-IDs and of the default sender.
    public var publicHost: String { URLComponents(string: publicURL)?.host ?? "localhost" }

    /// The sender used when neither a message nor the provider names one.
    public var fallbackFrom: String { mailFrom ?? "no-reply@" + publicHost }

    /// `actionsWorkerMemoryMegabytes` in bytes, or its default: four times the per-execution budget, at least 512 MiB.
    public var actionsWorkerMemoryLimitBytes: Int {
        actionsWorkerMemoryMegabytes.map { $0 << 20 } ?? max(512 << 20, (actionsMemoryMegabytes << 20) * 4)
    }
}

/// A configuration value that cannot be used; the message names the key and how to set it.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Merges the sources of configuration: command-line flags win over `USHER_*` environment variables, which win
/// over the optional JSON config file, which wins over defaults.
public struct ConfigurationLoader: Sendable {
    /// Keys as written in the config file; the environment variable is `USHER_` + upper case; the flag is `--key-with-dashes`.
    public static let keys = [
        "host", "port", "public_url", "database_url", "tls_cert", "tls_key", "trusted_proxies", "bcrypt_cost",
        "bootstrap_client_id", "bootstrap_client_secret", "bootstrap_admin_email", "bootstrap_admin_password", "log_level",
        "smtp_url", "environment", "mail_from", "mail_poll_interval_ms", "mail_backoff_base_ms", "mail_lease_ms", "mail_max_attempts",
        "change_password_burst", "change_password_refill_seconds", "tenant_name", "smtp_ca_file",
        "actions_workers", "actions_timeout_ms", "actions_memory_mb", "actions_worker_memory_mb",
        "reset_mail_burst", "reset_mail_refill_seconds", "reset_queue_capacity", "intake_lease_seconds", "outbox_key",
        "outbox_previous_keys", "outbox_key_file", "ticket_retention_hours",
        "ticket_sweep_interval_seconds",
        "signup_burst", "signup_refill_ms", "brute_force_threshold", "mail_batch_size", "mail_abandon_after_hours",
        "access_token_lifetime_seconds", "id_token_lifetime_seconds", "authorization_code_lifetime_seconds", "refresh_token_lifetime_seconds",
        "session_lifetime_hours", "session_idle_lifetime_hours", "management_token_lifetime_seconds",
    ]

    public static func environmentName(_ key: String) -> String { "USHER_" + key.uppercased() }
    public static func flagName(_ key: String) -> String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    /// Builds the configuration. `flags` holds only the flags actually given, by config key.
    public static func load(flags: [String: String], environment: [String: String], configFile: String?) throws -> UsherConfiguration {
        var file: [String: String] = [:]
        if let path = configFile ?? environment["USHER_CONFIG"] {
            file = try readFile(path)
        }
        func value(_ key: String) -> (String, String)? {
            if let v = flags[key] { return (v, flagName(key)) }
            // `--database` is the documented flag for `database_url`.
            if key == "database_url", let v = flags["database"] { return (v, "--database") }
            if let v = environment[environmentName(key)] { return (v, environmentName(key)) }
            if let v = file[key] { return (v, "\(key) in \(configFile ?? environment["USHER_CONFIG"] ?? "config file")") }
            return nil
        }
        func fail(_ source: String, _ problem: String) -> ConfigurationError {
            ConfigurationError(description: "Invalid configuration \(source): \(problem)")
        }

        var config = UsherConfiguration()
        if let (v, source) = value("host") {
            guard !v.isEmpty, !v.contains(" ") else { throw fail(source, "'\(v)' is not a host name or address") }
            config.host = v
        }
        if let (v, source) = value("port") {
            guard let port = Int(v), (1...65_535).contains(port) else { throw fail(source, "'\(v)' is not a port number (1-65535)") }
            config.port = port
        }
        if let (v, source) = value("public_url") {
            guard let url = URLComponents(string: v), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil
            else {
                throw fail(source, "'\(v)' is not an absolute http(s) URL without query or fragment")
            }
            config.publicURL = v.hasSuffix("/") ? String(v.dropLast()) : v
        } else {
            let scheme = value("tls_cert") != nil ? "https" : "http"
            let host = config.host.contains(":") ? "[\(config.host)]" : config.host
            config.publicURL = "\(scheme)://\(host):\(config.port)"
        }
        if let (v, source) = value("database_url") {
            do { config.database = try DatabaseLocation(v) } catch { throw fail(source, error.message) }
        }
        let cert = value("tls_cert")
        let key = value("tls_key")
        if (cert == nil) != (key == nil) {
            throw fail((cert ?? key)!.1, "--tls-cert and --tls-key must be given together")
        }
        if let (certPath, certSource) = cert, let (keyPath, keySource) = key {
            guard FileManager.default.isReadableFile(atPath: certPath) else { throw fail(certSource, "cannot read certificate file '\(certPath)'") }
            guard FileManager.default.isReadableFile(atPath: keyPath) else { throw fail(keySource, "cannot read key file '\(keyPath)'") }
            config.tlsCertificatePath = certPath
            config.tlsKeyPath = keyPath
        }
        if let (v, source) = value("trusted_proxies") {
            do { config.trustedProxies = try TrustedProxies(v) } catch { throw fail(source, error.message) }
        }
        if let (v, source) = value("bcrypt_cost") {
            guard let cost = Int(v), (4...31).contains(cost) else { throw fail(source, "'\(v)' is not a bcrypt cost (4-31)") }
            config.bcryptCost = cost
        }
        if let (v, source) = value("log_level") {
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(v) else { throw fail(source, "'\(v)' is not one of \(levels.joined(separator: ", "))") }
            config.logLevel = v
        }
        let id = value("bootstrap_client_id")
        let secret = value("bootstrap_client_secret")
        if (id == nil) != (secret == nil) {
            throw fail((id ?? secret)!.1, "USHER_BOOTSTRAP_CLIENT_ID and USHER_BOOTSTRAP_CLIENT_SECRET must be set together")
        }
        if let (secretValue, source) = secret, secretValue.count < 16 {
            throw fail(source, "the bootstrap client secret must be at least 16 characters")
        }
        config.bootstrapClientID = id?.0
        config.bootstrapClientSecret = secret?.0
        let adminEmail = value("bootstrap_admin_email")
        let adminPassword = value("bootstrap_admin_password")
        if (adminEmail == nil) != (adminPassword == nil) {
            throw fail((adminEmail ?? adminPassword)!.1, "USHER_BOOTSTRAP_ADMIN_EMAIL and USHER_BOOTSTRAP_ADMIN_PASSWORD must be set together")
        }
        if let (email, source) = adminEmail, !UserValidation.isPlausibleEmail(email.lowercased()) {
            throw fail(source, "'\(email)' is not an email address")
        }
        if let (password, source) = adminPassword, password.count < AdminService.minimumPasswordLength || password.utf8.count > 72 {
            throw fail(source, "the bootstrap administrator's password must be \(AdminService.minimumPasswordLength) to 72 characters")
        }
        config.bootstrapAdminEmail = adminEmail?.0
        config.bootstrapAdminPassword = adminPassword?.0
        if let (v, source) = value("smtp_url") {
            // The parser's messages name the faulty part, never the password.
            do { _ = try SMTPConfiguration(url: v) } catch { throw fail(source, error.description) }
            config.smtpURL = v
        }
        if let (v, source) = value("environment") {
            guard let environment = UsherEnvironment(rawValue: v) else { throw fail(source, "'\(v)' is not production or development") }
            config.environment = environment
        }
        if let (v, source) = value("mail_from") {
            guard v.contains("@"), !v.contains(where: \.isNewline) else { throw fail(source, "'\(v)' is not an email address") }
            config.mailFrom = v
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let (v, source) = value(key) else { return nil }
            guard let n = Int(v), range.contains(n) else { throw fail(source, "'\(v)' is not a number in \(range.lowerBound)...\(range.upperBound)") }
            return n
        }
        if let ms = try integer("mail_poll_interval_ms", 1...3_600_000) { config.courier.pollInterval = .milliseconds(ms) }
        if let ms = try integer("mail_backoff_base_ms", 1...86_400_000) {
            config.courier.backoffBase = Double(ms) / 1000
            config.courier.backoffMax = max(config.courier.backoffBase, min(config.courier.backoffMax, config.courier.backoffBase * 128))
        }
        if let ms = try integer("mail_lease_ms", 100...86_400_000) { config.courier.leaseDuration = Double(ms) / 1000 }
        if let n = try integer("mail_max_attempts", 1...1_000) { config.courier.maxAttempts = n }
        if let n = try integer("change_password_burst", 1...1_000_000_000) { config.changePasswordBurst = n }
        if let n = try integer("change_password_refill_seconds", 1...86_400) { config.changePasswordRefillSeconds = TimeInterval(n) }
        if let (v, _) = value("outbox_key") { config.outboxKey = v }
        if let (v, _) = value("outbox_previous_keys") {
            config.outboxPreviousKeys = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let (v, _) = value("outbox_key_file") { config.outboxKeyFile = v }
        if let (v, source) = value("smtp_ca_file") {
            guard FileManager.default.isReadableFile(atPath: v) else { throw fail(source, "cannot read CA file '\(v)'") }
            config.smtpCAFile = v
        }
        if let (v, source) = value("tenant_name") {
            guard !v.isEmpty, v.count <= 64, !v.contains(where: \.isNewline) else { throw fail(source, "'\(v)' is not a tenant name (1-64 characters)") }
            config.tenantName = v
        }
        if let n = try integer("actions_workers", 1...64) { config.actionsWorkers = n }
        if let n = try integer("actions_timeout_ms", 10...600_000) { config.actionsTimeoutMilliseconds = n }
        if let n = try integer("actions_memory_mb", 8...16_384) { config.actionsMemoryMegabytes = n }
        if let n = try integer("actions_worker_memory_mb", 64...65_536) { config.actionsWorkerMemoryMegabytes = n }
        if let n = try integer("reset_mail_burst", 1...1_000_000_000) { config.resetMailBurst = n }
        if let n = try integer("reset_mail_refill_seconds", 1...86_400) { config.resetMailRefillSeconds = TimeInterval(n) }
        if let n = try integer("reset_queue_capacity", 1...10_000_000) { config.resetQueueCapacity = n }
        if let n = try integer("intake_lease_seconds", 1...3_600) { config.intakeLeaseSeconds = n }
        if let n = try integer("invitation_lifetime_seconds", 60...Invitation.maximumLifetime) { config.invitationLifetimeSeconds = n }
        if let n = try integer("invitation_reminder_seconds", 0...Invitation.maximumLifetime) { config.invitationReminderSeconds = n == 0 ? nil : n }
        if let n = try integer("invitation_clock_seconds", 1...3_600) { config.invitationClockSeconds = n }
        if let n = try integer("ticket_retention_hours", 0...87_600) { config.ticketRetentionHours = n }
        if let n = try integer("ticket_sweep_interval_seconds", 1...86_400) { config.ticketSweepIntervalSeconds = n }
        if let n = try integer("signup_burst", 1...1_000_000_000) { config.signupBurst = n }
        if let n = try integer("signup_refill_ms", 1...86_400_000) { config.signupRefillMilliseconds = n }
        if let n = try integer("brute_force_threshold", 1...1_000) { config.bruteForceThreshold = n }
        if let n = try integer("mail_batch_size", 1...10_000) { config.courier.batchSize = n }
        if let n = try integer("mail_abandon_after_hours", 1...8_760) { config.courier.abandonAfter = TimeInterval(n) * 3_600 }
        if let n = try integer("access_token_lifetime_seconds", 60...2_592_000) { config.loginLifetimes.accessToken = n }
        if let n = try integer("id_token_lifetime_seconds", 60...2_592_000) { config.loginLifetimes.idToken = n }
        if let n = try integer("authorization_code_lifetime_seconds", 10...600) { config.loginLifetimes.authorizationCode = TimeInterval(n) }
        if let n = try integer("refresh_token_lifetime_seconds", 60...31_536_000) { config.loginLifetimes.refreshToken = TimeInterval(n) }
        if let n = try integer("session_lifetime_hours", 1...8_760) { config.loginLifetimes.session = TimeInterval(n) * 3_600 }
        if let n = try integer("session_idle_lifetime_hours", 1...8_760) { config.loginLifetimes.sessionIdle = TimeInterval(n) * 3_600 }
        if let n = try integer("management_token_lifetime_seconds", 60...2_592_000) { config.managementTokenLifetimeSeconds = n }
        return config
    }

    static func readFile(_ path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(description: "Invalid configuration: cannot read config file '\(path)'")
        }
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(Array(data)) } catch {
            throw ConfigurationError(description: "Invalid configuration: config file '\(path)' is not valid JSON (\(error))")
        }
        guard case .object(let object) = parsed else {
            throw ConfigurationError(description: "Invalid configuration: config file '\(path)' must hold a JSON object")
        }
        var result: [String: String] = [:]
        for (key, value) in object {
            guard keys.contains(key) else {
                throw ConfigurationError(
                    description: "Invalid configuration: unknown key '\(key)' in config file '\(path)' (known: \(keys.joined(separator: ", ")))")
            }
            switch value {
            case .string(let s): result[key] = s
            case .int(let i): result[key] = String(i)
            case .bool(let b): result[key] = String(b)
            default: throw ConfigurationError(description: "Invalid configuration: '\(key)' in config file '\(path)' must be a string or number")
            }
        }
        return result
    }
}
