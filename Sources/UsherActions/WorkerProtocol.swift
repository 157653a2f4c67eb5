import UsherJSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The wire format between `ActionWorkerPool` and `usher actions-worker`: one JSON object per line
/// (newline-delimited; JSON writers escape newlines inside strings, so a line is always one message).
///
/// Pool → worker: `{"id":N,"limits":{…},"event":{…},"actions":[…]}`. The part after the id is written
/// once, before a worker is chosen; the id is spliced in front afterwards.
/// Worker → pool: first `{"id":0,"ready":true,"rss":N}`, then exactly one response per request, in order:
/// `{"id":N,"rss":N,"recycle":false,"result":{…}}`.
///
/// The messages are written and read through UsherJSON's writer and parser rather than Codable:
/// on the login path the generic machinery cost several times more than the JavaScript itself. The worker
/// does not decode the event at all: it checks it and hands its text to JavaScript's `JSON.parse`.
struct WorkerRequest {
    var id: UInt64
    var limits: ActionLimits
    /// The login's event as compact JSON text (UTF-8). The worker passes it to JavaScript as it came off the
    /// pipe, so it is kept as text rather than decoded (see `init(line:)`).
    var eventText: [UInt8]
    var actions: [ActionDefinition]

    /// The event, decoded (tests and diagnostics; the execution path uses `eventText`).
    var event: JSONValue { (try? JSONParser.parse(eventText, options: .actions)) ?? .null }

