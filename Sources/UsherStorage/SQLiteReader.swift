import Foundation
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization
// The SQLite library SQLiteNIO vendors. The reader must use this same copy: two SQLite libraries in one process
// on one file break each other's POSIX locks (closing a file in one drops the other's locks).
import VaporCSQLite

/// Point reads on SQLite run synchronously on the caller's thread, over a few read-only connections that keep
/// their prepared statements.
///
/// Why: through SQLiteNIO a read costs two thread hops (to NIO's blocking pool and back), a connection-pool
/// round trip, SQL serialisation and a fresh `sqlite3_prepare` — about 100 µs of CPU for a lookup SQLite answers
/// in a few. A user fetched by id is the hottest query of the Management API and of every login. Blocking the
/// caller is fine for these: they are index lookups of one or a few rows in WAL mode, where readers never wait
/// for the writer. Anything that would wait (a busy database, every connection in use) reports `nil` and the
/// caller takes the ordinary asynchronous path, so this never queues or spins.
///
/// Used outside transactions only: a read inside a transaction must see that transaction's own writes.
public final class SQLiteReader: Sendable {
    /// Most connections kept open; more concurrent readers than this fall back to the pool.
    static let maximumConnections = 8

    private let path: String
    /// The connections waiting to be used, and how many are open in all (idle or in use).
    private let connections = Mutex<(idle: [ReadConnection], open: Int)>(([], 0))

    /// Nil for an in-memory database, which another connection could not see.
    init?(path: String) {
        guard path != ":memory:", !path.isEmpty else { return nil }
        self.path = path
    }

    /// Runs `sql` with text `binds` and maps each row; nil when the read could not run right away (no free
    /// connection, database busy or locked) so that the caller falls back. Other SQLite errors are thrown.
    func rows<T>(_ sql: String, _ binds: [String], _ transform: (SQLiteReadRow) throws -> T) throws -> [T]? {
        guard let connection = checkOut() else { return nil }
        defer { checkIn(connection) }
        return try connection.run(sql, binds, transform)
    }

    /// Runs `sql` and returns its rows as SQLKit rows (decoded by column name, as the pool's rows are), so that
    /// an existing row decoder serves both paths; nil as for `rows`.
    func sqlRows(_ sql: String, _ binds: [String]) throws -> [any SQLRow]? {
        try rows(sql, binds) { row in SQLiteReadSQLRow(row) }
    }

    /// How many times SQLite had to compile a cached statement again, over the idle connections (tests: a read
    /// that re-prepares on every call has lost what the cache is for).
    var reprepareCount: Int {
        connections.withLock { state in state.idle.reduce(0) { $0 + $1.reprepareCount } }
    }

    /// Closes every idle connection (the provider calls this on shutdown).
    func close() {
        let idle = connections.withLock { state in
            defer {
                state.open -= state.idle.count
                state.idle.removeAll()
            }
            return state.idle
        }
        for connection in idle { connection.close() }
    }

    private enum Lease {
        case reuse(ReadConnection)
        case openNew
        case none
    }

    private func checkOut() -> ReadConnection? {
        let lease: Lease = connections.withLock { state in
            if let connection = state.idle.popLast() { return .reuse(connection) }
            guard state.open < Self.maximumConnections else { return .none }
            state.open += 1
            return .openNew
        }
        switch lease {
        case .reuse(let connection): return connection
        case .none: return nil
        case .openNew:
            // Opened outside the lock; its slot is counted already and given back if opening fails.
            if let connection = ReadConnection(path: path) { return connection }
            connections.withLock { $0.open -= 1 }
            return nil
        }
    }

    private func checkIn(_ connection: ReadConnection) {
        if connection.isBroken {
            connection.close()
            connections.withLock { $0.open -= 1 }
        } else {
            connections.withLock { $0.idle.append(connection) }
        }
    }
}

/// One row of a `SQLiteReader` result, read by column position (the queries name their columns in order).
struct SQLiteReadRow {
    let statement: OpaquePointer

    /// The value of column `index` (0-based) as SQLiteNIO would report it.
    func value(at index: Int) -> SQLiteData {
        let column = Int32(index)
        switch sqlite_nio_sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            return .integer(SQLiteInt64(sqlite_nio_sqlite3_column_int64(statement, column)))
        case SQLITE_FLOAT:
            return .float(sqlite_nio_sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            guard let bytes = sqlite_nio_sqlite3_column_text(statement, column) else { return .text("") }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        case SQLITE_NULL:
            return .null
        default:
            // Blobs are not stored in the tables read here; report them as the pool's decoder would reject them.
            return .null
        }
    }
}

