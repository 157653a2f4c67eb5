import CJavaScriptCore
import UsherJSON

/// Runs post-login Actions in-process on JavaScriptCore.
///
/// Isolation between executions: every Action run gets a **fresh global context** (its own global object
/// and intrinsics) in the engine's context group, and the context is released afterwards, never reused, so
/// nothing an Action does to `globalThis` or to built-in prototypes is visible to any later run. Creating a
/// context and evaluating the glue costs ~0.1–0.2 ms; `prewarm()` lets an idle worker pay that before the
/// next request arrives. What is reused between executions is only immutable text: the glue's and each
/// Action's source as JavaScriptCore strings (and JavaScriptCore's own per-VM cache of compiled code keyed
/// by that text), never an object an Action could reach.
///
/// Limits: a time limit over the whole execution and a memory budget (RSS growth), both enforced by
/// JavaScriptCore's execution time-limit callback polled every `ActionLimits.watchdogSlice`. After an
/// execution had to be terminated, the whole context group (the VM) is discarded and a new one created,
/// so nothing left queued by the terminated code (microtasks) can run later.
///
/// This engine shares the process with its caller: it cannot stop native code that never returns to
/// JavaScript (a catastrophic regular expression, one huge allocation). The server therefore runs it
/// inside worker processes (`ActionsWorker`, `ActionWorkerPool`) that can be killed from outside.
///
/// Not thread-safe: use one engine from one thread (JavaScriptCore contexts are single-threaded).
public final class JavaScriptActionEngine {
    /// Limits used by `execute(_:)` when the request does not bring its own.
    public var limits: ActionLimits
    /// How many executions had to be terminated (time or memory) since the engine was created.
    public private(set) var terminatedExecutions = 0
    /// Whether the last execution ended in a memory termination (the worker then recycles its process,
    /// since RSS does not reliably shrink back).
    public private(set) var lastExecutionHitMemoryLimit = false

    private var group: JSContextGroupRef
    private var spares: [PreparedContext] = []
    private let watchdog = ExecutionWatchdog()

    // Sources evaluated again and again, converted to JavaScriptCore strings once: converting the glue (~10 KB)
    // and each Action's code to UTF-16 for every context showed in the worker's profile. JSStringRefs are
    // immutable and not tied to a context or group, so sharing them between executions shares no state.
    private let glueSource: JSStringRef
    private let glueURL: JSStringRef
    private let actionURL: JSStringRef
    /// Wrapped code and secrets JSON per Action ID, replaced when the code or secrets differ (a new version).
    private var actionSources: [String: ActionSource] = [:]
    /// More distinct Actions than this and the cache starts over (a worker normally sees a handful).
    static let maxCachedActionSources = 64

    public init(limits: ActionLimits = ActionLimits()) {
        self.limits = limits
        self.group = JSContextGroupCreate()
        self.glueSource = JSStrings.make(ActionGlue.source)
        self.glueURL = JSStrings.make("usher-glue.js")
        self.actionURL = JSStrings.make(ActionGlue.sourceURL)
    }

    deinit {
        releaseSpares()
        for source in actionSources.values { source.release() }
        JSStringRelease(glueSource)
        JSStringRelease(glueURL)
        JSStringRelease(actionURL)
        JSContextGroupClearExecutionTimeLimit(group)
        JSContextGroupRelease(group)
    }

    /// Runs the request's Actions in order with the engine's limits.
    public func execute(_ request: PostLoginExecutionRequest) -> PostLoginExecutionResult {
        execute(request, limits: limits)
    }

    /// Runs the request's Actions in order with the given limits.
    public func execute(_ request: PostLoginExecutionRequest, limits: ActionLimits) -> PostLoginExecutionResult {
        var eventText: [UInt8] = []
        eventText.reserveCapacity(1024)
        request.event.write(to: &eventText)
        return execute(eventText: eventText, actions: request.actions, limits: limits)
    }

    /// Prepares up to `count` fresh contexts ahead of time (glue evaluated, no Action code yet), so the next
    /// execution does not pay for context creation. Workers call this while idle.
    public func prewarm(count: Int = 1) {
        while spares.count < count, let prepared = makeContext() {
            spares.append(prepared)
        }
    }

    // MARK: - Execution

