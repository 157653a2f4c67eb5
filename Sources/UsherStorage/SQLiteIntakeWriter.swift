import Foundation
import Synchronization
import UsherCore
// The SQLite library SQLiteNIO vendors (see `SQLiteReader`: one copy per process).
import VaporCSQLite

/// Writes accepted requests (`insertIntake`) to a SQLite file synchronously, on one read-write connection that
/// keeps its prepared statement.
///
/// Why: every accepted `change_password` waits for this commit before it is answered, and through SQLiteNIO the
/// write costs a connection-pool checkout and two thread hops (to NIO's blocking pool and back), a large part of a
/// request's latency under load (about a quarter more requests per second without them, on two cores). The caller holds the store's write gate, so no other Usher write runs meanwhile and the
/// commit never waits for SQLite's lock; if another process holds it (`SQLITE_BUSY`), `insert` reports false
/// and the store takes the pool instead. The commit is as durable as the pool's: the same library, file and
/// synchronous setting.
public final class SQLiteIntakeWriter: Sendable {
    private let connection: Mutex<WriteConnection?>
    private let committed = Atomic<Int>(0)

    /// Transactions committed here rather than through the pool (tests: the direct path is the one taken).
    var commits: Int { committed.load(ordering: .relaxed) }

    /// Nil for an in-memory database, which another connection could not see.
    init?(path: String) {
        guard path != ":memory:", !path.isEmpty else { return nil }
        connection = Mutex(WriteConnection(path: path))
    }

    /// Inserts `requests` in one transaction; false when it could not run right away (the caller falls back).
    func insert(_ requests: [IntakeRequest], worker: String?, leaseEnd: Int64) throws -> Bool {
        try connection.withLock { slot in
            guard let writer = slot else { return false }
            do {
                let done = try writer.insert(requests, worker: worker, leaseEnd: leaseEnd)
                if done { committed.add(1, ordering: .relaxed) }
                return done
            } catch {
                // A failed connection is not reused; the next insert goes through the pool.
                writer.close()
                slot = nil
                throw error
            }
        }
    }

    func close() { connection.withLock { $0?.close() } }
}

private final class WriteConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var insert: OpaquePointer?
    static let insertSQL =
        #"INSERT INTO "intake" ("id", "kind", "payload", "received_at", "lease_owner", "lease_expires_at") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"#

    init?(path: String) {
        var handle: OpaquePointer?
        guard sqlite_nio_sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let handle else {
            if let handle { sqlite_nio_sqlite3_close(handle) }
            return nil
        }
        self.handle = handle
    }

    deinit { close() }

    func close() {
        if let insert { sqlite_nio_sqlite3_finalize(insert) }
        insert = nil
        if let handle { sqlite_nio_sqlite3_close(handle) }
        handle = nil
    }

    private func execute(_ sql: String) -> Int32 {
        guard let handle else { return SQLITE_MISUSE }
        return sqlite_nio_sqlite3_exec(handle, sql, nil, nil, nil)
    }

    private static func isBusy(_ status: Int32) -> Bool { status & 0xff == SQLITE_BUSY || status & 0xff == SQLITE_LOCKED }

    func insert(_ requests: [IntakeRequest], worker: String?, leaseEnd: Int64) throws -> Bool {
        guard let handle else { return false }
        if insert == nil {
            var prepared: OpaquePointer?
            let status = sqlite_nio_sqlite3_prepare_v3(handle, Self.insertSQL, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
            // The table is missing until the migrations ran: the pool serves until then.
            guard status == SQLITE_OK, let prepared else { return false }
            insert = prepared
        }
        guard let statement = insert else { return false }
        let begin = execute("BEGIN IMMEDIATE")
        if Self.isBusy(begin) { return false }
        guard begin == SQLITE_OK else { throw ReadError(handle: handle, status: begin) }
        do {
            for request in requests {
                defer { sqlite_nio_sqlite3_reset(statement) }
                try bind(statement, 1, request.id)
                try bind(statement, 2, request.kind.rawValue)
                try bind(statement, 3, SQLUsherStore.encode(request.payload))
                try check(sqlite_nio_sqlite3_bind_int64(statement, 4, Timestamp.milliseconds(request.receivedAt)))
                if let worker { try bind(statement, 5, worker) } else { try check(sqlite_nio_sqlite3_bind_null(statement, 5)) }
                try check(sqlite_nio_sqlite3_bind_int64(statement, 6, leaseEnd))
                let step = sqlite_nio_sqlite3_step(statement)
                guard step == SQLITE_DONE else { throw ReadError(handle: handle, status: step) }
            }
            let commit = execute("COMMIT")
            guard commit == SQLITE_OK else { throw ReadError(handle: handle, status: commit) }
            return true
        } catch {
            _ = execute("ROLLBACK")
            throw error
        }
    }

    private func bind(_ statement: OpaquePointer, _ index: Int32, _ text: String) throws {
        try check(sqlite_nio_sqlite3_bind_text64(statement, index, text, UInt64(text.utf8.count), intakeTransientDestructor, UInt8(SQLITE_UTF8)))
    }

    private func check(_ status: Int32) throws {
        guard status != SQLITE_OK else { return }
        guard let handle else { throw SQLiteIntakeWriterClosed() }
        throw ReadError(handle: handle, status: status)
    }
}

/// The connection was closed under a bind (it is not: `insert` runs under the writer's lock); kept so `check` never traps.
private struct SQLiteIntakeWriterClosed: Error {}

/// `SQLITE_TRANSIENT`: SQLite copies the bound text before the call returns.
private let intakeTransientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
