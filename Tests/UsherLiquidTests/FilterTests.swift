import Foundation
import Testing
import UsherJSON
import UsherLiquid

/// Filters beyond what golden-liquid covers: dates with a clock and time zone, json, Ruby number rules.
@Suite("Filters")
struct FilterTests {
    static func environment(zone: String = "UTC", now: TimeInterval = 1_700_000_000) -> LiquidEnvironment {
        var env = LiquidEnvironment()
        env.timeZone = TimeZone(identifier: zone) ?? env.timeZone
        env.now = { Date(timeIntervalSince1970: now) }
        return env
    }

    @Test func dateUsesTheInjectedClockAndZone() {
        let utc = Self.environment()
        #expect(TestSupport.render("{{ 'now' | date: '%Y-%m-%d %H:%M:%S %Z' }}", environment: utc) == "2023-11-14 22:13:20 UTC")
        #expect(TestSupport.render("{{ 'today' | date: '%s' }}", environment: utc) == "1700000000")
        let paris = Self.environment(zone: "Europe/Paris")
        #expect(TestSupport.render("{{ 'now' | date: '%Y-%m-%d %H:%M %z' }}", environment: paris) == "2023-11-14 23:13 +0100")
        #expect(TestSupport.render("{{ 1688212800 | date: '%H:%M %:z' }}", environment: paris) == "14:00 +02:00")
        // A zone-less date string is read in the environment's zone.
        #expect(TestSupport.render("{{ '2024-01-15 09:30' | date: '%s' }}", environment: paris) == "1705307400")
        #expect(TestSupport.render("{{ '2024-01-15T09:30:00Z' | date: '%H:%M' }}", environment: paris) == "09:30")
    }

    @Test func dateParsesCommonShapes() {
        let env = Self.environment()
        let cases: [(String, String)] = [
            ("March 14, 2016", "2016-03-14 00:00"),
            ("14 March 2016", "2016-03-14 00:00"),
            ("Mar 14 2016 3pm", "2016-03-14 15:00"),
            ("2016/03/14", "2016-03-14 00:00"),
            ("14/03/2016", "2016-03-14 00:00"),
            ("Tue, 14 Mar 2016 10:00:00 +0100", "2016-03-14 10:00"),
            ("2016-03-14T10:00:00.123+05:30", "2016-03-14 10:00"),
            ("1 Jan 2020", "2020-01-01 00:00"),
            ("Jan 2020", "2020-01-01 00:00"),
        ]
        for (input, expected) in cases {
            #expect(TestSupport.render("{{ d | date: '%Y-%m-%d %H:%M' }}", ["d": .string(input)], environment: env) == expected, "\(input)")
        }
        // Unparseable input comes back unchanged, as in Ruby Liquid.
        #expect(TestSupport.render("{{ 'not a date' | date: '%Y' }}", environment: env) == "not a date")
        #expect(TestSupport.render("{{ '2016-13-45' | date: '%Y' }}", environment: env) == "2016-13-45")
    }

    @Test func strftimeDirectivesAndFlags() {
        let env = Self.environment()
        let t = "{{ 1457913600 | date: f }}"
        let expectations: [(String, String)] = [
            ("%a %A %b %B %h", "Mon Monday Mar March Mar"),
            ("%c", "Mon Mar 14 00:00:00 2016"),
            ("%C %d %D %e %F", "20 14 03/14/16 14 2016-03-14"),
            ("%g %G %V %u %w %U %W %j", "16 2016 11 1 1 11 11 074"),
            ("%H %I %k %l %M %S %L %N %p %P", "00 12  0 12 00 00 000 000000000 AM am"),
            ("%r %R %T %x %X %y %Y %z %:z %Z %%", "12:00:00 AM 00:00 00:00:00 03/14/16 00:00:00 16 2016 +0000 +00:00 UTC %"),
            ("%-d/%-m %^a %_5d %010Y %3N %J", "14/3 MON    14 0000002016 000 %J"),
        ]
        for (format, expected) in expectations {
            #expect(TestSupport.render(t, ["f": .string(format)], environment: env) == expected, "\(format)")
        }
    }

    @Test func jsonFilter() {
        let data: LiquidValue = ["user": ["name": "Ana </script>", "age": 30, "tags": ["a", "b"], "ok": true, "x": nil, "score": 1.5]]
        let out = TestSupport.render("{{ user | json }}", ["user": data["user"]])
        #expect(out == #"{"name":"Ana \u003c/script\u003e","age":30,"tags":["a","b"],"ok":true,"x":null,"score":1.5}"#)
        #expect(TestSupport.render("{{ (1..3) | json }}") == "[1,2,3]")
        #expect(TestSupport.render("{{ 'x' | json: 2 }}") == "\"x\"")
        #expect(TestSupport.render("{{ a | json: 2 }}", ["a": [1, ["k": 2]]]) == "[\n  1,\n  {\n    \"k\": 2\n  }\n]")
    }

    @Test func rubyNumberRules() {
        #expect(
            TestSupport.render("{{ 10.1 | plus: 2.2 }} {{ 0.1 | plus: 0.2 }} {{ 2.675 | round: 2 }} {{ -7 | divided_by: 2 }} {{ -7 | modulo: 3 }}")
                == "12.3 0.3 2.68 -4 2")
        #expect(TestSupport.render("{{ 1e2 }}").hasPrefix("SYNTAX"))
        #expect(
            TestSupport.render("{{ 0 | times: -1.5 }} {{ 100 | divided_by: 3.0 }} {{ 15 | round: -1 }} {{ big | plus: 0 }}", ["big": 1e16])
                == "-0.0 33.333333333333336 20 1.0e+16")
        #expect(TestSupport.render("{{ '1_000' | plus: 1 }} {{ ' 12abc' | plus: 0 }} {{ '0x1A' | plus: 0 }}") == "1001 12 0")
    }

    @Test func stringFiltersCountCharacters() {
        #expect(
            TestSupport.render("{{ 'héllo wörld' | size }} {{ 'héllo' | slice: 1, 3 }} {{ 'héllo wörld' | truncate: 8 }} {{ 'ÀB' | downcase }}")
                == "11 éll héllo... àb")
        #expect(TestSupport.render("{{ 'a-b' | replace: '-', '\\0\\0' }}") == "a--b")
    }

    struct Invitee: Encodable {
        let name: String
        let roles: [String]
        let verified: Bool
    }

    @Test func encodableHostValues() throws {
        let value = try LiquidValue(encoding: Invitee(name: "Ana", roles: ["admin"], verified: false))
        #expect(
            TestSupport.render("{{ u.name }} {{ u.roles | join: ',' }} {% unless u.verified %}unverified{% endunless %}", ["u": value])
                == "Ana admin unverified")
    }

    @Test func jsonReaderRejectsBadInput() {
        for bad in ["{", "[1,]", "{\"a\" 1}", "tru", "\"\\x\"", "1 2", String(repeating: "[", count: 1000)] {
            #expect(throws: JSONParser.SyntaxError.self) { try LiquidJSON.parse(bad) }
        }
        #expect((try? LiquidJSON.parse(#"{"a": "\u00e9\ud83d\ude00", "b": -1.5e3, "c": 12345678901234567890}"#))?["a"] == "é😀")
    }
}