/// A row read by `SQLiteReader`, copied out of the statement, decoded like SQLiteKit's rows.
struct SQLiteReadSQLRow: SQLRow {
    let allColumns: [String]
    let values: [SQLiteData]

    init(_ row: SQLiteReadRow) {
        let count = Int(sqlite_nio_sqlite3_column_count(row.statement))
        allColumns = (0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(row.statement, Int32($0))) }
        values = (0..<count).map { row.value(at: $0) }
    }

    private func value(_ column: String) -> SQLiteData? {
        allColumns.firstIndex(of: column).map { values[$0] }
    }

    func contains(column: String) -> Bool { allColumns.contains(column) }

    func decodeNil(column: String) throws -> Bool { (value(column) ?? .null) == .null }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let data = value(column) else {
            throw DecodingError.keyNotFound(
                SQLiteReadColumnKey(stringValue: column), .init(codingPath: [], debugDescription: "No column named \(column)"))
        }
        return try SQLiteDataDecoder().decode(D.self, from: data)
    }
}

private struct SQLiteReadColumnKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// An open read-only connection with its prepared statements. Used by one thread at a time: `SQLiteReader`
/// hands it out from a locked list and takes it back.
private final class ReadConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// Set after an error that may leave the connection unusable; it is closed instead of reused.
    private(set) var isBroken = false

    init?(path: String) {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        guard sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
            if let handle { sqlite_nio_sqlite3_close(handle) }
            return nil
        }
        self.handle = handle
    }

    deinit { close() }

    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        if let handle { sqlite_nio_sqlite3_close(handle) }
        handle = nil
    }

    var reprepareCount: Int {
        statements.values.reduce(0) {
            $0 + Int(sqlite_nio_sqlite3_stmt_status($1, Int32(SQLITE_STMTSTATUS_REPREPARE), 0))
        }
    }

    func run<T>(_ sql: String, _ binds: [String], _ transform: (SQLiteReadRow) throws -> T) throws -> [T]? {
        guard let handle else { return nil }
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
        } else {
            var prepared: OpaquePointer?
            let status = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
            guard status == SQLITE_OK, let prepared else { throw ReadError(handle: handle, status: status) }
            statements[sql] = prepared
            statement = prepared
        }
        // Reset only: the next call binds every parameter again anyway. `sqlite3_clear_bindings` would expire the
        // statement whenever the planner looked at a bound value (joined or ordered queries, such as the bound
        // Actions every login reads), and SQLite would then compile it again on every call.
        defer { sqlite_nio_sqlite3_reset(statement) }
        for (index, bind) in binds.enumerated() {
            let status = sqlite_nio_sqlite3_bind_text64(
                statement, Int32(index + 1), bind, UInt64(bind.utf8.count), SQLITE_TRANSIENT_DESTRUCTOR, UInt8(SQLITE_UTF8))
            guard status == SQLITE_OK else { throw ReadError(handle: handle, status: status) }
        }
        var results: [T] = []
        while true {
            switch sqlite_nio_sqlite3_step(statement) {
            case SQLITE_ROW:
                results.append(try transform(SQLiteReadRow(statement: statement)))
            case SQLITE_DONE:
                return results
            case let status where status & 0xff == SQLITE_BUSY || status & 0xff == SQLITE_LOCKED:
                return nil
            case let status:
                isBroken = true
                throw ReadError(handle: handle, status: status)
            }
        }
    }
}

/// `SQLITE_TRANSIENT`: SQLite copies the bound text before the call returns (the C macro does not import).
private let SQLITE_TRANSIENT_DESTRUCTOR = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A SQLite error from the synchronous reader, with SQLite's own message.
struct ReadError: Error, CustomStringConvertible {
    let status: Int32
    let message: String

    init(handle: OpaquePointer, status: Int32) {
        self.status = status
        self.message = String(cString: sqlite_nio_sqlite3_errmsg(handle))
    }

    var description: String { "SQLite read failed (\(status)): \(message)" }
}

/// A SQLite row whose columns can be read by position or by name: the synchronous reader's rows (position) and
/// SQLiteNIO's (name) share one hand-written decoder.
protocol SQLiteColumnValues {
    func value(_ index: Int, named name: String) -> SQLiteData?
}

extension SQLiteReadRow: SQLiteColumnValues {
    func value(_ index: Int, named name: String) -> SQLiteData? { value(at: index) }
}

extension SQLiteRow: SQLiteColumnValues {
    func value(_ index: Int, named name: String) -> SQLiteData? { column(name) }
}
