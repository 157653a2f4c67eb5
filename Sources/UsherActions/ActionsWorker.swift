import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The body of `usher actions-worker`: a process that runs Actions for the server, one execution at a time.
///
/// Why a separate process: JavaScriptCore's limits are cooperative (the watchdog only runs while
/// JavaScript runs, memory is polled), so the hard guarantees come from the pool being able to kill -9
/// this process and start another. The worker reads newline-delimited JSON requests on stdin and writes one
/// response line per request on stdout; diagnostics go to stderr. It exits when stdin closes (the server
/// stopped or is shutting it down) and after an execution that hit the memory limit (RSS rarely shrinks
/// back, so a fresh process is the reliable way to return to baseline).
public enum ActionsWorker {
    /// How long the worker stays out of the way after an answer before preparing the next context, when requests come
    /// seldom enough for that (see the end of `run`).
    static let prewarmDelayMilliseconds: Int32 = 2

    /// Runs the worker loop until stdin closes; returns the process exit status.
    ///
    /// - Parameters:
    ///   - input: where requests come from (stdin in production).
    ///   - output: where responses go (stdout in production). When it is stdout, file descriptor 1 is first
    ///     pointed at stderr, so nothing else in the process (a stray `print`, a library warning) can
    ///     corrupt the protocol stream.
    public static func run(input: FileHandle = .standardInput, output: FileHandle = .standardOutput) -> Int32 {
        var logger = Logger(label: "usher.actions.worker")
        logger[metadataKey: "pid"] = "\(getpid())"
        signal(SIGPIPE, SIG_IGN)
        // Before JavaScriptCore initializes (see WorkerProcess: signal-based traps aborted the process once);
        // the pool already sets it, this covers a worker started by hand.
        setenv("JSC_usePollingTraps", "true", 0)

        var outputFD = output.fileDescriptor
        if outputFD == STDOUT_FILENO {
            let privateFD = dup(STDOUT_FILENO)
            if privateFD >= 0 {
                _ = fcntl(privateFD, F_SETFD, FD_CLOEXEC)
                dup2(STDERR_FILENO, STDOUT_FILENO)
                outputFD = privateFD
            }
        }

        let engine = JavaScriptActionEngine()
        engine.prewarm()
        let baseline = ProcessMemory.residentBytes() ?? 0
        func send(_ response: WorkerResponse) -> Bool {
            LineChannel.writeAll(outputFD, response.lineBytes)
        }

        guard send(WorkerResponse(id: 0, ready: true, residentBytes: baseline)) else { return 1 }
        var channel = LineChannel(readFD: input.fileDescriptor)
        var answeredAt: UInt64 = 0
        while true {
            let line: [UInt8]
            switch channel.nextLine() {
            case .endOfFile:
                return 0
            case .tooLong:
                logger.error("request line too long; exiting")
                return 2
            case .line(let bytes):
                line = bytes
            }
            guard !line.isEmpty else { continue }
            let idleBefore = monotonicNanoseconds() &- answeredAt
            let request: WorkerRequest
            do {
                request = try line.withUnsafeBufferPointer { try WorkerRequest(line: $0) }
            } catch {
                // Without a readable id the pool cannot match an answer; exiting makes it fail the
                // execution and start a fresh worker.
                logger.error("undecodable request; exiting", metadata: ["error": "\(error)"])
                return 2
            }
            let result = engine.execute(eventText: request.eventText, actions: request.actions, limits: request.limits)
            let resident = ProcessMemory.residentBytes() ?? 0
            let recycle = engine.lastExecutionHitMemoryLimit || resident > baseline + request.limits.memoryBudgetBytes
            guard send(WorkerResponse(id: request.id, result: result, residentBytes: resident, recycle: recycle))
            else { return 1 }
            if recycle {
                logger.info(
                    "recycling worker process", metadata: ["rss": "\(resident)", "baseline": "\(baseline)"])
                return 0
            }
            answeredAt = monotonicNanoseconds()
            // Pay for the next context while idle, not on the next login's critical path, and, when requests come
            // seldom, not at once either: right after an answer the server finishes that login (tokens, its write), and
            // on a small machine a context built at that moment takes a core from it (measured: about 0.5 ms of a
            // login on 2 cores). A request arriving meanwhile makes its own context. When requests come close together
            // the worker would rarely get to prepare one that way, so it prepares at once.
            let seldom = idleBefore > 4 * UInt64(prewarmDelayMilliseconds) * 1_000_000
            if !seldom || !channel.awaitInput(milliseconds: prewarmDelayMilliseconds) { engine.prewarm() }
        }
    }
}
