import Foundation
import Testing
import UsherCore
import UsherTesting

@Suite struct PasswordResetBatchTests {
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
