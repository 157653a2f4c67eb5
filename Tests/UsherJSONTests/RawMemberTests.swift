import Testing
import UsherJSON

/// Raw members: sliced out as their text, checked but not decoded (moved from the Actions worker's wire tests,
/// whose reader this was).
@Suite struct RawMemberTests {
    func parse(_ text: String, raw: Set<String>) throws -> (JSONObject, [String: String]) {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { bytes in
            let (members, ranges) = try JSONParser.parseObject(bytes, rawMembers: raw)
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
        #expect(throws: JSONParser.SyntaxError.self) { try parse(text, raw: ["event"]) }
    }

    @Test func rawMembersCountTowardsTheDepthLimit() {
        let deep = #"{"event": "# + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}"
        #expect(throws: JSONParser.SyntaxError.self) { try parse(deep, raw: ["event"]) }
    }

    @Test func onlyObjectsHaveMembers() {
        #expect(throws: JSONParser.SyntaxError.self) { try parse("[1]", raw: ["event"]) }
    }
}
