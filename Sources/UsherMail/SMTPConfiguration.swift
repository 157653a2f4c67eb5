import Foundation
import NIOCore

/// Everything ``SMTPClient`` needs to reach and use one SMTP server.
///
/// Build it in code or parse it from a URL (``init(url:)``), e.g. from an environment variable:
/// `smtp://user:pass@mail.example.com?tls=starttls`, `smtps://user:pass@mail.example.com`,
/// `smtp://localhost:25?tls=off`. Secure by default: STARTTLS required, certificates verified against
/// the system trust store and the host name, AUTH only over TLS. ``description`` never shows the password.
public struct SMTPConfiguration: Sendable, CustomStringConvertible {
    /// How the connection is protected.
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        /// Plain text only; STARTTLS is never attempted. For a local relay or a test sink.
        case off
        /// STARTTLS when the server offers it, plain text otherwise (no protection against an attacker
        /// who strips the STARTTLS offer, but protection against a passive listener).
        case opportunistic
        /// STARTTLS is required: a server that does not offer it is a failure. (`tls=starttls` in URLs.)
        case required
        /// TLS from the first byte ("SMTPS", RFC 8314), normally port 465.
        case implicit

        /// The port used when a URL gives none.
        public var defaultPort: Int {
            switch self {
            case .off, .opportunistic: return 25
            case .required: return 587
            case .implicit: return 465
            }
        }
    }

    /// How the server's certificate is checked.
    public enum CertificateVerification: String, Sendable, Equatable {
        /// The chain must lead to a trusted root and name the host (``SMTPConfiguration/tlsServerName``
        /// or ``SMTPConfiguration/host``). The default.
        case full
        /// The chain must lead to a trusted root; the name is not checked.
        case noHostnameVerification = "no-hostname"
        /// Nothing is checked: any certificate, self-signed or not, is accepted. Encrypts against a
        /// passive listener only. Tests and local development only; must be chosen explicitly.
        case none
    }

    /// A SASL mechanism to authenticate with.
    public enum AuthMechanism: String, Sendable, Equatable {
        /// PLAIN if the server offers it, else LOGIN.
        case automatic = "auto"
        case plain
        case login
    }

    /// User name and password for AUTH; ``description`` hides the password.
    public struct Credentials: Sendable, Equatable, CustomStringConvertible {
        public var username: String
        public var password: String
        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
        public var description: String { "\(username):<redacted>" }
    }

    /// Time limits for each step; every wait on the network has one.
    public struct Timeouts: Sendable, Equatable {
        /// Opening the TCP connection.
        public var connect: TimeAmount
        /// The server's `220` greeting after connecting (and the implicit-TLS handshake).
        public var greeting: TimeAmount
        /// Each command's reply (EHLO, STARTTLS plus handshake, AUTH, RSET, MAIL, RCPT, DATA, QUIT).
        public var command: TimeAmount
        /// The reply after the message data was sent (servers scan content then; RFC 5321 suggests 10 minutes).
        public var dataEnd: TimeAmount

        public init(
            connect: TimeAmount = .seconds(10), greeting: TimeAmount = .seconds(30), command: TimeAmount = .seconds(30),
            dataEnd: TimeAmount = .seconds(120)
        ) {
            self.connect = connect
            self.greeting = greeting
            self.command = command
            self.dataEnd = dataEnd
        }
    }

    /// Connection pooling (see ``SMTPClient``).
    public struct Pool: Sendable, Equatable {
        /// Open connections at most; further senders wait for one to be free.
        public var maximumConnections: Int
        /// Messages sent over one connection before it is closed and replaced (servers limit this too).
        public var maximumMessagesPerConnection: Int
        /// How long an unused connection stays open.
        public var idleTimeout: TimeAmount

        public init(maximumConnections: Int = 4, maximumMessagesPerConnection: Int = 100, idleTimeout: TimeAmount = .seconds(30)) {
            self.maximumConnections = max(1, maximumConnections)
            self.maximumMessagesPerConnection = max(1, maximumMessagesPerConnection)
            self.idleTimeout = idleTimeout
        }
    }

    /// The server's host name or IP address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// How the connection is protected.
    public var tls: TLSMode
    /// Credentials for AUTH, or nil to send without authenticating.
    public var credentials: Credentials?
    /// The SASL mechanism.
    public var authMechanism: AuthMechanism
    /// Allows AUTH over an unencrypted connection. Off by default: credentials are never sent in the
    /// clear unless this is set explicitly.
    public var allowInsecureAuthentication: Bool
    /// PEM file with the CA certificate(s) to trust instead of the system's roots (a private CA, or the
    /// test server's self-signed certificate).
    public var trustedCAFile: String?
    /// How the server's certificate is checked.
    public var certificateVerification: CertificateVerification
    /// The name to verify the certificate against and to send in SNI; defaults to ``host``.
    public var tlsServerName: String?
    /// The name this client announces in EHLO/HELO (should be its fully qualified domain name).
    public var heloName: String
    /// Time limits.
    public var timeouts: Timeouts
    /// Connection pooling.
    public var pool: Pool

    public init(
        host: String,
        port: Int? = nil,
        tls: TLSMode = .required,
        credentials: Credentials? = nil,
        authMechanism: AuthMechanism = .automatic,
        allowInsecureAuthentication: Bool = false,
        trustedCAFile: String? = nil,
        certificateVerification: CertificateVerification = .full,
        tlsServerName: String? = nil,
        heloName: String? = nil,
        timeouts: Timeouts = Timeouts(),
        pool: Pool = Pool()
    ) {
        self.host = host
        self.port = port ?? tls.defaultPort
        self.tls = tls
        self.credentials = credentials
        self.authMechanism = authMechanism
        self.allowInsecureAuthentication = allowInsecureAuthentication
        self.trustedCAFile = trustedCAFile
        self.certificateVerification = certificateVerification
        self.tlsServerName = tlsServerName
        self.heloName = heloName ?? Self.defaultHeloName()
        self.timeouts = timeouts
        self.pool = pool
    }

    /// This machine's host name if it looks like a domain name, else `localhost`.
    static func defaultHeloName() -> String {
        let name = ProcessInfo.processInfo.hostName
        let valid =
            !name.isEmpty && name.utf8.count <= 253
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E }
        return valid ? name : "localhost"
    }

    public var description: String {
        var parts = ["\(tls == .implicit ? "smtps" : "smtp")://"]
        if let credentials { parts.append("\(credentials.username):<redacted>@") }
        parts.append(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        parts.append("?tls=\(tls.rawValue)")
        if certificateVerification != .full { parts.append("&tls_verify=\(certificateVerification.rawValue)") }
        if allowInsecureAuthentication { parts.append("&allow_insecure_auth=true") }
        return parts.joined()
    }
}

