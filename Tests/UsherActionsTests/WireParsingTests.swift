import Testing
import UsherJSON

@testable import UsherActions

/// The worker's request parsing: the event is sliced out as text, checked but not decoded (the raw-member
/// reading itself is tested in UsherJSONTests).
@Suite struct WireParsingTests {
    @Test func loneSurrogatesBecomeReplacementCharacters() throws {
        #expect(try JSONParser.parse(#""\ud83d""#, options: .actions) == "\u{FFFD}")
        #expect(try JSONParser.parse(#""\ude42x""#, options: .actions) == "\u{FFFD}x")
        #expect(try JSONParser.parse(#""\ud83d\u0041""#, options: .actions) == "\u{FFFD}A")
        #expect(try JSONParser.parse(#""\ud83d\ud83d\ude42""#, options: .actions) == "\u{FFFD}🙂")
        #expect(try JSONParser.parse(#""a\u0000b\n🙂""#, options: .actions) == "a\u{0}b\n🙂")
    }

    @Test func requestLineKeepsTheEventText() throws {
        let event: JSONValue = ["user": ["email": "ada@example.com", "note": "line\nbreak \"q\" 漢字"], "n": 3]
        var line = WorkerRequest.line(
            id: 9, body: WorkerRequest.bodyText(limits: ActionLimits(), event: event, actions: [Fixtures.action("x")]))
        line.removeLast()
        let request = try line.withUnsafeBufferPointer { try WorkerRequest(line: $0) }
        var expected: [UInt8] = []
        event.write(to: &expected)
        #expect(request.eventText == expected)
        #expect(request.event == event)
    }
}
