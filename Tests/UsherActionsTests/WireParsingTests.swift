import Testing

@testable import UsherActions

/// The worker's request parsing: the event is sliced out as text, checked but not decoded.
@Suite struct WireParsingTests {
    func parse(_ text: String, raw: Set<String>) throws -> ([String: JSONValue], [String: String]) {
        var text = text
        return try text.withUTF8 { bytes in
            let (members, ranges) = try JSONValue.parseObject(bytes, raw: raw)
            return (members, ranges.mapValues { String(decoding: UnsafeBufferPointer(rebasing: bytes[$0]), as: UTF8.self) })
        }
    }

    @Test func rawMembersComeBackAsTheirExactText() throws {
        let (members, raw) = try parse(#" {"id": 7, "event": {"a": [1, "x\"}", {"b": null}], "c": "\u00e9"} , "z": true} "#, raw: ["event"])
        #expect(members == ["id": 7, "z": true])
        #expect(raw == ["event": #"{"a": [1, "x\"}", {"b": null}], "c": "\u00e9"}"#])
    }

    @Test(arguments: [
        #"{"event": {"a" 1}}"#, #"{"event": [1,]}"#, #"{"event": "open}"#, #"{"event": tru}"#, #"{"event": {"a": "\x"}}"#,
        "{\"event\": \"raw\ncontrol\"}", #"{"event": {"a": 1}"#, #"{"event": 1} x"#, #"{"event": }"#,
    ])
    func rawMembersAreStillChecked(text: String) {
        #expect(throws: JSONValue.ParseError.self) { try parse(text, raw: ["event"]) }
    }

    @Test func loneSurrogatesBecomeReplacementCharacters() throws {
        #expect(try JSONValue(parsing: #""\ud83d""#) == "\u{FFFD}")
        #expect(try JSONValue(parsing: #""\ude42x""#) == "\u{FFFD}x")
        #expect(try JSONValue(parsing: #""\ud83d\u0041""#) == "\u{FFFD}A")
        #expect(try JSONValue(parsing: #""\ud83d\ud83d\ude42""#) == "\u{FFFD}🙂")
        #expect(try JSONValue(parsing: #""a\u0000b\n🙂""#) == "a\u{0}b\n🙂")
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
