import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLiteKit
import UsherCore

/// Opens a pooled `SQLDatabase` for a `DatabaseLocation` and closes it again.
public final class SQLDatabaseProvider: Sendable {
    public let database: any SQLDatabase
    public let location: DatabaseLocation
    /// Synchronous point reads for a SQLite file (see `SQLiteReader`); nil on PostgreSQL and in-memory SQLite.
    public let reader: SQLiteReader?
    /// For a SQLite file, the connection accepted requests are committed on (see `SQLiteIntakeWriter`).
    public let intakeWriter: SQLiteIntakeWriter?
    private let closePool: @Sendable () async throws -> Void

    private init(
        database: any SQLDatabase, location: DatabaseLocation, reader: SQLiteReader? = nil, intakeWriter: SQLiteIntakeWriter? = nil,
        close: @escaping @Sendable () async throws -> Void
    ) {
        self.database = database
        self.location = location
        self.reader = reader
        self.intakeWriter = intakeWriter
        self.closePool = close
    }

    /// Opens the pool. SQLite runs in WAL mode so readers never block the writer.
    public static func open(_ location: DatabaseLocation, logger: Logger, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton)
        async throws -> SQLDatabaseProvider
    {
        switch location {
        case .sqlite(let path):
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            // SQLiteNIO installs a busy handler that waits for the lock, so concurrent writers queue rather than fail.
            let source = SQLiteConnectionSource(configuration: .init(storage: .file(path: url.path)), threadPool: .singleton)
            let handle = PoolHandle(pool: EventLoopGroupConnectionPool(source: source, maxConnectionsPerEventLoop: 2, logger: logger, on: eventLoopGroup))
            let database = PooledSQLiteDatabase(handle: handle, logger: logger).sql(queryLogLevel: .trace)
            try await database.raw("PRAGMA journal_mode=WAL").run()
            // Opened after WAL is on: the reader's connections are read-only and could not switch it themselves.
            let reader = SQLiteReader(path: url.path)
            let intakeWriter = SQLiteIntakeWriter(path: url.path)
            return SQLDatabaseProvider(database: database, location: location, reader: reader, intakeWriter: intakeWriter) {
                reader?.close()
                intakeWriter?.close()
                try await handle.pool.shutdownAsync()
            }
        case .postgres(let url):
            var configuration = try SQLPostgresConfiguration(url: url)
            // `?search_path=schema` keeps Usher's tables in their own schema (also how tests isolate themselves).
            if let schema = URLComponents(string: url)?.queryItems?.first(where: { $0.name == "search_path" })?.value, !schema.isEmpty {
                configuration.searchPath = [schema]
            }
            let handle = PoolHandle(
                pool: EventLoopGroupConnectionPool(
                    source: PostgresConnectionSource(sqlConfiguration: configuration), maxConnectionsPerEventLoop: 4,
                    logger: logger, on: eventLoopGroup))
            let database = handle.pool.database(logger: logger).sql(queryLogLevel: .trace)
            return SQLDatabaseProvider(database: database, location: location) {
                try await handle.pool.shutdownAsync()
            }
        }
    }

    public func close() async throws { try await closePool() }
}

/// Carries a connection pool into the close closure. `EventLoopGroupConnectionPool` synchronises internally
/// but predates `Sendable`.
private struct PoolHandle<Source: ConnectionPoolSource>: @unchecked Sendable {
    let pool: EventLoopGroupConnectionPool<Source>
}

/// `SQLiteDatabase` over a connection pool: sqlite-kit vends single connections only, and a server needs a
/// pool so readers proceed in parallel under WAL.
private struct PooledSQLiteDatabase: SQLiteDatabase {
    let handle: PoolHandle<SQLiteConnectionSource>
    let logger: Logger

    var eventLoop: any EventLoop { handle.pool.eventLoopGroup.any() }

    func query(_ query: String, _ binds: [SQLiteData], logger: Logger, _ onRow: @escaping @Sendable (SQLiteRow) -> Void) -> EventLoopFuture<Void> {
        handle.pool.withConnection(logger: logger) { $0.query(query, binds, logger: logger, onRow) }
    }

    func query(_ query: String, _ binds: [SQLiteData], _ onRow: @escaping @Sendable (SQLiteRow) -> Void) async throws {
        try await self.query(query, binds, logger: logger, onRow).get()
    }

    func withConnection<T>(_ closure: @escaping @Sendable (SQLiteConnection) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        handle.pool.withConnection(logger: logger, closure)
    }
}