/// Why an SMTP URL could not be parsed; ``description`` names the offending part.
public struct SMTPConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. `unknown tls mode 'ssl' (expected off, opportunistic, starttls, required or implicit)`.
    public let reason: String
    public var description: String { "invalid SMTP URL: \(reason)" }
}

extension SMTPConfiguration {
    /// Parses `smtp://[user[:password]@]host[:port][?options]` or `smtps://…`.
    ///
    /// - `smtps://` means implicit TLS (default port 465); `smtp://` means STARTTLS required (default
    ///   port 587) unless `tls=` says otherwise (`off` and `opportunistic` default to port 25).
    /// - User and password are percent-decoded (`%40` for `@`, `%3A` for `:`, UTF-8 allowed).
    /// - IPv6 hosts go in brackets: `smtp://[::1]:2525?tls=off`.
    /// - Options: `tls=off|opportunistic|starttls|required|implicit`, `auth=auto|plain|login`,
    ///   `allow_insecure_auth=true|false`, `tls_verify=full|no-hostname|none`, `ca_file=PATH`,
    ///   `tls_server_name=NAME`, `helo=NAME`, `pool=N`, `max_messages_per_connection=N`,
    ///   `timeout=SECONDS` (each command), `connect_timeout=SECONDS`, `data_timeout=SECONDS`,
    ///   `idle_timeout=SECONDS`. Unknown options are an error, so a typo cannot silently weaken security.
    public init(url: String) throws(SMTPConfigurationError) {
        func fail(_ reason: String) -> SMTPConfigurationError { SMTPConfigurationError(reason: reason) }
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        guard let schemeEnd = trimmed.range(of: "://") else {
            throw fail("expected smtp://… or smtps://…, got \(HeaderText.excerpt(SMTPConfiguration.redacted(trimmed)))")
        }
        let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "smtp" || scheme == "smtps" else {
            throw fail("unsupported scheme '\(scheme)' (expected smtp or smtps)")
        }
        var rest = Substring(trimmed[schemeEnd.upperBound...])
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }

