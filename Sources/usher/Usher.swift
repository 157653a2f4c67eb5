import ArgumentParser
import Foundation
import Logging
import UsherApp
import UsherCore
import UsherJSON

/// `usher`: the Usher identity server and its operator tools.
@main
struct Usher: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usher",
        abstract: "Usher: a self-hosted, Auth0-compatible identity server.",
        subcommands: Self.allSubcommands,
        defaultSubcommand: ServeCommand.self)

    static func main() async {
        LoggingSystem.bootstrap { label in LineLogHandler(label: label) }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Flags shared by every command that opens the database; each can also come from `USHER_*` or the config file.
struct ServerOptions: ParsableArguments {
    @Option(help: "Address to listen on (USHER_HOST, default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (USHER_PORT, default 8080).") var port: String?
    @Option(name: .customLong("public-url"), help: "URL users reach Usher at; issuer and link base (USHER_PUBLIC_URL, default http://HOST:PORT).")
    var publicURL: String?
    @Option(help: "SQLite path or postgres:// URL (USHER_DATABASE_URL, default ./data/usher.sqlite).") var database: String?
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain for HTTPS (USHER_TLS_CERT).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key for HTTPS (USHER_TLS_KEY).") var tlsKey: String?
    @Option(name: .customLong("trusted-proxies"), help: "Comma-separated proxy addresses/CIDRs whose X-Forwarded-For is trusted (USHER_TRUSTED_PROXIES).")
    var trustedProxies: String?
    @Option(name: .customLong("bcrypt-cost"), help: "bcrypt cost for new password hashes (USHER_BCRYPT_COST, default 10).") var bcryptCost: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (USHER_LOG_LEVEL).") var logLevel: String?
    @Option(name: .customLong("smtp-url"), help: "smtp://user:pass@host:port?tls=starttls; wins over the provider stored through the API (USHER_SMTP_URL).")
    var smtpURL: String?
    @Option(name: .customLong("actions-workers"), help: "Worker processes running post-login Actions in serve (USHER_ACTIONS_WORKERS, default 2).")
    var actionsWorkers: String?
    @Option(name: .customLong("actions-timeout-ms"), help: "Time limit of one login's Actions, ms (USHER_ACTIONS_TIMEOUT_MS, default 5000).")
    var actionsTimeoutMs: String?
    @Option(name: .customLong("actions-memory-mb"), help: "Memory one Actions execution may use, MB (USHER_ACTIONS_MEMORY_MB, default 128).")
    var actionsMemoryMb: String?
    @Option(help: "JSON config file (USHER_CONFIG); flags and environment win over it.") var config: String?

    func load() throws -> UsherConfiguration {
        var flags: [String: String] = [:]
        flags["host"] = host
        flags["port"] = port
        flags["public_url"] = publicURL
        flags["database_url"] = database
        flags["tls_cert"] = tlsCert
        flags["tls_key"] = tlsKey
        flags["trusted_proxies"] = trustedProxies
        flags["bcrypt_cost"] = bcryptCost
        flags["log_level"] = logLevel
        flags["smtp_url"] = smtpURL
        flags["actions_workers"] = actionsWorkers
        flags["actions_timeout_ms"] = actionsTimeoutMs
        flags["actions_memory_mb"] = actionsMemoryMb
        do {
            return try ConfigurationLoader.load(flags: flags, environment: ProcessInfo.processInfo.environment, configFile: config)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
    }

    func logger(_ configuration: UsherConfiguration) -> Logger {
        var logger = Logger(label: "usher")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        return logger
    }

    /// Opens Usher's database for a CLI command and closes it afterwards.
    func withServer<T>(_ body: (UsherServer) async throws -> T) async throws -> T {
        let configuration = try load()
        var logger = logger(configuration)
        if logger.logLevel == .info { logger.logLevel = .warning }  // CLI output stays readable
        let server = try await UsherServer.open(configuration, logger: logger)
        do {
            let result = try await body(server)
            await server.close()
            return result
        } catch {
            await server.close()
            throw error
        }
    }
}

/// Prints a JSON value for `--json` output.
func printJSON(_ value: JSONValue) {
    print(value.jsonString)
}

/// Turns a domain error into a clean CLI failure (message on stderr, exit code 1) instead of a stack dump.
func cliFailure(_ error: any Error) -> any Error {
    if let error = error as? UsherError { return ValidationError(error.message) }
    return error
}
