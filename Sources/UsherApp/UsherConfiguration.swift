import Foundation
import UsherCore
import UsherHTTP
import UsherMail
import UsherStorage
import UsherJSON

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
    /// Courier pacing; `USHER_MAIL_POLL_INTERVAL_MS`, `USHER_MAIL_BACKOFF_BASE_MS`, `USHER_MAIL_LEASE_MS`,
    /// `USHER_MAIL_MAX_ATTEMPTS` shorten it for tests.
    public var courier = CourierSettings()
    /// `/dbconnections/change_password` limit per client IP + email: `burst` requests, then one per `refill` seconds.
    public var changePasswordBurst = 10
    public var changePasswordRefillSeconds: TimeInterval = 60
    /// The tenant's raw name (`{{ tenant }}` in email templates).
    public var tenantName = "usher"
    /// Post-login Actions: worker processes `usher serve` runs, and the limits of one login's execution.
    public var actionsWorkers = 2
    public var actionsTimeoutMilliseconds = 5_000
    public var actionsMemoryMegabytes = 128

    public init() {}
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
        "bootstrap_client_id", "bootstrap_client_secret", "log_level",
        "smtp_url", "environment", "mail_from", "mail_poll_interval_ms", "mail_backoff_base_ms", "mail_lease_ms", "mail_max_attempts",
        "change_password_burst", "change_password_refill_seconds", "tenant_name", "smtp_ca_file",
        "actions_workers", "actions_timeout_ms", "actions_memory_mb",
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
        let cert = value("tls_cert"), key = value("tls_key")
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
        let id = value("bootstrap_client_id"), secret = value("bootstrap_client_secret")
        if (id == nil) != (secret == nil) {
            throw fail((id ?? secret)!.1, "USHER_BOOTSTRAP_CLIENT_ID and USHER_BOOTSTRAP_CLIENT_SECRET must be set together")
        }
        if let (secretValue, source) = secret, secretValue.count < 16 {
            throw fail(source, "the bootstrap client secret must be at least 16 characters")
        }
        config.bootstrapClientID = id?.0
        config.bootstrapClientSecret = secret?.0
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
        func milliseconds(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let (v, source) = value(key) else { return nil }
            guard let n = Int(v), range.contains(n) else { throw fail(source, "'\(v)' is not a number in \(range.lowerBound)...\(range.upperBound)") }
            return n
        }
        if let ms = try milliseconds("mail_poll_interval_ms", 1...3_600_000) { config.courier.pollInterval = .milliseconds(ms) }
        if let ms = try milliseconds("mail_backoff_base_ms", 1...86_400_000) {
            config.courier.backoffBase = Double(ms) / 1000
            config.courier.backoffMax = max(config.courier.backoffBase, min(config.courier.backoffMax, config.courier.backoffBase * 128))
        }
        if let ms = try milliseconds("mail_lease_ms", 100...86_400_000) { config.courier.leaseDuration = Double(ms) / 1000 }
        if let n = try milliseconds("mail_max_attempts", 1...1_000) { config.courier.maxAttempts = n }
        if let n = try milliseconds("change_password_burst", 1...1_000_000_000) { config.changePasswordBurst = n }
        if let n = try milliseconds("change_password_refill_seconds", 1...86_400) { config.changePasswordRefillSeconds = TimeInterval(n) }
        if let (v, source) = value("smtp_ca_file") {
            guard FileManager.default.isReadableFile(atPath: v) else { throw fail(source, "cannot read CA file '\(v)'") }
            config.smtpCAFile = v
        }
        if let (v, source) = value("tenant_name") {
            guard !v.isEmpty, v.count <= 64, !v.contains(where: \.isNewline) else { throw fail(source, "'\(v)' is not a tenant name (1-64 characters)") }
            config.tenantName = v
        }
        if let n = try milliseconds("actions_workers", 1...64) { config.actionsWorkers = n }
        if let n = try milliseconds("actions_timeout_ms", 10...600_000) { config.actionsTimeoutMilliseconds = n }
        if let n = try milliseconds("actions_memory_mb", 8...16_384) { config.actionsMemoryMegabytes = n }
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
                throw ConfigurationError(description: "Invalid configuration: unknown key '\(key)' in config file '\(path)' (known: \(keys.joined(separator: ", ")))")
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