    /// Runs `actions` with the event given as compact JSON text (UTF-8, as `JSONValue.write` produces it).
    func execute(eventText: [UInt8], actions: [ActionDefinition], limits: ActionLimits) -> PostLoginExecutionResult {
        // One JavaScriptCore string for all the Actions of this execution. JSON text has no raw NUL (the writer
        // escapes control characters), so the C-string constructor sees all of it; it also keeps ASCII text
        // 8-bit, which JSON.parse reads faster than UTF-16.
        let event: JSStringRef
        if eventText.contains(0) {
            event = JSStrings.make(String(decoding: eventText, as: UTF8.self))
        } else {
            event = (eventText + [0]).withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { JSStringCreateWithUTF8CString($0.baseAddress) }
            }
        }
        defer { JSStringRelease(event) }
        let start = monotonicNanoseconds()
        let deadline = start &+ UInt64(max(0, limits.timeLimit.nanoseconds))
        var result = PostLoginExecutionResult()
        var logCharacters = 0
        lastExecutionHitMemoryLimit = false
        defer {
            if watchdog.tripped != nil {
                resetGroup()
            } else {
                // Disarmed until the next execution: a slice timer left running would fire while the worker idles, and
                // the next execution would start by handling its trap (measured: ~15 % of a paced execution).
                JSContextGroupClearExecutionTimeLimit(group)
            }
        }

