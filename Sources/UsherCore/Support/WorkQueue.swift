import Foundation
import Synchronization

/// A bounded in-memory queue drained in batches by one consumer task.
///
/// Used where a request must answer the same way, in the same time, whatever the outcome of its work
/// (`/dbconnections/change_password` must not reveal whether an address exists): the request only enqueues.
public final class WorkQueue<Element: Sendable>: Sendable {
    public let capacity: Int
    private let pending = Mutex(Pending())
    private let signal: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init(capacity: Int) {
        self.capacity = capacity
        (signal, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Elements from `head` on are waiting; taken ones before it are dropped in bulk, not shifted out one batch
    /// at a time (with a full queue, `removeFirst(64)` moved all 10,000 elements on every batch).
    private struct Pending {
        var elements: [Element?] = []
        var head = 0
        var count: Int { elements.count - head }
    }

    /// Adds `element`; false when the queue is full (the caller answers "try later").
    public func submit(_ element: Element) -> Bool {
        let accepted = pending.withLock { queue in
            guard queue.count < capacity else { return false }
            queue.elements.append(element)
            return true
        }
        if accepted { continuation.yield() }
        return accepted
    }

    public var count: Int { pending.withLock { $0.count } }

    /// Removes and returns up to `limit` elements, oldest first.
    public func take(_ limit: Int) -> [Element] {
        pending.withLock { queue in
            let end = min(queue.head + limit, queue.elements.count)
            var batch: [Element] = []
            batch.reserveCapacity(end - queue.head)
            for index in queue.head..<end {
                batch.append(queue.elements[index]!)
                queue.elements[index] = nil
            }
            queue.head = end
            if queue.head == queue.elements.count {
                queue.elements.removeAll(keepingCapacity: true)
                queue.head = 0
            } else if queue.head >= 1024, queue.head * 2 >= queue.elements.count {
                queue.elements.removeFirst(queue.head)
                queue.head = 0
            }
            return batch
        }
    }

    /// Processes batches until `finish()` is called, then drains what is left. With a `linger`, a batch that is
    /// not full waits that long for more before it is taken: fewer, larger batches, each one commit.
    public func run(batchSize: Int = 64, linger: Duration = .zero, _ process: ([Element]) async -> Void) async {
        for await _ in signal {
            while true {
                if linger > .zero, count < batchSize { try? await Task.sleep(for: linger) }
                let batch = take(batchSize)
                if batch.isEmpty { break }
                await process(batch)
            }
        }
        while true {
            let batch = take(batchSize)
            if batch.isEmpty { break }
            await process(batch)
        }
    }

    /// Ends `run` after the queued work is done.
    public func finish() { continuation.finish() }
}
