import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs post-login executions in a set of `usher actions-worker` processes.
///
/// The pool is the hard boundary around untrusted JavaScript: whatever an Action does, the worst outcome is
/// that its own execution fails and its worker is replaced. It
/// - dispatches each execution to a free worker, queueing (bounded in length and in wait) when all are busy;
/// - enforces from the outside a wall-clock deadline (the time limit plus a grace) and a hard RSS bound per
///   worker, with kill -9, as a backstop for what the in-worker watchdog cannot stop (native code that never
///   returns to JavaScript, a single huge allocation);
/// - replaces workers that die, immediately after a kill it ordered or a recycle, with exponential backoff
///   after unexpected crashes so a worker that cannot start does not spin;
/// - never throws for an execution: every problem becomes `PostLoginExecutionResult.failure`.
///
/// Call `shutdown()` before dropping the pool; it terminates the workers (they also exit on their own when
/// the server dies, since their stdin closes). The pool ignores SIGPIPE process-wide so that writing to a
/// worker that just died is an error, not the death of the server.
public actor ActionWorkerPool {
    /// How the pool runs its workers.
    public struct Configuration: Sendable {
        public var command: WorkerCommand
        public var workerCount: Int
        /// Limits sent with every execution; the worker enforces them inside.
        public var limits: ActionLimits
        /// Extra wall-clock time past `limits.timeLimit` before the pool kills the worker from outside.
        public var grace: Duration
        /// RSS above which the pool kills a worker, whatever it is doing.
        public var workerMemoryLimitBytes: Int
        /// How long an execution may wait for a free worker.
        public var queueTimeout: Duration
        /// How many executions may wait for a free worker before new ones are refused at once.
        public var maxQueueLength: Int
        /// How often deadlines, worker RSS and queue waits are checked.
        public var monitorInterval: Duration
        /// A worker that does not announce itself within this time after spawn is killed.
        public var startupTimeout: Duration
        /// Delay before restarting after the first unexpected crash; doubles per consecutive crash.
        public var restartBackoff: Duration
        public var maxRestartBackoff: Duration

        public init(
            command: WorkerCommand,
            workerCount: Int = 2,
            limits: ActionLimits = ActionLimits(),
            grace: Duration = .seconds(1),
            workerMemoryLimitBytes: Int = 512 << 20,
            queueTimeout: Duration = .seconds(10),
            maxQueueLength: Int = 256,
            monitorInterval: Duration = .milliseconds(20),
            startupTimeout: Duration = .seconds(10),
            restartBackoff: Duration = .milliseconds(100),
            maxRestartBackoff: Duration = .seconds(5)
        ) {
            self.command = command
            self.workerCount = max(1, workerCount)
            self.limits = limits
            self.grace = grace
            self.workerMemoryLimitBytes = workerMemoryLimitBytes
            self.queueTimeout = queueTimeout
            self.maxQueueLength = maxQueueLength
            self.monitorInterval = monitorInterval
            self.startupTimeout = startupTimeout
            self.restartBackoff = restartBackoff
            self.maxRestartBackoff = maxRestartBackoff
        }
    }

    /// Counters for metrics and tests.
    public struct Statistics: Sendable, Hashable {
        /// PIDs of workers that are running now (starting, idle or busy).
        public var workerPIDs: [Int32]
        /// PIDs of workers running an execution now.
        public var busyWorkerPIDs: [Int32]
        /// Workers ready for work right now.
        public var idleWorkers: Int
        /// Workers started after the initial ones (replacements).
        public var restarts: Int
        /// Workers killed by the pool (deadline, memory bound, start-up timeout, protocol error).
        public var kills: Int
        public var completedExecutions: Int
        public var queuedExecutions: Int
    }

    public nonisolated let configuration: Configuration
    private let logger: Logger

    private enum SlotState {
        case stopped
        case starting
        case idle
        case busy(deadline: UInt64)
        /// Finishing on its own (recycle) or waiting for a restart.
        case retiring
    }

    private struct Slot {
        var worker: WorkerProcess?
        var state: SlotState = .stopped
        var consecutiveCrashes = 0
        /// The worker was told to exit after its last answer (memory recycle); its exit is expected.
        var recycling = false
    }

    private struct Waiter {
        var since: UInt64
        var limits: ActionLimits
        var continuation: CheckedContinuation<Result<WorkerProcess, ActionFailure>, Never>
    }

    private var slots: [Slot]
    private var idle: [Int] = []
    private var waiters: [Waiter] = []
    private var started = false
    private var isShutDown = false
    private var monitor: Task<Void, Never>?
    private var nextRequestID: UInt64 = 1
    private var restarts = 0
    private var kills = 0
    private var completed = 0

    public init(configuration: Configuration, logger: Logger = Logger(label: "usher.actions.pool")) {
        self.configuration = configuration
        self.logger = logger
        self.slots = Array(repeating: Slot(), count: configuration.workerCount)
        signal(SIGPIPE, SIG_IGN)
    }

    deinit {
        monitor?.cancel()
        for slot in slots { slot.worker?.kill(reason: .shutdown) }
    }

    /// Spawns the workers (also done by the first `execute`). Returns once they are ready or the start-up
    /// timeout passed, so a server can warm the pool before taking traffic.
    public func start() async {
        startIfNeeded()
        let giveUp = monotonicNanoseconds() &+ UInt64(configuration.startupTimeout.nanoseconds)
        while !isShutDown, idle.count < slots.count, monotonicNanoseconds() < giveUp {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Runs one login's Actions on a worker. Never throws: problems are reported in `failure`.
    public nonisolated func execute(_ request: PostLoginExecutionRequest) async -> PostLoginExecutionResult {
        let limits = configuration.limits
        let body = WorkerRequest.bodyText(limits: limits, event: request.event, actions: request.actions)
        let (id, acquired) = await acquire(limits: limits, waitIfBusy: true)
        switch acquired {
        case .failure(let failure): return .failed(failure)
        case .success(let worker): return await run(body, id: id, on: worker)
        }
    }

    /// Runs one login's Actions only if a worker is free right now, never queueing, under a time limit no longer
    /// than `timeLimit`; nil when every worker is busy (or starting). For work done ahead, on the chance that it
    /// is needed: it must neither wait for nor keep waiting the executions that certainly are.
    public nonisolated func executeIfIdle(_ request: PostLoginExecutionRequest, timeLimit: Duration) async -> PostLoginExecutionResult? {
        var limits = configuration.limits
        limits.timeLimit = min(limits.timeLimit, timeLimit)
        let body = WorkerRequest.bodyText(limits: limits, event: request.event, actions: request.actions)
        let (id, acquired) = await acquire(limits: limits, waitIfBusy: false)
        switch acquired {
        case .failure(.unavailable): return nil
        case .failure(let failure): return .failed(failure)
        case .success(let worker): return await run(body, id: id, on: worker)
        }
    }

    private nonisolated func run(_ body: [UInt8], id: UInt64, on worker: WorkerProcess) async -> PostLoginExecutionResult {
        let line = WorkerRequest.line(id: id, body: body)
        let reply = await worker.roundTrip(id: id, line: line)
        await release(worker, reply: reply)
        switch reply {
        case .response(let response):
            return response.result ?? .failed(.internalError(message: "the worker answered without a result"))
        case .exited(let reason):
            switch reason {
            case .timeout: return .failed(.timeout)
            case .memoryLimit: return .failed(.memoryLimit)
            case .shutdown: return .failed(.unavailable(reason: "the action runner is shutting down"))
            case .protocolError: return .failed(.internalError(message: "the worker broke the protocol"))
            case .startupTimeout, nil: return .failed(.workerCrashed)
            }
        }
    }

    /// Stops taking work and terminates the workers: stdin is closed so idle ones exit cleanly; anything
    /// still running after `grace` is killed. Waiting executions fail with `.unavailable`.
    public func shutdown() async {
        guard !isShutDown else { return }
        isShutDown = true
        monitor?.cancel()
        monitor = nil
        let pending = waiters
        waiters.removeAll()
        for waiter in pending {
            waiter.continuation.resume(returning: .failure(.unavailable(reason: "the action runner is shutting down")))
        }
        let workers = slots.compactMap(\.worker)
        for worker in workers { worker.closeInput(reason: .shutdown) }
        let giveUp = monotonicNanoseconds() &+ UInt64(configuration.grace.nanoseconds)
        while workers.contains(where: { !$0.hasExited }), monotonicNanoseconds() < giveUp {
            try? await Task.sleep(for: .milliseconds(5))
        }
        for worker in workers where !worker.hasExited { worker.kill(reason: .shutdown) }
        while workers.contains(where: { !$0.hasExited }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        idle.removeAll()
        for index in slots.indices { slots[index] = Slot() }
    }

    public func statistics() -> Statistics {
        Statistics(
            workerPIDs: slots.compactMap { slot in
                if case .stopped = slot.state { return nil }
                return slot.worker.flatMap { $0.hasExited ? nil : $0.pid }
            },
            busyWorkerPIDs: slots.compactMap { slot in
                if case .busy = slot.state { return slot.worker?.pid }
                return nil
            },
            idleWorkers: idle.count, restarts: restarts, kills: kills, completedExecutions: completed,
            queuedExecutions: waiters.count)
    }

    // MARK: - Dispatch

    private func acquire(limits: ActionLimits, waitIfBusy: Bool) async -> (UInt64, Result<WorkerProcess, ActionFailure>) {
        let id = nextRequestID
        nextRequestID += 1
        if isShutDown { return (id, .failure(.unavailable(reason: "the action runner is shut down"))) }
        startIfNeeded()
        if !idle.isEmpty {
            let index = idle.removeFirst()
            return (id, .success(markBusy(index, limits: limits)))
        }
        if !waitIfBusy { return (id, .failure(.unavailable(reason: "every action worker is busy"))) }
        if waiters.count >= configuration.maxQueueLength {
            return (id, .failure(.unavailable(reason: "too many logins are waiting for an action worker")))
        }
        let result = await withCheckedContinuation { continuation in
            waiters.append(Waiter(since: monotonicNanoseconds(), limits: limits, continuation: continuation))
        }
        return (id, result)
    }

    /// Marks slot `index` busy until the outside deadline of an execution under `limits`.
    private func markBusy(_ index: Int, limits: ActionLimits) -> WorkerProcess {
        let limit = limits.timeLimit + configuration.grace
        slots[index].state = .busy(deadline: monotonicNanoseconds() &+ UInt64(max(0, limit.nanoseconds)))
        return slots[index].worker!
    }

    /// A worker of slot `index` became free: hand it to the oldest waiter or park it.
    private func makeAvailable(_ index: Int) {
        if !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            waiter.continuation.resume(returning: .success(markBusy(index, limits: waiter.limits)))
        } else {
            slots[index].state = .idle
            idle.append(index)
        }
    }

    private func release(_ worker: WorkerProcess, reply: WorkerReply) {
        guard let index = slots.firstIndex(where: { $0.worker === worker }) else { return }
        guard case .busy = slots[index].state else { return }
        switch reply {
        case .response(let response):
            completed += 1
            slots[index].consecutiveCrashes = 0
            if worker.killReason != nil || worker.hasExited {
                // Killed between its answer and this release (see `kill`): the exit handler replaces it.
                slots[index].state = .retiring
            } else if response.recycle == true {
                slots[index].state = .retiring
                slots[index].recycling = true
                worker.closeInput(reason: nil)
            } else {
                makeAvailable(index)
            }
        case .exited:
            // `workerExited` restarts the slot.
            slots[index].state = .retiring
        }
    }

    // MARK: - Worker lifecycle

    private func startIfNeeded() {
        guard !started, !isShutDown else { return }
        started = true
        for index in slots.indices { spawn(index) }
        let interval = configuration.monitorInterval
        monitor = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                await self.tick()
            }
        }
    }

    private func spawn(_ index: Int) {
        guard !isShutDown else { return }
        do {
            let worker = try WorkerProcess(
                command: configuration.command,
                onReady: { [weak self] worker in Task { await self?.workerReady(worker) } },
                onExit: { [weak self] worker in Task { await self?.workerExited(worker) } })
            slots[index].worker = worker
            slots[index].state = .starting
        } catch {
            logger.error(
                "could not start an action worker",
                metadata: ["command": "\(configuration.command.executablePath)", "error": "\(error)"])
            slots[index].worker = nil
            slots[index].state = .retiring
            slots[index].consecutiveCrashes += 1
            scheduleRestart(index)
        }
    }

    private func workerReady(_ worker: WorkerProcess) {
        guard let index = slots.firstIndex(where: { $0.worker === worker }), case .starting = slots[index].state
        else { return }
        logger.debug("action worker ready", metadata: ["pid": "\(worker.pid)"])
        makeAvailable(index)
    }

    private func workerExited(_ worker: WorkerProcess) {
        guard let index = slots.firstIndex(where: { $0.worker === worker }) else { return }
        idle.removeAll { $0 == index }
        var wasStarting = false
        if case .starting = slots[index].state { wasStarting = true }
        let recycled = slots[index].recycling
        slots[index].worker = nil
        slots[index].state = .retiring
        slots[index].recycling = false
        if isShutDown { return }
        switch worker.killReason {
        case .shutdown?:
            return
        case .timeout?, .memoryLimit?:
            // Killed for what an Action did: replace it at once, the worker itself was fine.
            break
        case .startupTimeout?, .protocolError?:
            slots[index].consecutiveCrashes += 1
        case nil:
            if wasStarting || !recycled {
                slots[index].consecutiveCrashes += 1
                logger.error(
                    "action worker died unexpectedly",
                    metadata: ["pid": "\(worker.pid)", "consecutiveCrashes": "\(slots[index].consecutiveCrashes)"])
            }
        }
        if wasStarting, slots[index].consecutiveCrashes == 0 { slots[index].consecutiveCrashes = 1 }
        scheduleRestart(index)
    }

    private func scheduleRestart(_ index: Int) {
        guard !isShutDown else { return }
        let crashes = slots[index].consecutiveCrashes
        restarts += 1
        if crashes == 0 {
            spawn(index)
            return
        }
        var delay = configuration.restartBackoff
        for _ in 1..<min(crashes, 20) { delay = delay * 2 }
        delay = min(delay, configuration.maxRestartBackoff)
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.spawn(index)
        }
    }

    /// Periodic checks: execution deadlines, worker RSS, start-up timeouts, queue waits.
    private func tick() {
        let now = monotonicNanoseconds()
        for index in slots.indices {
            guard let worker = slots[index].worker else { continue }
            switch slots[index].state {
            case .busy(let deadline):
                if now > deadline {
                    kill(worker, reason: .timeout, index: index)
                } else if let rss = ProcessMemory.residentBytes(pid: worker.pid), rss > configuration.workerMemoryLimitBytes {
                    kill(worker, reason: .memoryLimit, index: index)
                }
            case .idle:
                if let rss = ProcessMemory.residentBytes(pid: worker.pid), rss > configuration.workerMemoryLimitBytes {
                    kill(worker, reason: .memoryLimit, index: index)
                }
            case .starting:
                if now &- worker.startedAt > UInt64(configuration.startupTimeout.nanoseconds) {
                    kill(worker, reason: .startupTimeout, index: index)
                }
            case .stopped, .retiring:
                break
            }
        }
        let maxWait = UInt64(max(0, configuration.queueTimeout.nanoseconds))
        while let oldest = waiters.first, now &- oldest.since > maxWait {
            waiters.removeFirst()
            oldest.continuation.resume(returning: .failure(.unavailable(reason: "no action worker became free in time")))
        }
    }

    private func kill(_ worker: WorkerProcess, reason: WorkerKillReason, index: Int) {
        kills += 1
        logger.warning("killing action worker", metadata: ["pid": "\(worker.pid)", "reason": "\(reason)"])
        if case .idle = slots[index].state { idle.removeAll { $0 == index } }
        // Busy ones too: the worker may have answered already, with `release` still to run; a killed worker must
        // never be handed to the next execution. `workerExited` restarts the slot.
        slots[index].state = .retiring
        worker.kill(reason: reason)
    }
}