        for action in actions {
            let actionStart = monotonicNanoseconds()
            if actionStart >= deadline {
                result.failure = ActionExecutionFailure(actionID: action.actionID, actionName: action.name, kind: .timeout)
                break
            }
            let outcome = run(action, event: event, deadline: deadline, limits: limits, logCharacters: logCharacters)
            logCharacters = outcome.logCharacters
            let duration = Int((monotonicNanoseconds() - actionStart) / 1000)
            result.actions.append(
                ActionRunReport(
                    actionID: action.actionID, actionName: action.name, logs: outcome.logs,
                    durationMicroseconds: duration, failure: outcome.failure))
            if let failure = outcome.failure {
                if failure == .memoryLimit { lastExecutionHitMemoryLimit = true }
                result.failure = ActionExecutionFailure(actionID: action.actionID, actionName: action.name, kind: failure)
                break
            }
            result.appMetadataChanges.merge(outcome.appMetadata)
            result.userMetadataChanges.merge(outcome.userMetadata)
            result.idTokenClaims.merge(outcome.idTokenClaims)
            result.accessTokenClaims.merge(outcome.accessTokenClaims)
            if let reason = outcome.deny {
                result.denied = ActionDenial(actionID: action.actionID, actionName: action.name, reason: reason)
                break
            }
        }
        return result
    }

    /// What one Action produced, as reported by the glue (or decided on the Swift side).
    private struct ActionOutcome {
        var status: String
        var error: String?
        var line: Int?
        var column: Int?
        var appMetadata: JSONObject = [:]
        var userMetadata: JSONObject = [:]
        var idTokenClaims: JSONObject = [:]
        var accessTokenClaims: JSONObject = [:]
        var deny: String?
        var logs: [ActionLogEntry] = []
        var logCharacters: Int = 0
        var failure: ActionFailure?

        static func failed(_ failure: ActionFailure, logCharacters: Int) -> ActionOutcome {
            var outcome = ActionOutcome(status: "failed", logCharacters: logCharacters)
            outcome.failure = failure
            return outcome
        }

        /// Reads the glue's report (see `ActionGlue.report`).
        init?(report: JSONValue) {
            guard case .object(let fields) = report, case .string(let status)? = fields["status"] else { return nil }
            self.status = status
            if case .string(let error)? = fields["error"] { self.error = error }
            if let line = fields["line"]?.int64Value { self.line = Int(exactly: line) }
            if let column = fields["column"]?.int64Value { self.column = Int(exactly: column) }
            if case .object(let members)? = fields["appMetadata"] { appMetadata = members }
            if case .object(let members)? = fields["userMetadata"] { userMetadata = members }
            if case .object(let members)? = fields["idTokenClaims"] { idTokenClaims = members }
            if case .object(let members)? = fields["accessTokenClaims"] { accessTokenClaims = members }
            if case .string(let reason)? = fields["deny"] { deny = reason }
            if case .array(let entries)? = fields["logs"] {
                logs = entries.compactMap { entry in
                    guard case .string(let level)? = entry["level"], case .string(let message)? = entry["message"]
                    else { return nil }
                    return ActionLogEntry(level: level, message: message)
                }
            }
            if let count = fields["logCharacters"]?.int64Value { logCharacters = Int(exactly: count) ?? 0 }
        }

        init(status: String, logCharacters: Int) {
            self.status = status
            self.logCharacters = logCharacters
        }
    }

    private func run(
        _ action: ActionDefinition, event: JSStringRef, deadline: UInt64, limits: ActionLimits, logCharacters: Int
    ) -> ActionOutcome {
        let memoryLimit = (ProcessMemory.residentBytes() ?? 0) &+ limits.memoryBudgetBytes
        watchdog.arm(group: group, deadlineNanos: deadline, memoryLimitBytes: memoryLimit, slice: limits.watchdogSlice)
        guard let context = spares.popLast() ?? makeContext() else {
            return .failed(.internalError(message: "could not create a JavaScript context"), logCharacters: logCharacters)
        }
        defer { context.release() }
        let ctx = context.ctx
        // The deadline may have been pushed back while preparing the context; restore it.
        watchdog.deadlineNanos = deadline

        // 1. Compile the module function.
        // Evaluated afresh in this execution's own context (a function object belongs to one global object);
        // only the source string is reused.
        var exception: JSValueRef?
        let source = self.source(for: action)
        let moduleFunction = JSEvaluateScript(ctx, source.wrappedCode, nil, actionURL, 1, &exception)
        if let trip = watchdog.tripped { return terminated(trip, logCharacters: logCharacters) }
        guard let moduleFunction else {
            guard let exception else { return terminated(.timeout, logCharacters: logCharacters) }
            let name = JSStrings.string(ctx, JSStrings.property(ctx, exception, "name"))
            let message = JSStrings.string(ctx, JSStrings.property(ctx, exception, "message")) ?? "Syntax error"
            if name == "SyntaxError" {
                let line = JSStrings.intProperty(ctx, exception, "line") ?? 1
                let error = SyntaxErrorLocator.position(ctx, code: action.code, message: message, reportedLine: line)
                return .failed(.compile(line: error.line, column: error.column, message: error.message), logCharacters: logCharacters)
            }
            return .failed(.thrown(message: message, line: nil, column: nil), logCharacters: logCharacters)
        }

        // 2. Load the module, call the handler and drain its promise (one VM entry: JavaScriptCore drains the
        //    microtask queue when the outermost API call returns).
        var arguments: [JSValueRef?] = [
            moduleFunction, JSValueMakeString(ctx, event), JSValueMakeString(ctx, source.secretsJSON),
            JSValueMakeNumber(ctx, Double(logCharacters)), JSValueMakeNumber(ctx, Double(limits.maxLogCharacters)),
            JSValueMakeNumber(ctx, Double(limits.maxRecordedCharacters)),
        ]
        let started = JSObjectCallAsFunction(ctx, context.start, nil, arguments.count, &arguments, &exception)
        // Check the watchdog first: a termination during the microtask drain can come back as a normal return.
        if let trip = watchdog.tripped { return terminated(trip, logCharacters: logCharacters) }
        // Native code (a slow regular expression, a huge sort) runs between watchdog checks and can finish
        // past the deadline; the limit still holds.
        if monotonicNanoseconds() > deadline { return terminated(.timeout, logCharacters: logCharacters) }
        if started == nil {
            // A NULL result with no exception is how a termination shows up when the callback did not say so.
            guard let exception else { return terminated(.timeout, logCharacters: logCharacters) }
            let message = JSStrings.string(ctx, exception) ?? "unknown error"
            return .failed(.thrown(message: message, line: nil, column: nil), logCharacters: logCharacters)
        }

        // 3. Read the report.
        // The report gets its own short budget: it is bounded work, and must not inherit an almost spent one.
        watchdog.deadlineNanos = monotonicNanoseconds() &+ 100_000_000
        let report = readReport(context)
        if let trip = watchdog.tripped { return terminated(trip, logCharacters: logCharacters) }
        guard var outcome = report else {
            return .failed(.internalError(message: "the action's report could not be read"), logCharacters: logCharacters)
        }
        switch outcome.status {
        case "fulfilled":
            break
        case "rejected":
            let message = outcome.error ?? "unknown error"
            if message == "RangeError: Out of memory" {
                outcome.failure = .memoryLimit
            } else {
                var column = outcome.column
                if outcome.line == 1, let value = column {
                    column = max(1, value - ActionGlue.modulePrefix.utf16.count)
                }
                outcome.failure = .thrown(message: message, line: outcome.line, column: outcome.line == nil ? nil : column)
            }
        case "pending":
            outcome.failure = .notSettled
        case "invalid":
            outcome.failure = .invalidAction(message: outcome.error ?? "exports.onExecutePostLogin is not a function")
        default:
            outcome.failure = .internalError(message: "unexpected action state '\(outcome.status)'")
        }
        return outcome
    }

    /// The outcome of a terminated Action.
    ///
    /// Nothing more may run in a VM once it was terminated: JavaScriptCore 2.50 aborts the process when
    /// JavaScript is called after a termination that happened during the microtask drain (the call that
    /// drained even returns normally). So no report is read (the Action's logs are lost) and the group is
    /// discarded at the end of the execution.
    private func terminated(_ trip: ExecutionWatchdog.Trip, logCharacters: Int) -> ActionOutcome {
        terminatedExecutions += 1
        watchdog.tripped = trip
        return .failed(trip == .memory ? .memoryLimit : .timeout, logCharacters: logCharacters)
    }

    private func readReport(_ context: PreparedContext) -> ActionOutcome? {
        var exception: JSValueRef?
        guard let value = JSObjectCallAsFunction(context.ctx, context.report, nil, 0, nil, &exception),
            let jsString = JSValueToStringCopy(context.ctx, value, &exception)
        else { return nil }
        defer { JSStringRelease(jsString) }
        // Straight to UTF-8 and parsed in place: no intermediate String, no Codable.
        let capacity = JSStringGetMaximumUTF8CStringSize(jsString)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer -> ActionOutcome? in
            let written = buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: capacity) {
                JSStringGetUTF8CString(jsString, $0, capacity)
            }
            guard written > 0,
                let report = try? JSONParser.parse(UnsafeBufferPointer(rebasing: buffer[0..<(written - 1)]), options: .actions)
            else { return nil }
            return ActionOutcome(report: report)
        }
    }

    // MARK: - Contexts

    /// A fresh global context with the glue evaluated, and the glue's two entry points.
    private struct PreparedContext {
        let ctx: JSGlobalContextRef
        let start: JSObjectRef
        let report: JSObjectRef

        func release() {
            JSValueUnprotect(ctx, start)
            JSValueUnprotect(ctx, report)
            JSGlobalContextRelease(ctx)
        }
    }

    private func makeContext() -> PreparedContext? {
        guard let ctx = JSGlobalContextCreateInGroup(group, nil) else { return nil }
        // Glue evaluation never needs the execution's budget; make sure a stale deadline cannot trip it.
        let savedDeadline = watchdog.deadlineNanos
        watchdog.deadlineNanos = monotonicNanoseconds() + 1_000_000_000
        defer { watchdog.deadlineNanos = savedDeadline }
        let glue = JSEvaluateScript(ctx, glueSource, nil, glueURL, 1, nil)
        guard let glue, let glueFunction = JSValueToObject(ctx, glue, nil),
            let host = JSObjectCallAsFunction(ctx, glueFunction, nil, 0, nil, nil),
            let start = JSStrings.property(ctx, host, "start").flatMap({ JSValueToObject(ctx, $0, nil) }),
            let report = JSStrings.property(ctx, host, "report").flatMap({ JSValueToObject(ctx, $0, nil) })
        else {
            JSGlobalContextRelease(ctx)
            return nil
        }
        // Swift holds these outside the C stack, where the garbage collector would not see them.
        JSValueProtect(ctx, start)
        JSValueProtect(ctx, report)
        return PreparedContext(ctx: ctx, start: start, report: report)
    }

    /// An Action's code wrapped as a module function and its secrets as JSON, as JavaScriptCore strings.
    private struct ActionSource {
        let code: String
        let secrets: [String: String]
        let wrappedCode: JSStringRef
        let secretsJSON: JSStringRef

        func release() {
            JSStringRelease(wrappedCode)
            JSStringRelease(secretsJSON)
        }
    }

    /// The cached strings for `action`, made (again) when it is new or its code or secrets changed.
    private func source(for action: ActionDefinition) -> ActionSource {
        if let cached = actionSources[action.actionID], cached.code == action.code, cached.secrets == action.secrets {
            return cached
        }
        if actionSources.count >= Self.maxCachedActionSources {
            for source in actionSources.values { source.release() }
            actionSources.removeAll()
        }
        actionSources[action.actionID]?.release()
        let source = ActionSource(
            code: action.code, secrets: action.secrets,
            wrappedCode: JSStrings.make(ActionGlue.modulePrefix + action.code + ActionGlue.moduleSuffix),
            secretsJSON: JSStrings.make(action.secretsObject.jsonString))
        actionSources[action.actionID] = source
        return source
    }

    private func releaseSpares() {
        for spare in spares { spare.release() }
        spares.removeAll()
    }

    /// Discards the VM after a termination: queued microtasks of the terminated code die with it.
    private func resetGroup() {
        releaseSpares()
        JSContextGroupClearExecutionTimeLimit(group)
        JSContextGroupRelease(group)
        group = JSContextGroupCreate()
        watchdog.tripped = nil
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product &+ attoseconds / 1_000_000_000
    }
}
