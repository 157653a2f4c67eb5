import Foundation
import Synchronization

/// Makes accepted requests durable before they are answered, in group commits.
///
/// A request waits for the write that carries it; every request that arrives while one write is in flight joins
/// the next, so under load a single commit carries many requests (on SQLite each commit is a write-lock round trip
/// and, outside WAL's relaxed sync, a disk flush) and idle latency stays at one write. The rows are leased to this
/// instance's worker, which gets them in memory through `handOff` without claiming them again.
public final class IntakeWriter: Sendable {
    let store: any IntakeStore
    let clock: any UsherClock
    /// The worker the written rows are leased to.
    public let worker: String
    let lease: TimeInterval
    /// Most requests waiting for a write; more answer "try later" rather than pile up in memory.
    let maxWaiting: Int
    let maxBatch: Int
    let handOff: @Sendable ([IntakeRequest]) -> Void

    private struct Waiting {
        var requests: [(IntakeRequest, CheckedContinuation<Void, any Error>)] = []
        var writing = false
    }
    private let waiting = Mutex(Waiting())

    public init(
        store: any IntakeStore, clock: any UsherClock, worker: String, lease: TimeInterval, maxWaiting: Int = 10_000, maxBatch: Int = 512,
        handOff: @escaping @Sendable ([IntakeRequest]) -> Void
    ) {
        self.store = store
        self.clock = clock
        self.worker = worker
        self.lease = lease
        self.maxWaiting = maxWaiting
        self.maxBatch = max(1, maxBatch)
        self.handOff = handOff
    }

    /// Returns once `request` is committed; throws what the write threw (the caller must not answer "sent") or
    /// `UsherError.intakeFull` when too many requests already wait.
    public func write(_ request: IntakeRequest) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enum Admission { case full, joined, leads }
            let admission = waiting.withLock { state -> Admission in
                guard state.requests.count < maxWaiting else { return .full }
                state.requests.append((request, continuation))
                if state.writing { return .joined }
                state.writing = true
                return .leads
            }
            switch admission {
            case .full: continuation.resume(throwing: UsherError.intakeFull)
            case .joined: break
            // The first request of an idle writer starts the write loop; it runs until nobody waits.
            case .leads: Task { await self.writeUntilDrained() }
            }
        }
    }

    private func writeUntilDrained() async {
        while true {
            let batch = waiting.withLock { state -> [(IntakeRequest, CheckedContinuation<Void, any Error>)] in
                let batch = Array(state.requests.prefix(maxBatch))
                state.requests.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            if batch.isEmpty { return }
            let requests = batch.map(\.0)
            do {
                try await store.insertIntake(requests, worker: worker, leaseUntil: clock.now.addingTimeInterval(lease))
                handOff(requests)
                for (_, continuation) in batch { continuation.resume() }
            } catch {
                for (_, continuation) in batch { continuation.resume(throwing: error) }
            }
        }
    }
}

extension UsherError {
    /// More accepted requests wait for their write than the writer holds: the caller answers 429.
    public static let intakeFull = UsherError(
        .rateLimited, "Usher is handling too many requests right now. Try again in a minute.", errorCode: "too_many_requests")
}
