import Testing
import UsherJSON

/// What the one parser accepts, how it reports what it refuses, and the options callers pick.
@Suite struct JSONParserTests {
    func error(_ text: String, options: JSONParser.Options = JSONParser.Options()) -> JSONParser.SyntaxError? {
        do {
            _ = try JSONParser.parse(text, options: options)
            return nil
        } catch {
            return error
        }
    }

    @Test func keepsMemberOrderAndNumberKinds() throws {
        let value = try JSONParser.parse(#"{"z": 1, "a": 2.5, "m": {"y": true, "b": null}, "e": 1e2, "neg": -0}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m", "e", "neg"])
        #expect(value["m"]?.objectValue?.keys == ["y", "b"])
        guard case .int(1)? = value["z"], case .double(2.5)? = value["a"], case .double(100)? = value["e"],
            case .int(0)? = value["neg"]
        else {
            Issue.record("number kinds: \(value)")
            return
        }
        #expect(value.jsonString == #"{"z":1,"a":2.5,"m":{"y":true,"b":null},"e":100,"neg":0}"#)
    }

    @Test func integersOutsideInt64BecomeDoubles() throws {
        guard case .int(Int64.max)? = try? JSONParser.parse("9223372036854775807"),
            case .int(Int64.min)? = try? JSONParser.parse("-9223372036854775808"),
            case .double(let big)? = try? JSONParser.parse("12345678901234567890"),
            case .double(let negative)? = try? JSONParser.parse("-9223372036854775809")
        else {
            Issue.record("big integers")
            return
        }
        #expect(big == 12345678901234567890.0)
        #expect(negative == -9223372036854775809.0)
        #expect(error("1e400")?.reason == "Number out of range")
    }

    @Test func numbersCompareByValue() {
        #expect(JSONValue.int(150) == .double(150))
        #expect(JSONValue.int(150) != .double(150.5))
        #expect(Set<JSONValue>([.int(3), .double(3)]).count == 1)
        #expect(JSONValue.double(3).int64Value == 3)
        #expect(JSONValue.double(3.5).int64Value == nil)
    }

    @Test(arguments: ["01", "1.", ".5", "+1", "1e", "-", "0x10", "1.e3"])
    func numbersFollowTheGrammar(text: String) {
        #expect(error(text) != nil)
    }

    @Test func errorsSayWhatAndWhere() {
        #expect(error("[1, 2")?.description == "Unexpected end of input at position 5")
        #expect(error("{\"a\": 1} x")?.description == "Unexpected data after the JSON value at position 9")
        #expect(error("{\"a\": 1, \"a\": 2}")?.reason == "Duplicate property 'a'")
        #expect(error("[tru]")?.reason == "Invalid literal")
        #expect(error("{1: 2}")?.reason == "Expected a property name")
        #expect(error("\"a\u{1}b\"")?.reason == "Control character in string")
        #expect(error(#""\q""#)?.reason == "Invalid escape")
        #expect(error(#""\u12x4""#)?.reason == #"Invalid \u escape"#)
    }

    @Test func depthLimitIsConfigurable() {
        let nested = { (depth: Int) in String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }
        #expect(error(nested(JSONParser.maximumDepth)) == nil)
        #expect(error(nested(JSONParser.maximumDepth + 1))?.reason == "Nesting deeper than 64 levels")
        let deeper = JSONParser.Options(limits: JSONParser.Limits(maximumDepth: 512))
        #expect(error(nested(512), options: deeper) == nil)
        #expect(error(nested(513), options: deeper) != nil)
    }

    @Test func sizeLimitIsConfigurable() {
        let small = JSONParser.Options(limits: JSONParser.Limits(maximumBytes: 8))
        #expect(error("[1,2,3]", options: small) == nil)
        #expect(error("[1,2,3,4]", options: small)?.reason == "Input longer than 8 bytes")
    }

    @Test func invalidTextIsRejectedOrReplaced() throws {
        let replace = JSONParser.Options(invalidText: .replace)
        #expect(error(#""\ud83d""#)?.reason == "Unpaired surrogate")
        #expect(error(#""\ude42""#)?.reason == "Unpaired surrogate")
        #expect(try JSONParser.parse(#""\ud83d""#, options: replace) == "\u{FFFD}")
        let invalidUTF8: [UInt8] = [0x22, 0x61, 0xFF, 0x22]
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(invalidUTF8) }
        #expect(try JSONParser.parse(invalidUTF8, options: replace) == "a\u{FFFD}")
    }

    @Test func duplicateKeysCanKeepTheLast() throws {
        let value = try JSONParser.parse(#"{"a": 1, "b": 2, "a": 3}"#, options: JSONParser.Options(duplicateKeys: .keepLast))
        #expect(value.objectValue?.keys == ["a", "b"])
        #expect(value["a"] == 3)
    }

    @Test func writerEscapesWhatJSONRequires() {
        let value: JSONValue = ["k\"ey": "a\"b\\c\n\r\t\u{8}\u{c}\u{1}é/"]
        #expect(value.jsonString == #"{"k\"ey":"a\"b\\c\n\r\t\b\f\u0001é/"}"#)
        #expect(JSONValue.double(.infinity).jsonString == "null")
        #expect(JSONValue.double(1e21).jsonString == "1e+21")
        #expect(JSONValue.double(0.1).jsonString == "0.1")
    }

    @Test func largeObjectsKeepOrderPastTheIndexThreshold() throws {
        let keys = (0..<40).map { "k\($0)" }
        let text = "{" + keys.map { "\"\($0)\":1" }.joined(separator: ",") + "}"
        var object = try #require(try JSONParser.parse(text).objectValue)
        #expect(object.keys == keys)
        object["k3"] = nil
        object.merge(["k0": 2, "new": 3])
        #expect(object.keys == keys.filter { $0 != "k3" } + ["new"])
        #expect(object["k0"] == 2)
        let reread = try JSONParser.parse(object.jsonString).objectValue
        #expect(reread?.jsonString == object.jsonString)
    }
}
