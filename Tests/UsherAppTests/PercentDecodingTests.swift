import Testing

@testable import UsherHTTP

/// The hand-written percent decoder behind form bodies, query strings and path parameters.
@Suite("Percent decoding")
struct PercentDecodingTests {
    @Test func decodesEscapesAsUTF8() {
        #expect(HTTPInput.percentDecoded("auth0%7C0123abc", plusIsSpace: false) == "auth0|0123abc")
        #expect(HTTPInput.percentDecoded("Zo%C3%AB%20O%27Brien", plusIsSpace: false) == "Zoë O'Brien")
        #expect(HTTPInput.percentDecoded("a%2bb%2Bc", plusIsSpace: false) == "a+b+c")
        #expect(HTTPInput.percentDecoded("plain", plusIsSpace: false) == "plain")
    }

    @Test func plusIsASpaceOnlyInForms() {
        #expect(HTTPInput.percentDecoded("x+y%21", plusIsSpace: true) == "x y!")
        #expect(HTTPInput.percentDecoded("x+y", plusIsSpace: false) == "x+y")
        #expect(HTTPInput.formDecode("a=1&b=x+y%21&a=2&c") == ["a": "1", "b": "x y!", "c": ""])
    }

    @Test func brokenEscapesAndBadUTF8AreRefused() {
        for broken in ["%", "%4", "%G1", "abc%zz", "%C3", "%FF%FE"] {
            #expect(HTTPInput.percentDecoded(broken[...], plusIsSpace: false) == nil, "\(broken)")
        }
        // A form component with a broken escape is kept as sent rather than dropped.
        #expect(HTTPInput.decodeComponent("100%+sure") == "100% sure")
    }
}
