import Foundation
import Logging
import SQLKit
import Testing
import UsherCore
import UsherJSON
import UsherStorage
import UsherTesting

/// The storage conformance suite: the same checks against every `UsherStore` implementation.
///
/// SQLite always runs; PostgreSQL runs when `USHER_TEST_POSTGRES_URL` is set (the test command starts a
/// throwaway cluster and sets it); the in-memory double runs too, so the doubles used by domain tests are
/// held to the same contract.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres, memory
    var testDescription: String { rawValue }

    static var available: [StoreKind] {
        ProcessInfo.processInfo.environment["USHER_TEST_POSTGRES_URL"] == nil ? [.sqlite, .memory] : allCases
    }
}

/// Opens a fresh, migrated store of `kind`, runs `body`, then cleans up.
func withStore(_ kind: StoreKind, _ body: (any UsherStore) async throws -> Void) async throws {
    if kind == .memory { return try await body(InMemoryUsherStore()) }
    try await withFreshProvider(kind) { provider, logger in
        try await Migrator.migrate(provider.database, logger: logger)
        try await body(SQLUsherStore(provider: provider, outboxSeal: .ephemeral()))
    }
}

/// Runs `attempt` `count` times at once and counts the attempts that returned true: a single-use token (ticket,
/// authorization code, refresh token) must have exactly one winner however many racers there are.
func winners(of count: Int, _ attempt: @escaping @Sendable () async throws -> Bool) async throws -> Int {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        for _ in 0..<count { group.addTask { try await attempt() } }
        var wins = 0
        for try await won in group where won { wins += 1 }
        return wins
    }
}

/// Runs `workers` claimers at once, each claiming with its worker name until a claim comes back empty, and returns
/// every id claimed: a queue (outbox, intake) must hand each row to exactly one of them.
func claimedByConcurrentWorkers(
    _ workers: Int, _ claim: @escaping @Sendable (_ worker: String) async throws -> [String]
) async throws -> [String] {
    try await withThrowingTaskGroup(of: [String].self) { group in
        for worker in 0..<workers {
            group.addTask {
                var mine: [String] = []
                while true {
                    let batch = try await claim("w\(worker)")
                    if batch.isEmpty { return mine }
                    mine += batch
                }
            }
        }
        var all: [String] = []
        for try await ids in group { all += ids }
        return all
    }
}

/// A fresh, empty database of `kind` (SQLite or PostgreSQL) without migrations, for tests that migrate step by step.
func withUnmigratedDatabase(_ kind: StoreKind, _ body: (any SQLDatabase) async throws -> Void) async throws {
    if kind == .memory { return }
    try await withFreshProvider(kind) { provider, _ in try await body(provider.database) }
}

/// A provider on a new SQLite file or a new PostgreSQL schema (each test its own, so tests run in parallel without
/// seeing each other's rows); afterwards the provider is closed and the file removed or the schema dropped, whether
/// `body` threw or not.
private func withFreshProvider(_ kind: StoreKind, _ body: (SQLDatabaseProvider, Logger) async throws -> Void) async throws {
    var logger = Logger(label: "storage-tests")
    logger.logLevel = .warning
    switch kind {
    case .memory:
        return
    case .sqlite:
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("usher-\(UUID().uuidString).sqlite").path
        let provider = try await SQLDatabaseProvider.open(.sqlite(path: path), logger: logger)
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        try await run(body, on: provider, logger: logger)
    case .postgres:
        let url = ProcessInfo.processInfo.environment["USHER_TEST_POSTGRES_URL"]!
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = try await SQLDatabaseProvider.open(.postgres(url: url), logger: logger)
        try await admin.database.raw("CREATE SCHEMA \(unsafeRaw: schema)").run()
        let separator = url.contains("?") ? "&" : "?"
        let provider = try await SQLDatabaseProvider.open(.postgres(url: url + separator + "search_path=\(schema)"), logger: logger)
        do {
            try await run(body, on: provider, logger: logger)
        } catch {
            try? await admin.database.raw("DROP SCHEMA \(unsafeRaw: schema) CASCADE").run()
            try? await admin.close()
            throw error
        }
        try await admin.database.raw("DROP SCHEMA \(unsafeRaw: schema) CASCADE").run()
        try await admin.close()
    }
}

