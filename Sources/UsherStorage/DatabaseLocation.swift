import Foundation
import UsherCore

/// Which database to open, parsed from `--database` / `USHER_DATABASE_URL`.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    /// A SQLite file (created with its directory if missing).
    case sqlite(path: String)
    /// A PostgreSQL URL: `postgres://user:pass@host:port/db` (`?sslmode=disable|prefer|require`).
    case postgres(url: String)

    /// Accepts `sqlite:PATH`, `sqlite://PATH`, a bare path, `postgres://…` or `postgresql://…`.
    public init(_ raw: String) throws(UsherError) {
        let value = raw.trimmingCharacters(in: .whitespaces)
        if value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") {
            guard let components = URLComponents(string: value), let host = components.host, !host.isEmpty else {
                throw UsherError(
                    .invalidInput, "database: '\(Self.redacted(value))' is not a valid postgres:// URL (expected postgres://user:password@host:port/database)")
            }
            self = .postgres(url: value)
        } else if value.hasPrefix("sqlite://") {
            self = .sqlite(path: String(value.dropFirst("sqlite://".count)))
        } else if value.hasPrefix("sqlite:") {
            self = .sqlite(path: String(value.dropFirst("sqlite:".count)))
        } else if value.contains("://") {
            throw UsherError(.invalidInput, "database: unsupported scheme in '\(Self.redacted(value))' (use a SQLite path or postgres://…)")
        } else if value.isEmpty {
            throw UsherError(.invalidInput, "database: must not be empty")
        } else {
            self = .sqlite(path: value)
        }
    }

    /// The URL with any password replaced, safe for logs.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): Self.redacted(url)
        }
    }

    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "postgres://***"
    }
}
