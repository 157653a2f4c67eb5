import Foundation
import Testing
import UsherJSON

@testable import UsherActions

/// The pool ↔ worker wire format carries every field of requests and results unchanged.
@Suite struct WorkerProtocolTests {
    @Test func requestRoundTrips() throws {
        let limits = ActionLimits(
            timeLimit: .milliseconds(1500), memoryBudgetBytes: 64 << 20, maxLogCharacters: 123,
            maxRecordedCharacters: 456, watchdogSlice: .milliseconds(3))
        let actions = [
            ActionDefinition(actionID: "a1", name: "first", code: "exports.x = \"\\n\u{0}🙂\";\n", secrets: ["K": "v\"q"]),
            ActionDefinition(actionID: "a2", name: "second", code: ""),
        ]
        let event = Fixtures.event(needsInvitation: true)
        var line = WorkerRequest.line(id: 42, body: WorkerRequest.bodyText(limits: limits, event: event, actions: actions))
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(!line.dropLast().contains(UInt8(ascii: "\n")))
        line.removeLast()
        let decoded = try line.withUnsafeBufferPointer { try WorkerRequest(line: $0) }
        #expect(decoded.id == 42)
        #expect(decoded.limits == limits)
        #expect(decoded.event == event)
        #expect(decoded.actions == actions)
    }

    @Test(arguments: [
        ActionFailure.timeout, .memoryLimit, .thrown(message: "Error: x", line: 3, column: 9),
        .thrown(message: "42", line: nil, column: nil), .compile(line: 2, column: 5, message: "Unexpected token ';'"),
        .notSettled, .invalidAction(message: "no handler"), .workerCrashed, .unavailable(reason: "busy"),
        .internalError(message: "bug"),
    ])
    func resultRoundTrips(failure: ActionFailure) throws {
        let result = PostLoginExecutionResult(
            appMetadataChanges: ["needsInvitation": false, "gone": .null], userMetadataChanges: ["theme": ["dark": true]],
            idTokenClaims: ["https://usher/roles": ["admin"]], accessTokenClaims: ["https://usher/plan": "pro"],
            denied: ActionDenial(actionID: "a1", actionName: "first", reason: "no invitation"),
            actions: [
                ActionRunReport(
                    actionID: "a1", actionName: "first", logs: [ActionLogEntry(level: "warn", message: "line\nbreak")],
                    durationMicroseconds: 321, failure: failure)
            ],
            failure: ActionExecutionFailure(actionID: "a1", actionName: "first", kind: failure))
        var line = WorkerResponse(id: 9, result: result, residentBytes: 50 << 20, recycle: true).lineBytes
        line.removeLast()
        let decoded = try line.withUnsafeBufferPointer { try WorkerResponse(line: $0) }
        #expect(decoded.id == 9)
        #expect(decoded.recycle)
        #expect(decoded.residentBytes == 50 << 20)
        #expect(decoded.result == result)
    }

    /// The worker waits a moment for the next request before preparing a context: the wait must end on input, on a
    /// closed pipe and on a line already buffered, and only time out when nothing came.
    @Test func awaitInputEndsOnInputOrTimesOut() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var channel = LineChannel(readFD: fds[0])
        var ready = channel.awaitInput(milliseconds: 5)
        #expect(!ready)
        #expect(LineChannel.writeAll(fds[1], Array("one\ntwo\n".utf8)))
        ready = channel.awaitInput(milliseconds: 5000)
        #expect(ready)
        guard case .line(let first) = channel.nextLine() else {
            Issue.record("no line")
            return
        }
        #expect(first == Array("one".utf8))
        // "two" is buffered now: no wait, though the pipe itself is empty.
        ready = channel.awaitInput(milliseconds: 5000)
        #expect(ready)
        guard case .line(let second) = channel.nextLine() else {
            Issue.record("no second line")
            return
        }
        #expect(second == Array("two".utf8))
        close(fds[1])
        ready = channel.awaitInput(milliseconds: 5000)
        #expect(ready)
        guard case .endOfFile = channel.nextLine() else {
            Issue.record("no end of file")
            return
        }
    }
}