/// Runs `body` on `provider`, then closes it (also when `body` throws).
private func run(_ body: (SQLDatabaseProvider, Logger) async throws -> Void, on provider: SQLDatabaseProvider, logger: Logger) async throws {
    do {
        try await body(provider, logger)
        try await provider.close()
    } catch {
        try? await provider.close()
        throw error
    }
}

let epoch = Date(timeIntervalSince1970: 1_750_000_000.123)

func sampleUser(_ n: Int, email: String? = nil, connection: String = Connection.defaultDatabaseName) -> User {
    User(
        userID: "auth0|\(String(format: "%024x", n))", connection: connection, email: email ?? "user\(n)@example.com",
        emailVerified: n % 2 == 0, name: "User \(n)", nickname: "user\(n)",
        appMetadata: ["needsInvitation": true, "plan": ["tier": "gold", "seats": 3]], userMetadata: ["lang": "fr"],
        passwordHash: n % 3 == 0 ? nil : "$2b$10$hash\(n)", createdAt: epoch.addingTimeInterval(Double(n)),
        updatedAt: epoch.addingTimeInterval(Double(n)), loginsCount: n)
}

@Suite("Storage conformance")
struct StorageConformanceTests {
    @Test(arguments: StoreKind.available)
    func userRoundTripPreservesEveryField(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var user = sampleUser(1)
            user.lastLogin = epoch.addingTimeInterval(60)
            user.lastIP = "203.0.113.9"
            user.lastPasswordReset = epoch.addingTimeInterval(120)
            user.phoneNumber = "+15551234567"
            user.blocked = true
            user.givenName = "Zoë"
            user.familyName = "O'Brien \"quoted\""
            try await store.insertUser(user)
            let loaded = try #require(try await store.user(id: user.userID))
            #expect(loaded == user)
            #expect(loaded.appMetadata.keys == ["needsInvitation", "plan"])
        }
    }

    @Test(arguments: StoreKind.available)
    func duplicateEmailInOneConnectionIsAConflict(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertUser(sampleUser(1, email: "same@example.com"))
            await #expect(throws: UsherError.userExists) {
                try await store.insertUser(sampleUser(2, email: "same@example.com"))
            }
            // Another connection may hold the same address.
            try await store.insertUser(sampleUser(3, email: "same@example.com", connection: "other-db"))
            #expect(try await store.users(email: "same@example.com").count == 2)
            #expect(try await store.user(connection: "other-db", email: "same@example.com")?.userID == sampleUser(3).userID)
        }
    }

    @Test(arguments: StoreKind.available)
    func updateAndDelete(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var user = sampleUser(1)
            try await store.insertUser(user)
            user.appMetadata = ["needsInvitation": false]
            user.email = "changed@example.com"
            try await store.updateUser(user)
            #expect(try await store.user(id: user.userID) == user)
            #expect(try await store.deleteUser(id: user.userID))
            #expect(try await store.deleteUser(id: user.userID) == false)
            #expect(try await store.user(id: user.userID) == nil)
            await #expect(throws: UsherError.userNotFound) { try await store.updateUser(user) }
        }
    }

    @Test(arguments: StoreKind.available)
    func updateToATakenEmailIsRefused(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertUser(sampleUser(1))
            var second = sampleUser(2)
            try await store.insertUser(second)
            second.email = sampleUser(1).email
            await #expect(throws: UsherError.self) { try await store.updateUser(second) }
        }
    }

    @Test(arguments: StoreKind.available)
    func listingPagesSortsAndCounts(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for n in [5, 1, 4, 2, 3] { try await store.insertUser(sampleUser(n)) }
            let first = try await store.listUsers(UserPageRequest(sortField: .createdAt, ascending: true, offset: 0, limit: 2))
            #expect(first.total == 5)
            #expect(first.users.map(\.loginsCount) == [1, 2])
            let last = try await store.listUsers(UserPageRequest(sortField: .loginsCount, ascending: false, offset: 4, limit: 2))
            #expect(last.users.map(\.loginsCount) == [1])
            let byEmail = try await store.listUsers(UserPageRequest(sortField: .email, ascending: false, offset: 0, limit: 10))
            #expect(byEmail.users.map(\.loginsCount) == [5, 4, 3, 2, 1])
            #expect(try await store.allUsers().map(\.loginsCount) == [1, 2, 3, 4, 5])
        }
    }

    @Test(arguments: StoreKind.available)
    func clientsAndGrants(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var client = Client(
                clientID: "client-1", name: "App", appType: "spa", secretHash: SecureRandom.secretHash("s3cret-s3cret-s3cret"),
                callbacks: ["https://app.example.com/cb"], allowedLogoutURLs: ["https://app.example.com"],
                grantTypes: ["authorization_code"], clientMetadata: ["team": "a"], createdAt: epoch, updatedAt: epoch)
            try await store.insertClient(client)
            #expect(try await store.client(id: "client-1") == client)
            #expect(try await store.client(id: "client-1")?.verifySecret("s3cret-s3cret-s3cret") == true)
            await #expect(throws: UsherError.self) { try await store.insertClient(client) }
            client.name = "Renamed"
            client.callbacks = []
            try await store.updateClient(client)
            #expect(try await store.listClients() == [client])

            let grant = ClientGrant(id: "cgr_1", clientID: "client-1", audience: "https://u/api/v2/", scope: ["read:users"])
            try await store.insertClientGrant(grant)
            await #expect(throws: UsherError.self) {
                try await store.insertClientGrant(ClientGrant(id: "cgr_2", clientID: "client-1", audience: "https://u/api/v2/", scope: []))
            }
            #expect(try await store.clientGrant(clientID: "client-1", audience: "https://u/api/v2/") == grant)
            var widened = grant
            widened.scope = ["read:users", "create:users"]
            try await store.updateClientGrant(widened)
            #expect(try await store.clientGrants(clientID: "client-1") == [widened])
            #expect(try await store.deleteClientGrant(id: "cgr_1"))
            #expect(try await store.deleteClient(id: "client-1"))
            #expect(try await store.listClients().isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func connectionsAndKeys(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var connection = Connection(
                id: "con_1234567890abcdef", name: Connection.defaultDatabaseName, options: Connection.defaultOptions, enabledClients: ["a"], createdAt: epoch)
            try await store.insertConnection(connection)
            await #expect(throws: UsherError.self) {
                try await store.insertConnection(
                    Connection(id: "con_other", name: Connection.defaultDatabaseName, options: [:], enabledClients: [], createdAt: epoch))
            }
            connection.options["disable_signup"] = true
            try await store.updateConnection(connection)
            #expect(try await store.connection(name: Connection.defaultDatabaseName) == connection)
            #expect(try await store.connection(id: connection.id)?.signupDisabled == true)

            let key = SigningKeyRecord(kid: "k1", privateKeyPEM: "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----", createdAt: epoch)
            try await store.insertSigningKey(key)
            #expect(try await store.signingKeys() == [key])
        }
    }

    @Test(arguments: StoreKind.available)
    func failedTransactionLeavesNoTrace(kind: StoreKind) async throws {
        struct Boom: Error {}
        try await withStore(kind) { store in
            await #expect(throws: Boom.self) {
                try await store.transaction { tx in
                    try await tx.insertUser(sampleUser(1))
                    throw Boom()
                }
            }
            #expect(try await store.user(id: sampleUser(1).userID) == nil)
            try await store.transaction { tx in try await tx.insertUser(sampleUser(2)) }
            #expect(try await store.user(id: sampleUser(2).userID) != nil)
        }
    }

    @Test(arguments: StoreKind.available.filter { $0 != .memory })
    func concurrentWritersAllLand(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 1...40 {
                    group.addTask {
                        try await store.transaction { tx in try await tx.insertUser(sampleUser(n)) }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.listUsers(UserPageRequest(offset: 0, limit: 1)).total == 40)
        }
    }

    @Test(arguments: StoreKind.available.filter { $0 != .memory })
    func migrationsAreIdempotent(kind: StoreKind) async throws {
        guard kind == .sqlite else { return }
        var logger = Logger(label: "t")
        logger.logLevel = .warning
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("usher-m-\(UUID().uuidString).sqlite").path
        let provider = try await SQLDatabaseProvider.open(.sqlite(path: path), logger: logger)
        #expect(try await Migrator.migrate(provider.database, logger: logger) == Migrator.all.map(\.version))
        #expect(try await Migrator.migrate(provider.database, logger: logger) == [])
        try await provider.close()
    }
}
