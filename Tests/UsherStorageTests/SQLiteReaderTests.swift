import Foundation
import Logging
import SQLKit
import Testing
import UsherCore

@testable import UsherStorage

/// A fresh migrated SQLite file, its provider and a store on it (with its synchronous reader and intake writer).
func withSQLiteFile(_ body: (SQLDatabaseProvider, SQLUsherStore) async throws -> Void) async throws {
    var logger = Logger(label: "sqlite-file-tests")
    logger.logLevel = .warning
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("usher-file-\(UUID().uuidString).sqlite").path
    let provider = try await SQLDatabaseProvider.open(.sqlite(path: path), logger: logger)
    defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
    do {
        try await Migrator.migrate(provider.database, logger: logger)
        try await body(provider, SQLUsherStore(provider: provider, outboxSeal: .ephemeral()))
        try await provider.close()
    } catch {
        try? await provider.close()
        throw error
    }
}

/// The synchronous SQLite reader: it must answer what the pool would, see every committed write at once, never
/// see a transaction's uncommitted rows, and step aside (nil) rather than wait.
@Suite("SQLite reader")
struct SQLiteReaderTests {
    func withSQLite(_ body: (SQLDatabaseProvider, SQLUsherStore) async throws -> Void) async throws {
        try await withSQLiteFile(body)
    }

    @Test func answersWhatThePoolAnswers() async throws {
        try await withSQLite { provider, store in
            #expect(store.reader != nil)
            var user = sampleUser(7)
            user.lastLogin = epoch.addingTimeInterval(5)
            user.givenName = "Zoë"
            try await store.insertUser(user)
            let fast = try #require(try store.readUsers(SQLUsherStore.userByIDSQL, [user.userID]))
            #expect(fast == [user])
            let pooled = try await SQLUsherStore(database: provider.database, outboxSeal: .ephemeral()).user(id: user.userID)
            #expect(pooled == user)
            #expect(try store.readUsers(SQLUsherStore.usersByEmailSQL, [user.email!]) == [user])
            #expect(try store.readUsers(SQLUsherStore.userByConnectionAndEmailSQL, [user.connection, user.email!]) == [user])
            #expect(try store.readUsers(SQLUsherStore.userByIDSQL, ["auth0|missing"]) == [])
        }
    }

    @Test func seesEachCommittedWriteImmediately() async throws {
        try await withSQLite { _, store in
            var user = sampleUser(1)
            try await store.insertUser(user)
            #expect(try await store.user(id: user.userID)?.name == "User 1")
            // The cached statement must not keep an old snapshot between reads.
            for round in 1...3 {
                user.name = "Renamed \(round)"
                try await store.updateUser(user)
                #expect(try store.readUsers(SQLUsherStore.userByIDSQL, [user.userID])?.first?.name == "Renamed \(round)")
            }
            #expect(try await store.deleteUser(id: user.userID))
            #expect(try await store.user(id: user.userID) == nil)
        }
    }

    @Test func neverSeesATransactionsUncommittedRows() async throws {
        try await withSQLite { _, store in
            let user = sampleUser(2)
            try await store.transaction { tx in
                try await tx.insertUser(user)
                // Inside the transaction the store reads through its own session and sees the row…
                #expect(try await tx.user(id: user.userID) == user)
                // …while the reader, outside it, does not yet.
                #expect(try store.readUsers(SQLUsherStore.userByIDSQL, [user.userID]) == [])
            }
            #expect(try store.readUsers(SQLUsherStore.userByIDSQL, [user.userID]) == [user])
        }
    }

    @Test func stepsAsideWhenEveryConnectionIsBusy() async throws {
        try await withSQLite { _, store in
            let user = sampleUser(3)
            try await store.insertUser(user)
            let reader = try #require(store.reader)
            // Hold every connection by nesting reads; the one past the limit must answer nil, not wait.
            func innermost(_ depth: Int) throws -> Bool {
                if depth > SQLiteReader.maximumConnections {
                    return try reader.rows(SQLUsherStore.userByIDSQL, [user.userID]) { _ in 1 } == nil
                }
                return try reader.rows(SQLUsherStore.userByIDSQL, [user.userID]) { _ in try innermost(depth + 1) }?.first ?? false
            }
            #expect(try innermost(1))
            // The public lookup still answers, through the pool.
            #expect(try await store.user(id: user.userID) == user)
        }
    }

    @Test func aRowItCannotDecodeGoesToThePool() async throws {
        try await withSQLite { provider, store in
            let user = sampleUser(4)
            try await store.insertUser(user)
            try await provider.database.raw("UPDATE users SET email_verified = 'maybe' WHERE user_id = \(bind: user.userID)").run()
            #expect(try store.readUsers(SQLUsherStore.userByIDSQL, [user.userID]) == nil)
            // The pool's decoder reports the bad column instead of returning a wrong user.
            await #expect(throws: (any Error).self) { try await store.user(id: user.userID) }
        }
    }

    /// One deployed Action bound to post-login.
    @discardableResult
    func bindOneAction(_ store: SQLUsherStore) async throws -> Action {
        let at = epoch
        let action = Action(
            id: "act-1", name: "Clear needsInvitation", supportedTriggers: [ActionTrigger(id: "post-login", version: "v3")],
            code: "exports.onExecutePostLogin = async () => {};", dependencies: [], runtime: "node22",
            secrets: [ActionSecret(name: "KEY", value: "v", updatedAt: at)], createdAt: at, updatedAt: at)
        try await store.insertAction(action)
        _ = try await store.deployAction(id: action.id, versionID: "ver-1", at: at)
        try await store.replaceTriggerBindings(
            triggerID: "post-login",
            with: [
                TriggerBinding(
                    id: "bind-1", triggerID: "post-login", actionID: action.id, displayName: "Clear", secrets: [],
                    createdAt: at, updatedAt: at)
            ])
        return action
    }

    @Test func boundActionsReadTheSameThroughTheReader() async throws {
        try await withSQLite { provider, store in
            let action = try await bindOneAction(store)
            // The reader really answers this query…
            let reader = try #require(store.reader)
            #expect(try reader.sqlRows(store.sqliteBoundActionVersionsSQL, ["post-login"])?.count == 1)
            // …with what the pool answers.
            let fast = try await store.boundActionVersions(triggerID: "post-login")
            let pooled = try await SQLUsherStore(database: provider.database, outboxSeal: .ephemeral()).boundActionVersions(triggerID: "post-login")
            #expect(fast.count == 1 && fast == pooled)
            #expect(fast[0].version.code == action.code && fast[0].version.secrets == action.secrets)
        }
    }

    /// Every login reads its bound Actions; SQLite expires a joined, ordered statement whenever a value is bound to
    /// it again after `sqlite3_clear_bindings`, so the reader must not clear them (and compile the query per login).
    @Test func repeatedReadsDoNotRecompileTheirStatement() async throws {
        try await withSQLite { _, store in
            try await bindOneAction(store)
            let reader = try #require(store.reader)
            let user = sampleUser(3)
            try await store.insertUser(user)
            for _ in 0..<5 {
                #expect(try reader.sqlRows(store.sqliteBoundActionVersionsSQL, ["post-login"])?.count == 1)
                #expect(try store.readUsers(SQLUsherStore.userByIDSQL, [user.userID]) == [user])
            }
            #expect(reader.reprepareCount == 0)
            // A different value is bound (and answered) correctly, then the first again.
            #expect(try store.readUsers(SQLUsherStore.userByIDSQL, ["auth0|other"]) == [])
            #expect(try store.readUsers(SQLUsherStore.userByIDSQL, [user.userID]) == [user])
        }
    }
}
