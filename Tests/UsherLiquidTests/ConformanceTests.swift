import Foundation
import Testing
import UsherLiquid

/// The golden-liquid suite (1,054 cases from Shopify Liquid 5.12) and our Auth0 smoke cases, run
/// through the same `LiquidConformanceSuite` the `usher template conformance` command uses.
@Suite("Conformance")
struct ConformanceTests {
    /// Case names expected to fail, with the reason after `#` (see known-failures.txt).
    static func knownFailures() throws -> [String: String] {
        let url = TestSupport.testsDirectory.appendingPathComponent("known-failures.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        var out: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let parts = trimmed.split(separator: "#", maxSplits: 1)
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            out[name] = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        }
        return out
    }

    static func describe(_ r: LiquidConformanceResult) -> String {
        "\(r.testCase.name)\n    template: \(r.testCase.template.debugDescription)\n    expected: \(r.testCase.expectation)\n    actual:   \(r.actual.debugDescription)"
    }

    @Test("golden-liquid: every case passes or is a listed known failure")
    func goldenSuite() throws {
        let cases = try LiquidConformanceSuite.load(contentsOf: TestSupport.goldenSuite)
        #expect(cases.count == 1054)
        let results = LiquidConformanceSuite.run(cases)
        let known = try Self.knownFailures()

        let valid = results.filter { !$0.testCase.isInvalidCase }
        let invalid = results.filter { $0.testCase.isInvalidCase }
        let passed = results.filter(\.passed).count
        print("golden-liquid valid cases: \(valid.filter(\.passed).count)/\(valid.count)")
        print("golden-liquid error cases: \(invalid.filter(\.passed).count)/\(invalid.count)")
        print("golden-liquid total: \(passed)/\(results.count) (\(String(format: "%.2f", Double(passed) * 100 / Double(results.count)))%)")

        let unexpected = results.filter { !$0.passed && known[$0.testCase.name] == nil }
        for r in unexpected { Issue.record("unexpected failure: \(Self.describe(r))") }
        let nowPassing = results.filter { $0.passed && known[$0.testCase.name] != nil }
        for r in nowPassing {
            Issue.record("known failure now passes, remove it from known-failures.txt: \(r.testCase.name)")
        }
        let names = Set(cases.map(\.name))
        for name in known.keys where !names.contains(name) {
            Issue.record("known-failures.txt lists a case that does not exist: \(name)")
        }
        #expect(Double(passed) / Double(results.count) >= 0.99)
    }

    @Test("golden-liquid: 100% of the Auth0 email subset")
    func auth0EmailSubset() throws {
        let cases = try LiquidConformanceSuite.load(contentsOf: TestSupport.goldenSuite)
        let selection = try LiquidValue(json: String(contentsOf: TestSupport.auth0Subset, encoding: .utf8))
        var names = Set<String>()
        for key in ["names", "capture_tag_cases"] {
            if case .array(let list) = selection[key] { names.formUnion(list.compactMap(\.stringValue)) }
        }
        #expect(names.count == 817)
        let subset = cases.filter { names.contains($0.name) }
        #expect(subset.count == names.count, "every selected name exists in the suite")
        let results = LiquidConformanceSuite.run(subset)
        let valid = results.filter { !$0.testCase.isInvalidCase }
        let invalid = results.filter { $0.testCase.isInvalidCase }
        print(
            "Auth0 email subset: \(results.filter(\.passed).count)/\(results.count) (valid \(valid.filter(\.passed).count)/\(valid.count), error \(invalid.filter(\.passed).count)/\(invalid.count))"
        )
        for r in results where !r.passed { Issue.record("Auth0 subset failure: \(Self.describe(r))") }
    }

    @Test("local Auth0 smoke cases all pass")
    func auth0Smoke() throws {
        let cases = try LiquidConformanceSuite.load(contentsOf: TestSupport.smokeSuite)
        #expect(cases.count == 35)
        let results = LiquidConformanceSuite.run(cases)
        for r in results where !r.passed { Issue.record("smoke failure: \(Self.describe(r))") }
    }

    @Test("the suite reader keeps JSON key order")
    func keyOrder() throws {
        let v = try LiquidValue(json: #"{"z": 1, "a": 2, "m": {"y": true, "b": null}}"#)
        guard case .hash(let h) = v, case .hash(let inner)? = h["m"] else {
            Issue.record("expected hashes")
            return
        }
        #expect(h.keys == ["z", "a", "m"])
        #expect(inner.keys == ["y", "b"])
    }
}
