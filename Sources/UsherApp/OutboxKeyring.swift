import Foundation
import Logging
import UsherCore
import UsherStorage

/// Finds the key that seals outbox bodies: the configured one, or a key file kept outside the database and
/// created (0600) at first start.
///
/// The key must not live in the database: whoever has a copy of it (a backup, a replica) would otherwise hold the
/// links in every undelivered invitation. Instances sharing one PostgreSQL must share one key (`USHER_OUTBOX_KEY`);
/// a message sealed with a key an instance lacks is retried, never sent garbled.
enum OutboxKeyring {
    static func seal(for configuration: UsherConfiguration, logger: Logger) throws -> OutboxBodySeal {
        let previous = try configuration.outboxPreviousKeys.map { try decode($0, source: "USHER_OUTBOX_PREVIOUS_KEYS") }
        let current: Data
        if let key = configuration.outboxKey {
            current = try decode(key, source: "USHER_OUTBOX_KEY")
        } else if case .postgres = configuration.database, configuration.outboxKeyFile == nil {
            // Every instance and CLI command on one PostgreSQL must seal with the same key; a key file made
            // implicitly in each one's working directory would differ, and their mail would be unreadable to the others.
            throw ConfigurationError(
                description:
                    "With PostgreSQL, set USHER_OUTBOX_KEY (the same on every instance and CLI command; make one with `openssl rand -base64 32`) or USHER_OUTBOX_KEY_FILE: it seals queued email bodies, which hold live links"
            )
        } else {
            current = try readOrCreate(keyFilePath(configuration), logger: logger)
        }
        do {
            return try OutboxBodySeal(currentKey: current, previousKeys: previous)
        } catch {
            throw ConfigurationError(description: "Invalid outbox key: \(error.message)")
        }
    }

    static func keyFilePath(_ configuration: UsherConfiguration) -> String {
        if let path = configuration.outboxKeyFile { return path }
        if case .sqlite(let path) = configuration.database, path != ":memory:" {
            return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("outbox.key").path
        }
        return "outbox.key"  // an in-memory SQLite database: the key dies with it, wherever it is kept
    }

    static func decode(_ base64: String, source: String) throws -> Data {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
            throw ConfigurationError(
                description:
                    "Invalid configuration \(source): an outbox key is 32 random bytes in base64 (44 characters); make one with `openssl rand -base64 32`")
        }
        return data
    }

    static func readOrCreate(_ path: String, logger: Logger) throws -> Data {
        if let contents = FileManager.default.contents(atPath: path) {
            return try decode(String(decoding: contents, as: UTF8.self), source: "in the key file \(path)")
        }
        let key = OutboxBodySeal.newKeyBase64() + "\n"
        // Written whole to a private temporary file, then linked into place: link(2) fails if the key file appeared
        // meanwhile, so two processes starting at once never disagree on the key, and a reader never sees half a key.
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else {
            throw ConfigurationError(
                description: "Cannot create the outbox key file \(path): \(String(cString: strerror(errno))). Set USHER_OUTBOX_KEY_FILE or USHER_OUTBOX_KEY.")
        }
        defer { unlink(temporary) }
        let written = key.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == key.utf8.count, synced else {
            throw ConfigurationError(description: "Cannot write the outbox key file \(path): \(String(cString: strerror(errno)))")
        }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST, let contents = FileManager.default.contents(atPath: path) {
                return try decode(String(decoding: contents, as: UTF8.self), source: "in the key file \(path)")
            }
            throw ConfigurationError(description: "Cannot create the outbox key file \(path): \(String(cString: strerror(errno)))")
        }
        logger.notice(
            "Created the outbox key file; back it up apart from the database (without it, queued mail cannot be read)",
            metadata: ["path": "\(path)"])
        return try decode(key, source: "in the key file \(path)")
    }
}
