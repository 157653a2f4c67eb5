import Synchronization
import Testing

@testable import UsherCore

/// The bounded queue behind `/dbconnections/change_password`: first in, first out, never above capacity.
@Suite("Work queue")
struct WorkQueueTests {
    @Test func takesInArrivalOrderAcrossInterleavedBatches() {
        let queue = WorkQueue<Int>(capacity: 5_000)
        var next = 0
        var taken: [Int] = []
        // Uneven submits and takes so the head moves through compaction and full drains.
        for round in 0..<200 {
            for _ in 0..<(round % 7 + 20) {
                #expect(queue.submit(next))
                next += 1
            }
            taken += queue.take(round % 5 == 0 ? 3 : 17)
        }
        while queue.count > 0 { taken += queue.take(64) }
        #expect(taken == Array(0..<next))
        #expect(queue.take(10).isEmpty)
    }

    @Test func refusesAboveCapacityAndAcceptsAgainOnceTaken() {
        let queue = WorkQueue<String>(capacity: 3)
        #expect(queue.submit("a") && queue.submit("b") && queue.submit("c"))
        #expect(!queue.submit("d"))
        #expect(queue.count == 3)
        #expect(queue.take(2) == ["a", "b"])
        #expect(queue.submit("e"))
        #expect(queue.take(10) == ["c", "e"])
        #expect(queue.count == 0)
    }

    /// A lingering consumer takes what arrived during the linger in one batch, and a full batch at once.
    @Test func aLingerGathersArrivalsIntoOneBatch() async {
        let queue = WorkQueue<Int>(capacity: 100)
        let batches = Mutex<[[Int]]>([])
        let consumer = Task {
            await queue.run(batchSize: 4, linger: .milliseconds(300)) { batch in batches.withLock { $0.append(batch) } }
        }
        #expect(queue.submit(1))
        try? await Task.sleep(for: .milliseconds(50))
        #expect(queue.submit(2))
        try? await Task.sleep(for: .milliseconds(500))
        #expect(batches.withLock { $0 } == [[1, 2]], "two arrivals 50 ms apart make one batch")
        for n in 3...6 { #expect(queue.submit(n)) }
        queue.finish()
        await consumer.value
        #expect(batches.withLock { $0 } == [[1, 2], [3, 4, 5, 6]])
    }
}
