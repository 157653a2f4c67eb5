import Foundation
import Synchronization
import Testing

@testable import UsherCore

/// The courier's pipeline bounds what a crash can re-send: slots stop taking messages while `unrecordedLimit`
/// are being sent or accepted and not yet recorded, and go on once the writer's marks are written.
@Suite("Courier pipeline")
struct CourierPipelineTests {
    static func messages(_ count: Int) -> [OutboxMessage] {
        (0..<count).map {
            OutboxMessage(
                id: "m\($0)", to: "u\($0)@example.com", subject: "S", html: "x", messageID: "<\($0)@x>", purpose: "t", nextAttemptAt: .distantPast,
                createdAt: .distantPast)
        }
    }

    /// Messages the slots took and reported accepted.
    final class Counter: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        func add() { count.withLock { $0 += 1 } }
    }

    /// Waits (up to two seconds) until `condition` holds.
    static func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func slotsWaitForTheMarksOnceTheLimitIsReached() async throws {
        let pipeline = Pipeline(slots: 4, unrecordedLimit: 6)
        pipeline.push(Self.messages(40))
        let accepted = Counter()
        let slots = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<pipeline.slots {
                    group.addTask {
                        while let message = await pipeline.next() {
                            accepted.add()
                            pipeline.delivered(message.id)
                        }
                    }
                }
            }
        }
        // Nothing is recorded: the slots stop at the limit, however many messages wait.
        try await Self.eventually { accepted.value == 6 }
        try await Task.sleep(for: .milliseconds(50))
        #expect(accepted.value == 6)

        // Taken for writing still counts; written makes room for as many.
        let taken = pipeline.takeSent()
        #expect(taken.count == 6)
        try await Task.sleep(for: .milliseconds(50))
        #expect(accepted.value == 6)
        pipeline.recorded(taken.count)
        try await Self.eventually { accepted.value == 12 }
        #expect(accepted.value == 12)

        // A failed write gives the ids back: still unrecorded, still no room.
        let failed = pipeline.takeSent()
        pipeline.returnSent(failed)
        try await Task.sleep(for: .milliseconds(50))
        #expect(accepted.value == 12)

        // Recording as fast as slots send drains everything; stopping then ends the slots.
        while accepted.value < 40 {
            let ids = pipeline.takeSent()
            pipeline.recorded(ids.count)
            try await Task.sleep(for: .milliseconds(1))
        }
        pipeline.stop()
        await slots.value
        #expect(accepted.value == 40)
    }

    @Test func stoppingReleasesSlotsWaitingForMarks() async throws {
        let pipeline = Pipeline(slots: 2, unrecordedLimit: 2)
        pipeline.push(Self.messages(2))
        let slots = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        while let message = await pipeline.next() { pipeline.delivered(message.id) }
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        pipeline.stop()
        await slots.value
        #expect(pipeline.takeSent().count == 2)
    }
}
