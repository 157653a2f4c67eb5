import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How the pool starts a worker: `usher actions-worker` in production.
public struct WorkerCommand: Sendable, Hashable {
    public var executablePath: String
    public var arguments: [String]
    /// Environment for the worker; `nil` inherits the server's.
    public var environment: [String: String]?

    public init(executablePath: String, arguments: [String] = ["actions-worker"], environment: [String: String]? = nil) {
        self.executablePath = executablePath
        self.arguments = arguments
        self.environment = environment
    }
}

/// Why the pool killed a worker; decides the failure reported for the execution it was running.
enum WorkerKillReason: Sendable, Equatable {
    case timeout
    case memoryLimit
    case startupTimeout
    case protocolError
    case shutdown
}

/// What a round trip to a worker produced.
enum WorkerReply: Sendable {
    case response(WorkerResponse)
    /// The worker exited before answering; the reason is set when the pool killed it on purpose.
    case exited(WorkerKillReason?)
}

/// One running `usher actions-worker` process and its pipes.
///
/// A dedicated reader thread blocks on the worker's stdout and resumes the waiting execution when its line
/// arrives: blocking reads on a thread of our own keep the round trip in the tens of microseconds and keep
/// blocking I/O off Swift's cooperative pool. End of file on stdout is how death is noticed (kill -9,
/// crash, recycle); the execution in flight then fails with the reason the pool recorded, if any.
final class WorkerProcess: @unchecked Sendable {
    // @unchecked Sendable: the mutable state lives in `state` (a Mutex); everything else is set in init
    // and never changes; `process` is only touched in init and after the reader saw end of file.
    let pid: Int32
    let startedAt: UInt64
    private let process: Process
    private let inputPipe: Pipe
    private let outputPipe: Pipe
    private let inputFD: Int32

    private struct State {
        var pendingID: UInt64 = 0
        var pending: CheckedContinuation<WorkerReply, Never>?
        var exited = false
        var killReason: WorkerKillReason?
        var inputClosed = false
    }
    private let state = Mutex(State())

    /// Starts the process and its reader thread. `onReady` runs (on the reader thread) when the worker
    /// announced itself, `onExit` once after its stdout closed and the process was reaped.
    init(
        command: WorkerCommand,
        onReady: @escaping @Sendable (WorkerProcess) -> Void,
        onExit: @escaping @Sendable (WorkerProcess) -> Void
    ) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command.executablePath)
        process.arguments = command.arguments
        // Polling VM traps: the watchdog then interrupts JavaScript through checks compiled into the code
        // instead of JavaScriptCore's signal-sending thread, which aborted the process once in ~20k
        // executions here (JavaScriptCore 2.50, heavy CPU contention). An explicit setting wins.
        var environment = command.environment ?? ProcessInfo.processInfo.environment
        if environment["JSC_usePollingTraps"] == nil { environment["JSC_usePollingTraps"] = "true" }
        process.environment = environment
        let inputPipe = Pipe()
        let outputPipe = Pipe()
        process.standardInput = inputPipe
        process.standardOutput = outputPipe
        // Our ends must not leak into other children (another worker holding this worker's stdin open
        // would keep it from ever seeing end of file).
        _ = fcntl(inputPipe.fileHandleForWriting.fileDescriptor, F_SETFD, FD_CLOEXEC)
        _ = fcntl(outputPipe.fileHandleForReading.fileDescriptor, F_SETFD, FD_CLOEXEC)
        try process.run()
        self.process = process
        self.inputPipe = inputPipe
        self.outputPipe = outputPipe
        self.inputFD = inputPipe.fileHandleForWriting.fileDescriptor
        self.pid = process.processIdentifier
        self.startedAt = monotonicNanoseconds()

        let readFD = outputPipe.fileHandleForReading.fileDescriptor
        let thread = Thread { [self] in
            self.readLoop(readFD: readFD, onReady: onReady)
            onExit(self)
        }
        thread.name = "usher-actions-worker-\(pid)"
        thread.stackSize = 512 << 10
        thread.start()
    }

    var hasExited: Bool { state.withLock { $0.exited } }
    var killReason: WorkerKillReason? { state.withLock { $0.killReason } }

    /// Sends one request line and waits for its answer (or for the worker's death).
    func roundTrip(id: UInt64, line: [UInt8]) async -> WorkerReply {
        await withCheckedContinuation { continuation in
            let alreadyExited: WorkerKillReason?? = state.withLock { state in
                if state.exited { return .some(state.killReason) }
                state.pendingID = id
                state.pending = continuation
                return .none
            }
            if let reason = alreadyExited {
                continuation.resume(returning: .exited(reason))
                return
            }
            if !LineChannel.writeAll(inputFD, line) {
                // The worker is gone or going; its stdout will close and the reader resumes us.
                kill(reason: nil)
            }
        }
    }

    /// SIGKILL, remembering why (the first reason wins).
    func kill(reason: WorkerKillReason?) {
        let alreadyExited = state.withLock { state -> Bool in
            if state.killReason == nil { state.killReason = reason }
            return state.exited
        }
        if !alreadyExited { sendSignal(pid, SIGKILL) }
    }

    /// Closes the worker's stdin: it finishes what it is doing and exits.
    func closeInput(reason: WorkerKillReason?) {
        let shouldClose = state.withLock { state -> Bool in
            if state.killReason == nil { state.killReason = reason }
            defer { state.inputClosed = true }
            return !state.inputClosed
        }
        if shouldClose { try? inputPipe.fileHandleForWriting.close() }
    }

    private func readLoop(readFD: Int32, onReady: @Sendable (WorkerProcess) -> Void) {
        var channel = LineChannel(readFD: readFD)
        reading: while true {
            switch channel.nextLine() {
            case .endOfFile:
                break reading
            case .tooLong:
                kill(reason: .protocolError)
                break reading
            case .line(let line):
                guard let response = try? line.withUnsafeBufferPointer({ try WorkerResponse(line: $0) }) else {
                    kill(reason: .protocolError)
                    break reading
                }
                if response.ready {
                    onReady(self)
                    continue
                }
                let continuation = state.withLock { state -> CheckedContinuation<WorkerReply, Never>? in
                    guard state.pendingID == response.id, let pending = state.pending else { return nil }
                    state.pending = nil
                    return pending
                }
                guard let continuation else {
                    kill(reason: .protocolError)
                    break reading
                }
                continuation.resume(returning: .response(response))
            }
        }
        // Make sure it is really gone (it may only have closed stdout), then reap it.
        sendSignal(pid, SIGKILL)
        process.waitUntilExit()
        let (pending, reason) = state.withLock { state in
            state.exited = true
            defer { state.pending = nil }
            return (state.pending, state.killReason)
        }
        pending?.resume(returning: .exited(reason))
        try? outputPipe.fileHandleForReading.close()
        closeInput(reason: nil)
    }
}

/// `kill(2)`; a free function because inside `WorkerProcess` the name `kill` means the method.
private func sendSignal(_ pid: Int32, _ signal: Int32) {
    _ = kill(pid, signal)
}
