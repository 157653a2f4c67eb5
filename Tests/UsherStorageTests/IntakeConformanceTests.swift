import Foundation
import Testing
import UsherCore
import UsherJSON
import UsherStorage
import UsherTesting

/// The accepted-request contract (`IntakeStore`) on every store: SQLite, PostgreSQL (with `USHER_TEST_POSTGRES_URL`)
/// and memory.
@Suite("Intake conformance")
struct IntakeConformanceTests {
    static let t0 = Date(timeIntervalSince1970: 1_750_000_000)

    static func request(_ n: Int, kind: IntakeKind = .passwordChange) -> IntakeRequest {
        IntakeRequest(
            id: String(format: "inq_%04d", n), kind: kind, payload: ["email": .string("user\(n)@example.com"), "n": .int(Int64(n))],
            receivedAt: t0.addingTimeInterval(Double(n)))
    }

    @Test(arguments: StoreKind.available)
    func writtenRequestsAreLeasedToTheirWriterUntilTheLeaseEnds(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertIntake((0..<3).map { Self.request($0) }, worker: "writer", leaseUntil: Self.t0.addingTimeInterval(30))
            #expect(try await store.intakeCount(kind: .passwordChange) == 3)
            #expect(
                try await store.claimIntake(
                    kind: .passwordChange, worker: "other", now: Self.t0.addingTimeInterval(29), leaseUntil: Self.t0.addingTimeInterval(59), limit: 10
                ).isEmpty)
            // The writer died: once its lease ends, another worker takes them, oldest first, with their payload.
            let claimed = try await store.claimIntake(
                kind: .passwordChange, worker: "other", now: Self.t0.addingTimeInterval(30), leaseUntil: Self.t0.addingTimeInterval(60), limit: 2)
            #expect(claimed == [Self.request(0), Self.request(1)])
            // The writer, if it was only slow, can no longer complete what it lost; the new owner can.
            #expect(try await store.completeIntake(ids: ["inq_0000", "inq_0001", "inq_0002"], worker: "writer") == ["inq_0002"])
            #expect(try await store.completeIntake(ids: ["inq_0000", "inq_0001"], worker: "other") == ["inq_0000", "inq_0001"])
            #expect(try await store.completeIntake(ids: ["inq_0000"], worker: "other").isEmpty)
            #expect(try await store.intakeCount(kind: .passwordChange) == 0)
        }
    }

    @Test(arguments: StoreKind.available)
    func unleasedRequestsAreClaimableAtOnceAndOnlyByKind(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertIntake([Self.request(1), Self.request(2, kind: IntakeKind(rawValue: "other_kind"))], worker: nil, leaseUntil: Self.t0)
            let claimed = try await store.claimIntake(
                kind: .passwordChange, worker: "w", now: Self.t0, leaseUntil: Self.t0.addingTimeInterval(30), limit: 10)
            #expect(claimed.map(\.id) == ["inq_0001"])
            #expect(try await store.intakeCount(kind: IntakeKind(rawValue: "other_kind")) == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func completionRollsBackWithItsTransaction(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertIntake([Self.request(1)], worker: "w", leaseUntil: Self.t0.addingTimeInterval(30))
            struct Failed: Error {}
            await #expect(throws: Failed.self) {
                try await store.transaction { tx in
                    #expect(try await tx.completeIntake(ids: ["inq_0001"], worker: "w") == ["inq_0001"])
                    throw Failed()
                }
            }
            // The outcome was not written, so the request is still there to be processed.
            #expect(try await store.intakeCount(kind: .passwordChange) == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func concurrentClaimersNeverShareARequest(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertIntake((0..<40).map { Self.request($0) }, worker: nil, leaseUntil: Self.t0)
            let ids = try await claimedByConcurrentWorkers(4) { worker in
                try await store.claimIntake(
                    kind: .passwordChange, worker: worker, now: Self.t0, leaseUntil: Self.t0.addingTimeInterval(30), limit: 3
                ).map(\.id)
            }
            #expect(ids.count == 40 && Set(ids).count == 40)
        }
    }
}
