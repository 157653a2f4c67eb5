import Foundation
import Testing
import UsherJSON

/// The writer and the parser agree with Foundation's and with each other (moved from the Actions module's own
/// JSON tests when its reader was replaced by UsherJSON's).
@Suite struct JSONValueTests {
    static let samples: [JSONValue] = [
        .null, true, false, 0, -1, 3.25, 1e21, 123_456_789_012, "", "plain",
        "quote \" backslash \\ slash / newline \n tab \t cr \r nul \u{0} bell \u{7} é 漢字 🙂",
        [], [1, "two", .null, [false]], [:],
        ["user": ["app_metadata": ["needsInvitation": true], "email": "ada@example.com"], "n": -0.5],
    ]

    @Test(arguments: samples) func roundTripsThroughItsOwnText(value: JSONValue) throws {
        #expect(try JSONParser.parse(value.jsonString) == value)
    }

    @Test(arguments: samples) func agreesWithFoundation(value: JSONValue) throws {
        // Foundation reads what we write…
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(value.jsonString.utf8)) == value)
        // …and we read what Foundation writes.
        let foundationText = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        #expect(try JSONParser.parse(foundationText) == value)
    }

    @Test func readsEscapesAndSurrogatePairs() throws {
        #expect(try JSONParser.parse(#" {"a" : [ "\u00e9\ud83d\ude42\/\b\f" , 1.5e2 ] } "#) == ["a": ["é🙂/\u{8}\u{c}", 150]])
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"open", "1 2", "{\"a\":1,}", "[\"\\x\"]", "-"])
    func rejectsInvalidText(text: String) {
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(text) }
    }

    @Test func refusesExcessiveNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(deep) }
    }
}
