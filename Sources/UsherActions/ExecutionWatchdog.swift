import CJavaScriptCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Monotonic time in nanoseconds (CLOCK_MONOTONIC), cheap enough to read from the watchdog callback.
func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// State of the time and memory limit for the execution running on one engine.
///
/// JavaScriptCore calls `watchdogShouldTerminate` on the JavaScript thread after every `slice` of running
/// JavaScript (per VM entry). The callback decides with this object's deadline and memory bound, so one
/// short slice serves as both a clock check and an RSS poller. It is only touched from the engine's thread,
/// in and out of the callback, so it needs no locking.
final class ExecutionWatchdog {
    enum Trip: Sendable, Equatable {
        case timeout
        case memory
    }

    var deadlineNanos: UInt64 = .max
    var memoryLimitBytes: Int = .max
    var sliceSeconds: Double = 0.005
    /// Set by the callback when it asked JavaScriptCore to terminate.
    var tripped: Trip?
    /// How many times the callback ran (diagnostics and tests).
    var polls = 0
    /// The largest RSS the callback saw during the execution.
    var peakResidentBytes = 0

    /// Arms the group's time limit for a new execution.
    func arm(group: JSContextGroupRef, deadlineNanos: UInt64, memoryLimitBytes: Int, slice: Duration) {
        self.deadlineNanos = deadlineNanos
        self.memoryLimitBytes = memoryLimitBytes
        self.sliceSeconds = max(0.001, Double(slice.components.seconds) + Double(slice.components.attoseconds) * 1e-18)
        tripped = nil
        polls = 0
        peakResidentBytes = 0
        JSContextGroupSetExecutionTimeLimit(
            group, sliceSeconds, watchdogShouldTerminate, Unmanaged.passUnretained(self).toOpaque())
    }
}

/// The JavaScriptCore time-limit callback: terminate past the deadline or over the memory bound, otherwise
/// re-arm and continue.
///
/// Re-arming from inside the callback is required: in JavaScriptCore 2.50 returning `false` alone does not
/// start a new period, and the script would then run unchecked forever (stack-notes §3).
private func watchdogShouldTerminate(_ ctx: JSContextRef?, _ info: UnsafeMutableRawPointer?) -> Bool {
    guard let ctx, let info else { return true }
    let watchdog = Unmanaged<ExecutionWatchdog>.fromOpaque(info).takeUnretainedValue()
    watchdog.polls += 1
    if monotonicNanoseconds() >= watchdog.deadlineNanos {
        watchdog.tripped = .timeout
        return true
    }
    if let resident = ProcessMemory.residentBytes() {
        watchdog.peakResidentBytes = max(watchdog.peakResidentBytes, resident)
        if resident > watchdog.memoryLimitBytes {
            watchdog.tripped = .memory
            return true
        }
    }
    JSContextGroupSetExecutionTimeLimit(JSContextGetGroup(ctx), watchdog.sliceSeconds, watchdogShouldTerminate, info)
    return false
}
