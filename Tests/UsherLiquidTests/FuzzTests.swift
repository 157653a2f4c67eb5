import Foundation
import Testing
import UsherLiquid

/// A seeded random-template generator: mutates the conformance templates and makes random token
/// soup, then parses and renders each result under tight limits. Any trap fails the test process;
/// any render that outlives its time budget by far is reported as a hang.
///
/// `USHER_LIQUID_FUZZ_ITERATIONS` sets the number of templates (default 6,000, a few seconds);
/// `USHER_LIQUID_FUZZ_SEED` the seed (default 20260425).
@Suite("Fuzz")
struct FuzzTests {
    /// SplitMix64: small, fast, reproducible.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
        mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
        mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }
    }

    static let vocabulary: [String] = [
        "{%", "%}", "{{", "}}", "{%-", "-%}", "{{-", "-}}", "-", "|", ":", ",", "'", "\"", "(", ")", "[", "]", "..", ".",
        " ", "\n", "\r", "\t", "#", "=", "==", "!=", "<>", "<", ">", "<=", ">=", "contains", "and", "or", "not",
        "if", "elsif", "else", "endif", "unless", "endunless", "case", "when", "endcase", "for", "in", "endfor",
        "break", "continue", "limit:", "offset:", "continue", "reversed", "cols:", "tablerow", "endtablerow",
        "assign", "capture", "endcapture", "increment", "decrement", "cycle", "echo", "liquid", "raw", "endraw",
        "comment", "endcomment", "doc", "enddoc", "ifchanged", "endifchanged", "include", "render", "with", "as",
        "layout", "block", "endblock", "auth0:head", "auth0:widget", "none",
        "upcase", "downcase", "escape", "append", "prepend", "split", "join", "map", "where", "sort", "sort_natural",
        "uniq", "compact", "concat", "sum", "size", "first", "last", "slice", "truncate", "truncatewords", "replace",
        "remove", "date", "default", "allow_false", "plus", "minus", "times", "divided_by", "modulo", "round",
        "ceil", "floor", "abs", "at_least", "at_most", "url_encode", "url_decode", "base64_decode", "strip_html",
        "json", "safe", "reject", "has", "find", "find_index",
        "x", "y", "a", "b", "product", "tags", "forloop", "index", "parentloop", "blank", "empty", "nil", "true",
        "false", "0", "1", "-1", "2.5", "9223372036854775807", "-9223372036854775808", "99999999999999999999",
        "(1..3)", "(0..999999999)", "'%Y-%m-%d'", "'now'", "'a,b'", "é", "😀", "\u{0}", "\\", "%", "{", "}",
    ]

    static func mutate(_ source: String, _ rng: inout Random, corpus: [String]) -> String {
        var scalars = Array(source.unicodeScalars)
        let rounds = 1 + rng.int(4)
        for _ in 0..<rounds {
            switch rng.int(7) {
            case 0 where !scalars.isEmpty:  // delete a span
                let start = rng.int(scalars.count)
                let length = min(scalars.count - start, 1 + rng.int(8))
                scalars.removeSubrange(start..<(start + length))
            case 1, 2:  // insert a vocabulary token
                let at = rng.int(scalars.count + 1)
                scalars.insert(contentsOf: rng.pick(vocabulary).unicodeScalars, at: at)
            case 3 where !scalars.isEmpty:  // duplicate a span (nesting, repetition)
                let start = rng.int(scalars.count)
                let length = min(scalars.count - start, 1 + rng.int(40))
                let span = Array(scalars[start..<(start + length)])
                for _ in 0..<(1 + rng.int(3)) { scalars.insert(contentsOf: span, at: start) }
            case 4:  // splice with another template
                let other = Array(rng.pick(corpus).unicodeScalars)
                let cut = rng.int(scalars.count + 1)
                let otherCut = rng.int(other.count + 1)
                scalars = Array(scalars[..<cut]) + Array(other[otherCut...])
            case 5 where !scalars.isEmpty:  // replace one character
                scalars[rng.int(scalars.count)] = rng.pick(Array("{}%-|'\"()[].:,#\n 0aZ".unicodeScalars))
            default:
                break
            }
        }
        return String(String.UnicodeScalarView(scalars))
    }

    static func soup(_ rng: inout Random) -> String {
        var out = ""
        for _ in 0..<(1 + rng.int(40)) {
            out += rng.pick(vocabulary)
            if rng.chance(50) { out += " " }
        }
        return out
    }

    static let filterNames: [String] = StandardFiltersList.names

    static let literals: [String] = [
        "0", "1", "-1", "2", "3.5", "-0.0", "9223372036854775807", "-9223372036854775808", "99999999999999999999",
        "999999999999999999999.5", "0.000001", "'a'", "''", "' x y '", "'%Y-%m-%d %H:%M:%S %z'", "'1700000000'",
        "'2024-02-29T10:05:00Z'", "'March 14, 2016'", "'é😀'", "'<b>&</b>'", "'a,b,c'", "nil", "true", "false",
        "blank", "empty", "(1..5)", "(-3..3)", "(0..9223372036854775807)", "(9223372036854775807..-9223372036854775808)",
        "x", "y", "a", "b", "product.tags", "product.tags[0]", "product.tags[-1]", "forloop.index", "h.first", "arr.size",
    ]

    /// Well-formed templates built from a small grammar: they get past the parser and exercise
    /// rendering, filters and arguments at their edges.
    static func structured(_ rng: inout Random, depth: Int = 0) -> String {
        func expr(_ rng: inout Random) -> String {
            var e = rng.pick(literals)
            for _ in 0..<rng.int(4) {
                e += " | " + rng.pick(filterNames)
                let argc = rng.int(3)
                if argc > 0 {
                    e += ": " + (0..<argc).map { _ in rng.pick(literals) }.joined(separator: ", ")
                }
                if rng.chance(5) { e += ", allow_false: true" }
            }
            return e
        }
        func condition(_ rng: inout Random) -> String {
            var c = rng.pick(literals)
            if rng.chance(60) { c += " " + rng.pick(["==", "!=", "<", ">", "<=", ">=", "contains"]) + " " + rng.pick(literals) }
            if rng.chance(30) { c += " " + rng.pick(["and", "or"]) + " " + rng.pick(literals) }
            return c
        }
        var out = ""
        for _ in 0..<(1 + rng.int(4)) {
            let choice = depth > 5 ? rng.int(3) : rng.int(14)
            switch choice {
            case 0: out += "{{ \(expr(&rng)) }}"
            case 1: out += rng.pick(["text ", "\n", "  ", "é "])
            case 2: out += "{% assign \(rng.pick(["x", "y", "a"])) = \(expr(&rng)) %}"
            case 3:
                out +=
                    "{% if \(condition(&rng)) %}\(structured(&rng, depth: depth + 1)){% elsif \(condition(&rng)) %}e{% else %}\(structured(&rng, depth: depth + 1)){% endif %}"
            case 4:
                let attrs = rng.chance(50) ? " limit: \(rng.pick(literals)) offset: \(rng.pick(literals + ["continue"]))" : ""
                out +=
                    "{% for i in \(rng.pick(literals))\(rng.chance(20) ? " reversed" : "")\(attrs) %}{{ i }}\(structured(&rng, depth: depth + 1)){% if i == 2 %}{% \(rng.pick(["break", "continue"])) %}{% endif %}{% else %}none{% endfor %}"
            case 5: out += "{% capture x %}\(structured(&rng, depth: depth + 1)){% endcapture %}"
            case 6:
                out +=
                    "{% case \(expr(&rng)) %}{% when \(rng.pick(literals)), \(rng.pick(literals)) %}w{% else %}\(structured(&rng, depth: depth + 1)){% endcase %}"
            case 7: out += "{% tablerow i in \(rng.pick(literals)) cols: \(rng.pick(literals)) limit: \(rng.pick(literals)) %}{{ i }}{% endtablerow %}"
            case 8: out += "{% cycle \(rng.pick(literals)), \(rng.pick(literals)) %}{% \(rng.pick(["increment", "decrement"])) c %}"
            case 9: out += "{% unless \(condition(&rng)) %}\(structured(&rng, depth: depth + 1)){% endunless %}"
            case 10:
                out +=
                    "{% \(rng.pick(["include", "render"])) '\(rng.pick(["self", "product-hero", "product-args", "nope"]))' with \(rng.pick(literals)), foo: \(rng.pick(literals)) %}"
            case 11: out += "{%- liquid\n  assign x = \(expr(&rng))\n  echo x\n-%}"
            case 12: out += "{% ifchanged %}\(structured(&rng, depth: depth + 1)){% endifchanged %}{% raw %}{{ raw }}{% endraw %}"
            default: out += "{% echo \(expr(&rng)) %}"
            }
        }
        return out
    }

    static var fuzzEnvironment: LiquidEnvironment {
        var env = LiquidEnvironment()
        env.limits.maxRenderTime = .milliseconds(250)
        env.limits.maxLoopIterations = 20_000
        env.limits.maxOutputBytes = 256 * 1024
        env.limits.maxAllocatedBytes = 4 << 20
        env.limits.maxPartialDepth = 8
        env.limits.maxCollectionSize = 50_000
        env.now = { Date(timeIntervalSince1970: 1_700_000_000) }
        return env
    }

    static let structuredData: LiquidValue = [
        "x": "Hello World", "y": 7, "a": 2.675, "b": nil,
        "arr": [3, 1, "b", ["n", 2], ["k": "v"], nil, -0.0], "h": ["a": 1, "b": [1, 2], "c": ["d": "e"]],
        "product": ["title": "<shoe>", "tags": ["sports", "garden", "", "9223372036854775807"]],
    ]

    @Test("random templates never trap or hang")
    func fuzz() throws {
        let environment = ProcessInfo.processInfo.environment
        let iterations = Int(environment["USHER_LIQUID_FUZZ_ITERATIONS"] ?? "") ?? 6000
        let seed = UInt64(environment["USHER_LIQUID_FUZZ_SEED"] ?? "") ?? 20_260_425
        var cases = try LiquidConformanceSuite.load(contentsOf: TestSupport.goldenSuite)
        cases += try LiquidConformanceSuite.load(contentsOf: TestSupport.smokeSuite)
        let corpus = cases.map(\.template) + Array(cases.flatMap(\.templates.values))
        var partials: [String: String] = [:]
        for c in cases { partials.merge(c.templates) { a, _ in a } }
        partials["self"] = "{% include 'self' %}{% render 'self' %}"

        var rng = Random(state: seed)
        var env = Self.fuzzEnvironment
        env.templateSource = LiquidInMemoryTemplateSource(partials)
        let clock = ContinuousClock()
        var parsed = 0
        var rendered = 0
        var slowest: Duration = .zero
        let start = clock.now
        for i in 0..<iterations {
            let source: String
            switch rng.int(10) {
            case 0, 1: source = Self.soup(&rng)
            case 2, 3, 4: source = Self.structured(&rng)
            default: source = Self.mutate(rng.pick(corpus), &rng, corpus: corpus)
            }
            let data: LiquidValue = rng.chance(50) ? rng.pick(cases).data : Self.structuredData
            var caseEnv = env
            caseEnv.autoEscape = rng.chance(20)
            caseEnv.strictVariables = rng.chance(10)
            caseEnv.rigidSyntax = rng.chance(10)
            let t0 = clock.now
            if let template = try? LiquidTemplate.parse(source, environment: caseEnv) {
                parsed += 1
                if (try? template.render(LiquidContext(hash: data))) != nil { rendered += 1 }
            }
            let elapsed = clock.now - t0
            slowest = max(slowest, elapsed)
            if elapsed > .seconds(3) {
                Issue.record("iteration \(i) (seed \(seed)) took \(elapsed): \(source.debugDescription)")
            }
        }
        print(
            "fuzz: \(iterations) templates (seed \(seed)), \(parsed) parsed, \(rendered) rendered without error, slowest \(slowest), total \(clock.now - start)"
        )
        #expect(parsed > 0)
    }
}

/// Names of the standard filters, for the template generator.
enum StandardFiltersList {
    static let names: [String] = LiquidEnvironment().filters.keys.sorted() + ["no_such_filter"]
}