    /// Everything after the id, starting with a comma: `,"limits":…}`.
    static func bodyText(limits: ActionLimits, event: JSONValue, actions: [ActionDefinition]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        out.append(contentsOf: #","limits":"#.utf8)
        limits.wireValue.write(to: &out)
        out.append(contentsOf: #","event":"#.utf8)
        event.write(to: &out)
        out.append(contentsOf: #","actions":"#.utf8)
        JSONValue.array(actions.map(\.wireValue)).write(to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The full line for request `id`, newline included.
    static func line(id: UInt64, body: [UInt8]) -> [UInt8] {
        var out = Array(#"{"id":\#(id)"#.utf8)
        out.append(contentsOf: body)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    init(id: UInt64, limits: ActionLimits, event: JSONValue, actions: [ActionDefinition]) {
        self.id = id
        self.limits = limits
        var text: [UInt8] = []
        event.write(to: &text)
        self.eventText = text
        self.actions = actions
    }

    /// Decodes a request line. The event is only checked and sliced out as text: decoding it into `JSONValue`
    /// and writing it again for JavaScript cost as much CPU as the Action itself (perf on ActionsBench).
    init(line: UnsafeBufferPointer<UInt8>) throws {
        let (message, raw) = try JSONParser.parseObject(line, rawMembers: ["event"], options: .actions)
        guard let id = message["id"]?.int64Value.flatMap(UInt64.init(exactly:)), let limits = message["limits"].flatMap(ActionLimits.init(wire:)),
            let eventRange = raw["event"], case .array(let actions)? = message["actions"]
        else { throw WireError.malformed("request") }
        self.id = id
        self.limits = limits
        self.eventText = Array(UnsafeBufferPointer(rebasing: line[eventRange]))
        self.actions = try actions.map { try ActionDefinition(wire: $0).orThrow("action") }
    }
}

struct WorkerResponse: Sendable {
    /// 0 for the ready message.
    var id: UInt64
    var ready = false
    var result: PostLoginExecutionResult?
    /// The worker's RSS after the execution (or at start-up, for the ready message).
    var residentBytes: Int?
    /// The worker exits after this response (it hit a memory limit or grew too much); the pool replaces it.
    var recycle = false

    var lineBytes: [UInt8] {
        var fields: JSONObject = ["id": .int(Int64(id)), "recycle": .bool(recycle)]
        if ready { fields["ready"] = true }
        if let residentBytes { fields["rss"] = .int(Int64(residentBytes)) }
        if let result { fields["result"] = result.wireValue }
        var out: [UInt8] = []
        out.reserveCapacity(512)
        JSONValue.object(fields).write(to: &out)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    init(id: UInt64, ready: Bool = false, result: PostLoginExecutionResult? = nil, residentBytes: Int? = nil, recycle: Bool = false) {
        self.id = id
        self.ready = ready
        self.result = result
        self.residentBytes = residentBytes
        self.recycle = recycle
    }

    init(line: UnsafeBufferPointer<UInt8>) throws {
        let message = try JSONParser.parse(line, options: .actions)
        guard let id = message["id"]?.int64Value.flatMap(UInt64.init(exactly:)) else { throw WireError.malformed("response") }
        self.id = id
        if case .bool(true)? = message["ready"] { ready = true }
        if case .bool(true)? = message["recycle"] { recycle = true }
        if let rss = message["rss"]?.int64Value { residentBytes = Int(rss) }
        if let result = message["result"] {
            self.result = try PostLoginExecutionResult(wire: result).orThrow("result")
        }
    }
}

enum WireError: Error {
    case malformed(String)
}

extension Optional {
    func orThrow(_ what: String) throws -> Wrapped {
        guard let self else { throw WireError.malformed(what) }
        return self
    }
}

// MARK: - Wire mapping of the public types

extension JSONParser.Options {
    /// How the pool and the worker read messages and reports: nesting up to 512 (Action metadata may be deep),
    /// lone surrogates as U+FFFD (JavaScript strings may hold them and `JSON.stringify` writes them as escapes),
    /// a repeated key's last value kept, as `JSON.parse` does.
    static let actions = JSONParser.Options(
        limits: JSONParser.Limits(maximumDepth: 512), invalidText: .replace, duplicateKeys: .keepLast)
}

extension JSONValue {
    /// Numbers on the wire as `Int`, fractions rounded (they were written from integers).
    var intValue: Int? { doubleValue.flatMap { Int(exactly: $0.rounded()) } }
}

extension ActionLimits {
    var wireValue: JSONValue {
        [
            "timeLimitNanoseconds": .int(timeLimit.nanoseconds),
            "memoryBudgetBytes": .int(Int64(memoryBudgetBytes)),
            "maxLogCharacters": .int(Int64(maxLogCharacters)),
            "maxRecordedCharacters": .int(Int64(maxRecordedCharacters)),
            "watchdogSliceNanoseconds": .int(watchdogSlice.nanoseconds),
        ]
    }

    init?(wire: JSONValue) {
        guard let time = wire["timeLimitNanoseconds"]?.intValue, let memory = wire["memoryBudgetBytes"]?.intValue,
            let logs = wire["maxLogCharacters"]?.intValue, let recorded = wire["maxRecordedCharacters"]?.intValue,
            let slice = wire["watchdogSliceNanoseconds"]?.intValue
        else { return nil }
        self.init(
            timeLimit: .nanoseconds(time), memoryBudgetBytes: memory, maxLogCharacters: logs,
            maxRecordedCharacters: recorded, watchdogSlice: .nanoseconds(slice))
    }
}

extension ActionDefinition {
    /// The secrets as a JSON object, sorted by name so the text is the same in every process.
    var secretsObject: JSONObject {
        JSONObject(secrets.keys.sorted().map { ($0, .string(secrets[$0]!)) })
    }

    var wireValue: JSONValue {
        [
            "actionID": .string(actionID), "name": .string(name), "code": .string(code),
            "secrets": .object(secretsObject),
        ]
    }

    init?(wire: JSONValue) {
        guard let actionID = wire["actionID"]?.stringValue, let name = wire["name"]?.stringValue,
            let code = wire["code"]?.stringValue, let secrets = wire["secrets"]?.objectValue
        else { return nil }
        var strings: [String: String] = [:]
        for (key, value) in secrets { if let value = value.stringValue { strings[key] = value } }
        self.init(actionID: actionID, name: name, code: code, secrets: strings)
    }
}

extension ActionFailure {
    var wireValue: JSONValue {
        switch self {
        case .timeout: return ["type": "timeout"]
        case .memoryLimit: return ["type": "memoryLimit"]
        case .thrown(let message, let line, let column):
            var fields: JSONObject = ["type": "thrown", "message": .string(message)]
            if let line { fields["line"] = .int(Int64(line)) }
            if let column { fields["column"] = .int(Int64(column)) }
            return .object(fields)
        case .compile(let line, let column, let message):
            return ["type": "compile", "line": .int(Int64(line)), "column": .int(Int64(column)), "message": .string(message)]
        case .notSettled: return ["type": "notSettled"]
        case .invalidAction(let message): return ["type": "invalidAction", "message": .string(message)]
        case .workerCrashed: return ["type": "workerCrashed"]
        case .unavailable(let reason): return ["type": "unavailable", "message": .string(reason)]
        case .internalError(let message): return ["type": "internalError", "message": .string(message)]
        }
    }

    init?(wire: JSONValue) {
        let message = wire["message"]?.stringValue ?? ""
        switch wire["type"]?.stringValue {
        case "timeout": self = .timeout
        case "memoryLimit": self = .memoryLimit
        case "thrown": self = .thrown(message: message, line: wire["line"]?.intValue, column: wire["column"]?.intValue)
        case "compile":
            self = .compile(line: wire["line"]?.intValue ?? 1, column: wire["column"]?.intValue ?? 1, message: message)
        case "notSettled": self = .notSettled
        case "invalidAction": self = .invalidAction(message: message)
        case "workerCrashed": self = .workerCrashed
        case "unavailable": self = .unavailable(reason: message)
        case "internalError": self = .internalError(message: message)
        default: return nil
        }
    }
}

extension PostLoginExecutionResult {
    var wireValue: JSONValue {
        var fields: JSONObject = [
            "app": .object(appMetadataChanges), "user": .object(userMetadataChanges),
            "idToken": .object(idTokenClaims), "accessToken": .object(accessTokenClaims),
            "actions": .array(
                actions.map { report in
                    var entry: JSONObject = [
                        "actionID": .string(report.actionID), "actionName": .string(report.actionName),
                        "logs": .array(report.logs.map { ["level": .string($0.level), "message": .string($0.message)] }),
                        "us": .int(Int64(report.durationMicroseconds)),
                    ]
                    if let failure = report.failure { entry["failure"] = failure.wireValue }
                    return .object(entry)
                }),
        ]
        if let denied {
            fields["denied"] = [
                "actionID": .string(denied.actionID), "actionName": .string(denied.actionName),
                "reason": .string(denied.reason),
            ]
        }
        if let failure {
            var entry: JSONObject = ["kind": failure.kind.wireValue]
            if let actionID = failure.actionID { entry["actionID"] = .string(actionID) }
            if let actionName = failure.actionName { entry["actionName"] = .string(actionName) }
            fields["failure"] = .object(entry)
        }
        return .object(fields)
    }

    init?(wire: JSONValue) {
        guard let app = wire["app"]?.objectValue, let user = wire["user"]?.objectValue,
            let idToken = wire["idToken"]?.objectValue, let accessToken = wire["accessToken"]?.objectValue,
            let actions = wire["actions"]?.arrayValue
        else { return nil }
        var reports: [ActionRunReport] = []
        for entry in actions {
            guard let actionID = entry["actionID"]?.stringValue, let actionName = entry["actionName"]?.stringValue
            else { return nil }
            let logs = (entry["logs"]?.arrayValue ?? []).compactMap { log -> ActionLogEntry? in
                guard let level = log["level"]?.stringValue, let message = log["message"]?.stringValue else { return nil }
                return ActionLogEntry(level: level, message: message)
            }
            reports.append(
                ActionRunReport(
                    actionID: actionID, actionName: actionName, logs: logs,
                    durationMicroseconds: entry["us"]?.intValue ?? 0,
                    failure: entry["failure"].flatMap(ActionFailure.init(wire:))))
        }
        var denied: ActionDenial?
        if let entry = wire["denied"] {
            guard let actionID = entry["actionID"]?.stringValue, let actionName = entry["actionName"]?.stringValue,
                let reason = entry["reason"]?.stringValue
            else { return nil }
            denied = ActionDenial(actionID: actionID, actionName: actionName, reason: reason)
        }
        var failure: ActionExecutionFailure?
        if let entry = wire["failure"] {
            guard let kind = entry["kind"].flatMap(ActionFailure.init(wire:)) else { return nil }
            failure = ActionExecutionFailure(
                actionID: entry["actionID"]?.stringValue, actionName: entry["actionName"]?.stringValue, kind: kind)
        }
        self.init(
            appMetadataChanges: app, userMetadataChanges: user, idTokenClaims: idToken, accessTokenClaims: accessToken,
            denied: denied, actions: reports, failure: failure)
    }
}

/// Blocking line-oriented I/O on a raw file descriptor.
///
/// Raw `read`/`write` instead of `FileHandle`: writing to a pipe whose reader died must come back as an
/// error (EPIPE, with SIGPIPE ignored), not as an uncatchable Foundation exception.
struct LineChannel {
    let readFD: Int32
    private var buffer: [UInt8] = []
    private var scanFrom = 0
    /// Lines longer than this are a protocol error (a runaway peer must not exhaust memory).
    let maxLineBytes: Int

    init(readFD: Int32, maxLineBytes: Int = 256 << 20) {
        self.readFD = readFD
        self.maxLineBytes = maxLineBytes
    }

    enum ReadResult {
        case line([UInt8])
        case endOfFile
        case tooLong
    }

    /// The next line without its newline, blocking until one is complete.
    mutating func nextLine() -> ReadResult {
        while true {
            if let newline = buffer[scanFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[0..<newline])
                buffer.removeSubrange(0...newline)
                scanFrom = 0
                return .line(line)
            }
            scanFrom = buffer.count
            if buffer.count > maxLineBytes { return .tooLong }
            let count = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 65536) { chunk -> Int in
                let count = read(readFD, chunk.baseAddress, chunk.count)
                if count > 0 { buffer.append(contentsOf: chunk[0..<count]) }
                return count
            }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return .endOfFile }
        }
    }

    /// Waits up to `milliseconds` for input: true as soon as there is something to read (or already buffered, or the
    /// peer closed), false when the time passed without any.
    mutating func awaitInput(milliseconds: Int32) -> Bool {
        if !buffer.isEmpty { return true }
        var descriptor = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            return ready != 0
        }
    }

    /// Writes all of `bytes`; false when the peer is gone.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }
}