        var credentials: Credentials?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let user: Substring
            let password: Substring
            if let colon = userinfo.firstIndex(of: ":") {
                user = userinfo[..<colon]
                password = userinfo[userinfo.index(after: colon)...]
            } else {
                user = userinfo
                password = ""
            }
            let decodedUser = try Self.percentDecode(user, what: "user name")
            let decodedPassword = try Self.percentDecode(password, what: "password")
            guard !decodedUser.isEmpty else { throw fail("the user name before '@' is empty") }
            credentials = Credentials(username: decodedUser, password: decodedPassword)
        }

        guard !rest.contains("/") else {
            throw fail("unexpected path after the host (options go after '?'; a '/' in the password must be written %2F)")
        }
        var host: String
        var port: Int?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("IPv6 host is missing its closing ']'") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected '\(after)' after the IPv6 host") }
                port = try Self.parsePort(after.dropFirst())
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            port = try Self.parsePort(rest[rest.index(after: colon)...])
        } else {
            host = String(rest)
        }
        host = (try? Self.percentDecode(host[...], what: "host")) ?? host
        guard !host.isEmpty else { throw fail("the host is missing") }
        guard host.unicodeScalars.allSatisfy({ !HeaderText.isForbiddenControl($0) && $0 != " " && $0 != "\t" }) else {
            throw fail("the host contains spaces or control characters")
        }

        var options: [String: String] = [:]
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let key: String
            let value: String
            if let eq = pair.firstIndex(of: "=") {
                key = try Self.percentDecode(pair[..<eq], what: "option name").lowercased()
                value = try Self.percentDecode(pair[pair.index(after: eq)...], what: "option '\(pair[..<eq])'")
            } else {
                key = try Self.percentDecode(pair, what: "option name").lowercased()
                value = "true"
            }
            guard options[key] == nil else { throw fail("option '\(key)' is given twice") }
            options[key] = value
        }

        var tls: TLSMode = scheme == "smtps" ? .implicit : .required
        if let value = options.removeValue(forKey: "tls") {
            let mode: TLSMode
            switch value.lowercased() {
            case "off", "none", "false": mode = .off
            case "opportunistic": mode = .opportunistic
            case "starttls", "required", "true": mode = .required
            case "implicit", "ssl", "smtps": mode = .implicit
            default:
                throw fail("unknown tls mode '\(value)' (expected off, opportunistic, starttls, required or implicit)")
            }
            if scheme == "smtps" && mode != .implicit {
                throw fail("smtps:// means implicit TLS; tls=\(value) contradicts it (use smtp:// for STARTTLS or plain)")
            }
            tls = mode
        }

        self.init(host: host, port: port, tls: tls, credentials: credentials)

        func bool(_ key: String) throws(SMTPConfigurationError) -> Bool? {
            guard let value = options.removeValue(forKey: key) else { return nil }
            switch value.lowercased() {
            case "true", "1", "yes", "on": return true
            case "false", "0", "no", "off": return false
            default: throw fail("option '\(key)' must be true or false, got '\(value)'")
            }
        }
        func seconds(_ key: String) throws(SMTPConfigurationError) -> TimeAmount? {
            guard let value = options.removeValue(forKey: key) else { return nil }
            guard let s = Double(value), s > 0, s < 86_400 else {
                throw fail("option '\(key)' must be a number of seconds between 0 and 86400, got '\(value)'")
            }
            return .milliseconds(Int64(s * 1000))
        }
        func count(_ key: String) throws(SMTPConfigurationError) -> Int? {
            guard let value = options.removeValue(forKey: key) else { return nil }
            guard let n = Int(value), n >= 1, n <= 10_000 else {
                throw fail("option '\(key)' must be a whole number from 1 to 10000, got '\(value)'")
            }
            return n
        }

        if let value = options.removeValue(forKey: "auth") {
            guard let mechanism = AuthMechanism(rawValue: value.lowercased()) else {
                throw fail("unknown auth mechanism '\(value)' (expected auto, plain or login)")
            }
            self.authMechanism = mechanism
        }
        if let allow = try bool("allow_insecure_auth") { self.allowInsecureAuthentication = allow }
        if let value = options.removeValue(forKey: "tls_verify") {
            guard let verification = CertificateVerification(rawValue: value.lowercased()) else {
                throw fail("unknown tls_verify '\(value)' (expected full, no-hostname or none)")
            }
            self.certificateVerification = verification
        }
        if let value = options.removeValue(forKey: "ca_file") {
            guard !value.isEmpty else { throw fail("option 'ca_file' is empty") }
            self.trustedCAFile = value
        }
        if let value = options.removeValue(forKey: "tls_server_name") { self.tlsServerName = value }
        if let value = options.removeValue(forKey: "helo") {
            guard !value.isEmpty, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw fail("option 'helo' must be a host name (printable ASCII, no spaces)")
            }
            self.heloName = value
        }
        if let n = try count("pool") { self.pool.maximumConnections = n }
        if let n = try count("max_messages_per_connection") { self.pool.maximumMessagesPerConnection = n }
        if let t = try seconds("timeout") { self.timeouts.command = t }
        if let t = try seconds("connect_timeout") { self.timeouts.connect = t }
        if let t = try seconds("data_timeout") { self.timeouts.dataEnd = t }
        if let t = try seconds("idle_timeout") { self.pool.idleTimeout = t }
        if let unknown = options.keys.sorted().first {
            throw fail(
                "unknown option '\(unknown)' (known: tls, auth, allow_insecure_auth, tls_verify, ca_file, tls_server_name, helo, pool, max_messages_per_connection, timeout, connect_timeout, data_timeout, idle_timeout)"
            )
        }
    }

    private static func parsePort(_ text: Substring) throws(SMTPConfigurationError) -> Int {
        guard !text.isEmpty else { throw SMTPConfigurationError(reason: "the port after ':' is empty") }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(text), (1...65_535).contains(port) else {
            throw SMTPConfigurationError(reason: "invalid port '\(text)' (expected a number from 1 to 65535)")
        }
        return port
    }

    /// Percent-decodes a URL component as UTF-8; `+` stays `+`.
    static func percentDecode(_ text: Substring, what: String) throws(SMTPConfigurationError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let b = iterator.popFirst() {
            guard b == UInt8(ascii: "%") else {
                bytes.append(b)
                continue
            }
            guard let h = iterator.popFirst(), let l = iterator.popFirst(),
                let value = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)
            else {
                throw SMTPConfigurationError(reason: "the \(what) has an invalid percent-escape (expected %XX with two hex digits)")
            }
            bytes.append(value)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw SMTPConfigurationError(reason: "the \(what) is not valid UTF-8 after percent-decoding")
        }
        return decoded
    }

    /// The URL with any password replaced, for error messages.
    static func redacted(_ url: String) -> String {
        let start = url.range(of: "://")?.upperBound ?? url.startIndex
        guard let at = url[start...].lastIndex(of: "@") else { return url }
        let userinfo = url[start..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":<redacted>" + String(url[at...])
    }
}
