import Foundation
import Testing
import UsherActions

/// The direct JSON writer and reader agree with Foundation's and with each other.
@Suite struct JSONValueTests {
    static let samples: [JSONValue] = [
        nil, true, false, 0, -1, 3.25, 1e21, 123456789012, "", "plain",
        "quote \" backslash \\ slash / newline \n tab \t cr \r nul \u{0} bell \u{7} é 漢字 🙂",
        [], [1, "two", nil, [false]], [:],
        ["user": ["app_metadata": ["needsInvitation": true], "email": "ada@example.com"], "n": -0.5],
    ]

    @Test(arguments: samples) func roundTripsThroughItsOwnText(value: JSONValue) throws {
        #expect(try JSONValue(parsing: value.jsonText) == value)
    }

    @Test(arguments: samples) func agreesWithFoundation(value: JSONValue) throws {
        // Foundation reads what we write…
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(value.jsonText.utf8)) == value)
        // …and we read what Foundation writes.
        let foundationText = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        #expect(try JSONValue(parsing: foundationText) == value)
    }

    @Test func readsEscapesAndSurrogatePairs() throws {
        #expect(try JSONValue(parsing: #" {"a" : [ "\u00e9\ud83d\ude42\/\b\f" , 1.5e2 ] } "#) == ["a": ["é🙂/\u{8}\u{c}", 150]])
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"open", "1 2", "{\"a\":1,}", "[\"\\x\"]", "-"])
    func rejectsInvalidText(text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func refusesExcessiveNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: deep) }
    }
}
