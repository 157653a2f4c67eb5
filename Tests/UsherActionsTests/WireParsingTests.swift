import Testing

@testable import UsherActions

/// Parsing for the worker's requests: members sliced out as text (checked, not decoded), escapes and surrogates.
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
}
