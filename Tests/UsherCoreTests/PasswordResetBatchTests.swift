import Foundation
import Testing
import UsherCore
import UsherTesting

@Suite struct PasswordResetBatchTests {
    /// A fixture with a database connection and one user, `user2@example.com`.
    static func fixture() async throws -> LinkFixture {
        let f = try await LinkFixture()
        try await f.store.insertConnection(
            Connection(
                id: "con_1", name: Connection.defaultDatabaseName, options: Connection.defaultOptions,
                enabledClients: [], createdAt: f.clock.now))
        try await f.store.insertUser(
            User(
                userID: "auth0|0002", connection: Connection.defaultDatabaseName, email: "user2@example.com",
                createdAt: f.clock.now, updatedAt: f.clock.now))
        return f
    }

    static func service(_ f: LinkFixture, worker: String) -> PasswordResetService {
        PasswordResetService(
            store: f.store, links: f.links, redeemer: f.redeemer, hasher: PlainTextPasswordHasher(), clock: f.clock,
            requestLimiter: RateLimiter(burst: 100, refill: 1, clock: f.clock),
            mailLimiter: RateLimiter(burst: 100, refill: 1, clock: f.clock), intakeLease: 30, workerID: worker)
    }

    /// "We've just sent you an email" is true once `request` returns: the request is in the database, and an
    /// instance that never processes it (killed) leaves it to the next, which sends it exactly once.
    @Test func anAnsweredRequestSurvivesItsInstance() async throws {
        let f = try await Self.fixture()
        let crashed = Self.service(f, worker: "crashed")
        for email in ["user2@example.com", "nobody@example.com"] {
            _ = try await crashed.request(
                email: email, connection: Connection.defaultDatabaseName, clientID: nil, ip: "10.0.0.1", userAgent: nil, language: nil)
        }
        #expect(try await f.store.intakeCount(kind: .passwordChange) == 2)
        #expect(try await f.outboxCount() == 0)
        // The restarted instance has another worker id: the dead one's lease must end first.
        let restarted = Self.service(f, worker: "restarted")
        await restarted.processQueued()
        #expect(try await f.outboxCount() == 0)
        f.clock.advance(by: 31)
        await restarted.processQueued()
        #expect(try await f.outboxCount() == 1)
        #expect(try await f.store.intakeCount(kind: .passwordChange) == 0)
        let logs = try await f.store.logs(LogQuery(limit: 100)).events
        #expect(logs.filter { $0.type == "scpr" }.count == 1 && logs.filter { $0.type == "fcpr" }.count == 1)
        // The crashed instance, had it only been slow, finds its requests gone and writes nothing.
        await crashed.processQueued()
        #expect(try await f.outboxCount() == 1)
        #expect(try await f.store.logs(LogQuery(limit: 100)).events.count == 2)
    }

    /// Known and unknown addresses cost the requester the same: one intake row each, nothing else, before the answer.
    @Test func theAnswerWritesTheSameForKnownAndUnknownAddresses() async throws {
        let f = try await Self.fixture()
        let resets = Self.service(f, worker: "w")
        var transactions: [Int] = []
        for email in ["user2@example.com", "nobody@example.com"] {
            let before = f.store.transactionCount
            _ = try await resets.request(email: email, connection: Connection.defaultDatabaseName, clientID: nil, ip: nil, userAgent: nil, language: nil)
            transactions.append(f.store.transactionCount - before)
        }
        #expect(transactions == [0, 0])
        let queued = try await f.store.intakeCount(kind: .passwordChange)
        let outbox = try await f.outboxCount()
        #expect(queued == 2)
        #expect(outbox == 0)
        #expect(try await f.store.logs(LogQuery(limit: 10)).events.isEmpty)
    }

    /// The reset worker's speed rests on this: a batch, known and unknown addresses mixed, is one transaction.
    @Test func aBatchIsWrittenInOneTransaction() async throws {
        let f = try await LinkFixture()
        try await f.store.insertConnection(
            Connection(
                id: "con_1", name: Connection.defaultDatabaseName, options: Connection.defaultOptions,
                enabledClients: [], createdAt: f.clock.now))
        for index in 2...4 {
            try await f.store.insertUser(
                User(
                    userID: "auth0|000\(index)", connection: Connection.defaultDatabaseName, email: "user\(index)@example.com",
                    createdAt: f.clock.now, updatedAt: f.clock.now))
        }
        let resets = PasswordResetService(
            store: f.store, links: f.links, redeemer: f.redeemer, hasher: PlainTextPasswordHasher(), clock: f.clock,
            requestLimiter: RateLimiter(burst: 100, refill: 1, clock: f.clock),
            mailLimiter: RateLimiter(burst: 100, refill: 1, clock: f.clock))
        let addresses = [
            "ada@example.com", "user2@example.com", "nobody@example.com", "user3@example.com", "user4@example.com", "ghost@example.com",
            "ada@example.com",
        ]
        let batch = addresses.map {
            PasswordResetRequest(email: $0, connection: Connection.defaultDatabaseName, clientID: "app1", ip: nil, userAgent: nil, language: nil)
        }
        let before = f.store.transactionCount
        await resets.process(batch)
        #expect(f.store.transactionCount - before == 1)
        #expect(try await f.outboxCount() == 5)
        let logs = try await f.store.logs(LogQuery(limit: 100)).events
        #expect(logs.filter { $0.type == "scpr" }.count == 5 && logs.filter { $0.type == "fcpr" }.count == 2)
        #expect(resets.processedRequests == addresses.count)
    }
}
