import Foundation
import Logging
import SQLKit
import Testing
import UsherCore
import UsherJSON

@testable import UsherStorage

/// The direct SQLite commit of accepted requests: it must write exactly what the pool would, be the path taken,
/// and step aside (false) rather than wait when another connection holds the write lock.
@Suite("SQLite intake writer")
struct SQLiteIntakeWriterTests {
    static func request(_ n: Int) -> IntakeRequest {
        IntakeRequest(
            id: "inq_test\(n)", kind: .passwordChange,
            payload: ["email": .string("user\(n)@example.com"), "connection": "Username-Password-Authentication", "n": .int(Int64(n))],
            receivedAt: epoch.addingTimeInterval(Double(n)))
    }

    @Test func acceptedRequestsAreCommittedDirectlyAndClaimedAsThePoolWroteThem() async throws {
        try await withSQLiteFile { provider, store in
            let writer = try #require(store.intakeWriter)
            let requests = (1...3).map(Self.request)
            try await store.insertIntake(requests, worker: "w1", leaseUntil: epoch.addingTimeInterval(30))
            #expect(writer.commits == 1)
            #expect(try await store.intakeCount(kind: .passwordChange) == 3)
            // Leased to w1 until its lease ends, then claimable by anyone, intact.
            #expect(try await store.claimIntake(kind: .passwordChange, worker: "w2", now: epoch, leaseUntil: epoch.addingTimeInterval(60), limit: 10) == [])
            let claimed = try await store.claimIntake(
                kind: .passwordChange, worker: "w2", now: epoch.addingTimeInterval(31), leaseUntil: epoch.addingTimeInterval(90), limit: 10)
            #expect(claimed == requests)
            // Unleased rows (no worker) are claimable at once.
            try await store.insertIntake([Self.request(4)], worker: nil, leaseUntil: epoch)
            #expect(writer.commits == 2)
            #expect(try await store.claimIntake(kind: .passwordChange, worker: "w3", now: epoch, leaseUntil: epoch, limit: 10) == [Self.request(4)])
            // Inside a transaction the caller's session writes, so the rows commit or roll back with it.
            await #expect(throws: DeliberateStoreFailure.self) {
                try await store.transaction { tx in
                    try await tx.insertIntake([Self.request(5)], worker: nil, leaseUntil: epoch)
                    throw DeliberateStoreFailure()
                }
            }
            #expect(writer.commits == 2)
            #expect(try await store.intakeCount(kind: .passwordChange) == 4)
        }
    }

    @Test func itStepsAsideWhileAnotherConnectionHoldsTheWriteLock() async throws {
        try await withSQLiteFile { provider, store in
            let writer = try #require(store.intakeWriter)
            try await provider.database.withSession { session in
                try await session.raw("BEGIN IMMEDIATE").run()
                #expect(try writer.insert([Self.request(1)], worker: nil, leaseEnd: 0) == false)
                try await session.raw("ROLLBACK").run()
            }
            #expect(try writer.insert([Self.request(1)], worker: nil, leaseEnd: 0))
            #expect(try await store.intakeCount(kind: .passwordChange) == 1)
        }
    }
}

struct DeliberateStoreFailure: Error {}
