import Testing
import UsherLiquid

/// Hostile templates must end in an error, quickly, without trapping or exhausting the machine.
@Suite("Resource limits")
struct LimitsTests {
    func renderError(
        _ source: String, _ globals: [String: LiquidValue] = [:], environment: LiquidEnvironment = LiquidEnvironment()
    ) -> LiquidRenderError? {
        do {
            _ = try LiquidTemplate.parse(source, environment: environment).render(LiquidContext(globals))
            return nil
        } catch let error as LiquidRenderError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func hugeLoopStopsAtTheIterationLimit() {
        var env = LiquidEnvironment()
        env.limits.maxLoopIterations = 100_000
        env.limits.maxRenderTime = .seconds(120)
        let e = renderError("{% for i in (1..999999999999) %}{% endfor %}", environment: env)
        #expect(e?.kind == .limitExceeded(.loopIterations))
        let nested = renderError(
            "{% for a in (1..1000) %}{% for b in (1..1000) %}{% for c in (1..1000) %}{% endfor %}{% endfor %}{% endfor %}",
            environment: env)
        #expect(nested?.kind == .limitExceeded(.loopIterations))
        // With the default limits, whichever comes first in this build: the iteration cap or the time budget.
        let defaults = renderError("{% for i in (1..999999999999) %}{% endfor %}")
        #expect(defaults?.kind == .limitExceeded(.loopIterations) || defaults?.kind == .limitExceeded(.renderTime))
    }

    @Test func hugeOutputStops() {
        var env = LiquidEnvironment()
        env.limits.maxLoopIterations = .max
        let e = renderError("{% for i in (1..10000000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}", environment: env)
        #expect(e?.kind == .limitExceeded(.outputSize))
    }

    @Test func doublingStringsStopAtTheAllocationBudget() {
        let capture = renderError("{% assign s = 'xxxxxxxxxxxxxxxx' %}{% for i in (1..64) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}")
        #expect(capture?.kind == .limitExceeded(.outputSize) || capture?.kind == .limitExceeded(.allocatedBytes))
        let append = renderError("{% assign s = 'xxxxxxxxxxxxxxxx' %}{% for i in (1..64) %}{% assign s = s | append: s %}{% endfor %}")
        #expect(append?.kind == .limitExceeded(.allocatedBytes))
        let replace = renderError("{% assign s = 'aaaaaaaaaaaaaaaa' %}{% for i in (1..64) %}{% assign s = s | replace: 'a', 'aa' %}{% endfor %}")
        #expect(replace?.kind == .limitExceeded(.allocatedBytes))
    }

    @Test func hugeRangesAreNotMaterialised() {
        let e = renderError("{{ (1..999999999999) | join: ',' }}")
        #expect(e?.kind == .limitExceeded(.collectionSize))
        // Iterating a slice of a huge range is fine: ranges are lazy.
        #expect(TestSupport.render("{% for i in (1..9223372036854775807) limit: 3 %}{{ i }}{% endfor %}") == "123")
        #expect(TestSupport.render("{{ (1..9223372036854775807) | size }}") == "9223372036854775807")
    }

    @Test func recursiveIncludeStops() {
        var env = LiquidEnvironment()
        env.templateSource = LiquidInMemoryTemplateSource(["loop": "x{% include 'loop' %}", "r": "{% render 'r' %}"])
        #expect(renderError("{% include 'loop' %}", environment: env)?.kind == .limitExceeded(.partialDepth))
        #expect(renderError("{% render 'r' %}", environment: env)?.kind == .limitExceeded(.partialDepth))
    }

    @Test func exponentialIncludesStopOnTime() {
        var env = LiquidEnvironment()
        env.limits.maxRenderTime = .milliseconds(200)
        // p0 includes p1 twice, p1 includes p2 twice, …: 2^30 renders of a tiny partial.
        var partials: [String: String] = ["p30": "x"]
        for i in 0..<30 { partials["p\(i)"] = "{% include 'p\(i + 1)' %}{% include 'p\(i + 1)' %}" }
        env.limits.maxPartialDepth = 40
        env.limits.maxOutputBytes = .max
        env.limits.maxRenderNesting = 10_000
        env.templateSource = LiquidInMemoryTemplateSource(partials)
        let clock = ContinuousClock()
        let start = clock.now
        let e = renderError("{% include 'p0' %}", environment: env)
        #expect(e?.kind == .limitExceeded(.renderTime))
        #expect(clock.now - start < .seconds(5))
    }

    @Test func slowRenderStopsOnTime() {
        var env = LiquidEnvironment()
        env.limits.maxRenderTime = .milliseconds(100)
        env.limits.maxLoopIterations = .max
        let e = renderError("{% for a in (1..100000000) %}{% assign b = a | plus: 1 %}{% endfor %}", environment: env)
        #expect(e?.kind == .limitExceeded(.renderTime))
    }

    @Test func deepNestingIsAParseError() {
        let depth = 5000
        let ifs = String(repeating: "{% if true %}", count: depth) + "x" + String(repeating: "{% endif %}", count: depth)
        #expect(throws: LiquidSyntaxError.self) { try LiquidTemplate.parse(ifs) }
        let brackets = "{{ " + String(repeating: "a[", count: depth) + "0" + String(repeating: "]", count: depth) + " }}"
        #expect(throws: LiquidSyntaxError.self) { try LiquidTemplate.parse(brackets) }
        let ranges = "{{ " + String(repeating: "(1..", count: depth) + "1" + String(repeating: ")", count: depth) + " }}"
        #expect(throws: LiquidSyntaxError.self) { try LiquidTemplate.parse(ranges) }
        let liquids = "{% liquid " + String(repeating: "liquid ", count: depth) + "echo 1 %}"
        #expect(throws: LiquidSyntaxError.self) { try LiquidTemplate.parse(liquids) }
        let comments = String(repeating: "{% comment %}", count: depth) + String(repeating: "{% endcomment %}", count: depth)
        #expect(TestSupport.render(comments) == "")
        // A long flat chain of conditions needs no recursion at all.
        let chain = "{% if " + Array(repeating: "a", count: 20000).joined(separator: " or ") + " %}y{% endif %}"
        #expect(TestSupport.render(chain, ["a": true]) == "y")
    }

    @Test func templateSizeLimit() {
        var env = LiquidEnvironment()
        env.limits.maxTemplateBytes = 100
        #expect(throws: LiquidSyntaxError.self) { try LiquidTemplate.parse(String(repeating: "x", count: 101), environment: env) }
    }

    @Test func integerOverflowFallsBackToFloats() {
        #expect(TestSupport.render("{{ 9223372036854775807 | plus: 1 }}") == "9.223372036854776e+18")
        #expect(TestSupport.render("{{ -9223372036854775808 | minus: 1 }}") == "-9.223372036854776e+18")
        #expect(TestSupport.render("{{ 9223372036854775807 | times: 9223372036854775807 }}") == "8.507059173023462e+37")
        #expect(TestSupport.render("{{ -9223372036854775808 | divided_by: -1 }}") == "9.223372036854776e+18")
        #expect(TestSupport.render("{{ -9223372036854775808 | modulo: -1 }}") == "0")
        #expect(TestSupport.render("{{ -9223372036854775808 | abs }}") == "9.223372036854776e+18")
        #expect(TestSupport.render("{{ 99999999999999999999999 }}") == "1.0e+23")
        #expect(TestSupport.render("{{ 1e308 | times: 10 }}").hasPrefix("SYNTAX"))
        #expect(TestSupport.render("{{ 1.5 | times: 1.0e300 }}").isEmpty == false)
        #expect(TestSupport.render("{% increment n %}", ["n": .int(.max)]) == "9223372036854775807")
        #expect(TestSupport.render("{{ 'x' | slice: -9223372036854775808, 9223372036854775807 }}") == "")
        #expect(TestSupport.render("{{ 'abc' | truncate: -9223372036854775808 }}") == "...")
        #expect(
            TestSupport.render("{% for i in (9223372036854775806..9223372036854775807) %}{{ i }},{% endfor %}")
                == "9223372036854775806,9223372036854775807,")
        #expect(TestSupport.render("{% for i in (1..3) offset: 9223372036854775807 limit: 9223372036854775807 %}{{ i }}{% endfor %}") == "")
        #expect(TestSupport.render("{{ 1.5 | divided_by: 0 }}") == "Infinity")
    }

