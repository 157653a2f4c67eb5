import Foundation
import NIOCore

/// A small pool of set-up SMTP connections shared by concurrent senders.
///
/// At most `maximumConnections` connections exist (open or being opened); a sender that finds none
/// idle and the limit reached waits in FIFO order. A connection returns to the pool after a
/// transaction if it is still usable and has carried fewer than `maximumMessagesPerConnection`
/// messages; otherwise it is closed with QUIT. Idle connections are reused most-recently-used first,
/// and a sweeper closes those idle longer than `idleTimeout`. The pool only hands out connections; it
/// never talks SMTP itself. State is guarded by a lock (no actor hop on the hot path).
final class SMTPConnectionPool: @unchecked Sendable {
    /// What ``acquire()`` grants.
    enum Lease {
        /// Reuse this connection, which has carried `messagesSent` messages.
        case existing(SMTPConnection, messagesSent: Int)
        /// Open a new connection (a slot has been reserved); call ``release`` or ``openFailed`` after.
        case create
    }

    private struct Idle {
        var connection: SMTPConnection
        var messagesSent: Int
        var since: NIODeadline
    }

    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Lease, any Error>
    }

    private let lock = NSLock()
    private let configuration: SMTPConfiguration.Pool
    private var idle: [Idle] = []
    private var open = 0
    private var waiters: [Waiter] = []
    private var nextWaiterID: UInt64 = 0
    private var isShutdown = false
    private var drained: [CheckedContinuation<Void, Never>] = []
    private var sweeper: RepeatedTask?

    init(configuration: SMTPConfiguration.Pool, eventLoop: any EventLoop) {
        self.configuration = configuration
        let interval = TimeAmount.nanoseconds(max(configuration.idleTimeout.nanoseconds / 2, 50_000_000))
        self.sweeper = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            self?.closeExpiredIdleConnections()
        }
    }

    /// Number of open (or opening) connections, for tests and metrics.
    var openConnections: Int { lock.withLock { open } }

    /// Gets a connection to use, or permission to open one, waiting if the pool is at its limit.
    func acquire() async throws(SMTPError) -> Lease {
        var toClose: [SMTPConnection] = []
        let immediate: Lease? = lock.withLock {
            guard !isShutdown else { return nil }
            while let candidate = idle.popLast() {
                if candidate.connection.isActive { return .existing(candidate.connection, messagesSent: candidate.messagesSent) }
                open -= 1
                toClose.append(candidate.connection)
            }
            if open < configuration.maximumConnections {
                open += 1
                return .create
            }
            return nil
        }
        for connection in toClose { _ = connection.quit() }
        if let immediate { return immediate }
        if lock.withLock({ isShutdown }) {
            throw SMTPError(.shutdown, temporary: true, detail: "the SMTP client has been shut down")
        }
        return try await waitForLease()
    }

    private func waitForLease() async throws(SMTPError) -> Lease {
        let id = lock.withLock { () -> UInt64 in
            nextWaiterID += 1
            return nextWaiterID
        }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                    let resumeNow: Result<Lease, SMTPError>? = lock.withLock {
                        if isShutdown { return .failure(SMTPError(.shutdown, temporary: true, detail: "the SMTP client has been shut down")) }
                        if Task.isCancelled { return .failure(Self.cancelled) }
                        // The state may have changed since acquire() looked.
                        while let candidate = idle.popLast() {
                            if candidate.connection.isActive {
                                return .success(.existing(candidate.connection, messagesSent: candidate.messagesSent))
                            }
                            open -= 1
                            _ = candidate.connection.quit()
                        }
                        if open < configuration.maximumConnections {
                            open += 1
                            return .success(.create)
                        }
                        waiters.append(Waiter(id: id, continuation: continuation))
                        return nil
                    }
                    if let resumeNow { continuation.resume(with: resumeNow.mapError { $0 as any Error }) }
                }
            } onCancel: {
                let waiter: Waiter? = lock.withLock {
                    guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return waiters.remove(at: index)
                }
                waiter?.continuation.resume(throwing: Self.cancelled)
            }
        } catch let error as SMTPError {
            throw error
        } catch {
            throw Self.cancelled
        }
    }

    private static let cancelled = SMTPError(.shutdown, temporary: true, detail: "cancelled while waiting for an SMTP connection")

    /// Returns a connection after use. `reusable` is false when the connection is in an unknown state.
    func release(_ connection: SMTPConnection, messagesSent: Int, reusable: Bool) {
        var handOff: (Waiter, Lease)?
        var close = false
        var drainedNow: [CheckedContinuation<Void, Never>] = []
        lock.withLock {
            if reusable && !isShutdown && connection.isActive && messagesSent < configuration.maximumMessagesPerConnection {
                if !waiters.isEmpty {
                    handOff = (waiters.removeFirst(), .existing(connection, messagesSent: messagesSent))
                } else {
                    idle.append(Idle(connection: connection, messagesSent: messagesSent, since: .now()))
                }
                return
            }
            close = true
            if !isShutdown, !waiters.isEmpty {
                // The slot passes to a waiter, who opens a new connection.
                handOff = (waiters.removeFirst(), .create)
            } else {
                open -= 1
                if isShutdown && open == 0 {
                    drainedNow = drained
                    drained = []
                }
            }
        }
        if close { _ = connection.quit() }
        if let (waiter, lease) = handOff { waiter.continuation.resume(returning: lease) }
        for continuation in drainedNow { continuation.resume() }
    }

    /// A connection reserved by ``Lease/create`` could not be opened: free its slot.
    func openFailed() {
        var handOff: Waiter?
        var drainedNow: [CheckedContinuation<Void, Never>] = []
        lock.withLock {
            if !isShutdown, !waiters.isEmpty {
                handOff = waiters.removeFirst()
            } else {
                open -= 1
                if isShutdown && open == 0 {
                    drainedNow = drained
                    drained = []
                }
            }
        }
        // The waiter tries to connect itself (and reports its own failure) rather than inheriting ours.
        handOff?.continuation.resume(returning: .create)
        for continuation in drainedNow { continuation.resume() }
    }

    private func closeExpiredIdleConnections() {
        let now = NIODeadline.now()
        var expired: [SMTPConnection] = []
        var drainedNow: [CheckedContinuation<Void, Never>] = []
        lock.withLock {
            idle.removeAll { entry in
                let stale = now - entry.since >= configuration.idleTimeout || !entry.connection.isActive
                if stale { expired.append(entry.connection) }
                return stale
            }
            open -= expired.count
            if isShutdown && open == 0 {
                drainedNow = drained
                drained = []
            }
        }
        for connection in expired { _ = connection.quit() }
        for continuation in drainedNow { continuation.resume() }
    }

    /// Stops handing out connections, fails waiters, closes idle connections with QUIT, and returns
    /// once every connection in use has been returned and closed.
    func shutdown() async {
        let (idleConnections, waitersToFail): ([SMTPConnection], [Waiter]) = lock.withLock {
            isShutdown = true
            let connections = idle.map(\.connection)
            open -= idle.count
            idle = []
            let w = waiters
            waiters = []
            return (connections, w)
        }
        sweeper?.cancel()
        let error = SMTPError(.shutdown, temporary: true, detail: "the SMTP client has been shut down")
        for waiter in waitersToFail { waiter.continuation.resume(throwing: error) }
        for connection in idleConnections { try? await connection.quit().get() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = lock.withLock { () -> Bool in
                if open == 0 { return true }
                drained.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
