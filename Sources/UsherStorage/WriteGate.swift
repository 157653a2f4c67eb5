/// An async mutex that lets one SQLite write (or write transaction) run at a time in this process.
///
/// Why: SQLite allows one writer per file, and SQLiteNIO waits for the lock inside a busy handler that blocks
/// a thread of NIO's small blocking pool. With several writers waiting, every pool thread can end up spinning
/// while the transaction holding the lock needs a thread to commit: a deadlock. Queuing writers here, as
/// suspended tasks instead of blocked threads, removes it. PostgreSQL has real row locks and needs no gate.
public actor WriteGate {
    /// Runs `body` with the gate held; `body` runs on the caller's executor, not the actor's.
    public nonisolated func withLock<T>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }

    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    /// Waits until the gate is free and takes it. Pair every call with `release()`.
    public func acquire() async {
        if !locked {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    public func release() {
        if waiters.isEmpty {
            locked = false
        } else {
            // Ownership passes straight to the next waiter; `locked` stays true.
            waiters.removeFirst().resume()
        }
    }
}