    @Test func pathologicalStringsStayLinear() {
        let clock = ContinuousClock()
        let start = clock.now
        let data: [String: LiquidValue] = [
            "tags": .string(String(repeating: "<script<!--<style<", count: 20_000)),
            "hay": .string(String(repeating: "a", count: 200_000)),
            "needle": .string(String(repeating: "a", count: 50_000) + "b"),
        ]
        #expect(TestSupport.render("{{ tags | strip_html | size }}", data) == "360000")
        #expect(TestSupport.render("{% if hay contains needle %}yes{% else %}no{% endif %}", data) == "no")
        #expect(TestSupport.render("{{ hay | replace_last: needle, 'x' | size }}", data) == "200000")
        #expect(TestSupport.render("{{ hay | remove: needle | size }}", data) == "200000")
        #expect(clock.now - start < .seconds(10))
    }

    @Test func limitsAreConfigurable() {
        var env = LiquidEnvironment()
        env.limits.maxLoopIterations = 5
        #expect(renderError("{% for i in (1..5) %}{% endfor %}", environment: env) == nil)
        #expect(renderError("{% for i in (1..6) %}{% endfor %}", environment: env)?.kind == .limitExceeded(.loopIterations))
        env.limits.maxOutputBytes = 10
        #expect(renderError("{{ 'abcdefghijk' }}", environment: env)?.kind == .limitExceeded(.outputSize))
    }
}
