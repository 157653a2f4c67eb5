import Foundation

/// One case of a golden-liquid format suite (github.com/jg-rp/golden-liquid): a template, its data
/// and partials, and the expected output or the expectation that it fails.
public struct LiquidConformanceCase: Sendable {
    public enum Expectation: Sendable, Equatable {
        case output(String)
        /// Any one of these outputs is acceptable.
        case anyOf([String])
        /// Parsing or rendering must fail.
        case invalid
    }

    public let name: String
    public let template: String
    public let data: LiquidValue
    public let templates: [String: String]
    public let expectation: Expectation
    public let tags: [String]

    /// `filters, abs` / `tags, for` / `output`: the part of the name before the case description.
    public var group: String {
        let parts = name.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count >= 2, parts[0] == "filters" || parts[0] == "tags" { return parts[0] + ", " + parts[1] }
        return parts.first ?? name
    }

    public var isInvalidCase: Bool { expectation == .invalid }
}

/// The outcome of running one case.
public struct LiquidConformanceResult: Sendable {
    public let testCase: LiquidConformanceCase
    public let passed: Bool
    /// What the engine produced: the output, or the error it raised.
    public let actual: String
}

/// Runs golden-liquid format suites. The `usher template conformance` command and the Swift test
/// suite both use this, so they count the same way.
public enum LiquidConformanceSuite {
    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads a suite file (`{"tests": [...]}`), keeping the key order of `data` objects.
    public static func load(contentsOf url: URL) throws -> [LiquidConformanceCase] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try load(json: text)
    }

    public static func load(json text: String) throws -> [LiquidConformanceCase] {
        let root = try LiquidJSON.parse(text)
        guard case .array(let tests) = root["tests"] else { throw FormatError(description: "no 'tests' array") }
        return try tests.map { test in
            guard let name = test["name"].stringValue, let template = test["template"].stringValue else {
                throw FormatError(description: "a test without 'name' or 'template'")
            }
            var templates: [String: String] = [:]
            if case .hash(let h) = test["templates"] {
                for (k, v) in h.pairs { templates[k] = v.stringValue ?? "" }
            }
            let expectation: LiquidConformanceCase.Expectation
            if test["invalid"] == .bool(true) {
                expectation = .invalid
            } else if let result = test["result"].stringValue {
                expectation = .output(result)
            } else if case .array(let results) = test["results"] {
                expectation = .anyOf(results.compactMap(\.stringValue))
            } else {
                throw FormatError(description: "'\(name)' has no result, results or invalid")
            }
            var tags: [String] = []
            if case .array(let t) = test["tags"] { tags = t.compactMap(\.stringValue) }
            let data = test["data"].isNil ? LiquidValue.hash(LiquidHash([])) : test["data"]
            return LiquidConformanceCase(
                name: name, template: template, data: data, templates: templates, expectation: expectation, tags: tags)
        }
    }

    /// Runs one case. Partials come from the case's `templates`; the time zone is UTC (cases tagged
    /// `utc` require it); cases tagged `strict2` run with ``LiquidEnvironment/rigidSyntax``.
    public static func run(_ testCase: LiquidConformanceCase, environment base: LiquidEnvironment = LiquidEnvironment())
        -> LiquidConformanceResult
    {
        var env = base
        env.templateSource = LiquidInMemoryTemplateSource(testCase.templates)
        env.timeZone = TimeZone(identifier: "UTC") ?? env.timeZone
        // `strict2` marks cases the reference ran in Shopify's stricter parse mode.
        if testCase.tags.contains("strict2") { env.rigidSyntax = true }
        var actual: String
        var failed = false
        do {
            let template = try LiquidTemplate.parse(testCase.template, environment: env)
            actual = try template.render(LiquidContext(hash: testCase.data))
        } catch let error as LiquidSyntaxError {
            actual = "syntax error: \(error.description)"
            failed = true
        } catch {
            actual = "render error: \(error)"
            failed = true
        }
        let passed: Bool
        switch testCase.expectation {
        case .invalid: passed = failed
        case .output(let expected): passed = !failed && actual == expected
        case .anyOf(let options): passed = !failed && options.contains(actual)
        }
        return LiquidConformanceResult(testCase: testCase, passed: passed, actual: actual)
    }

    /// Runs every case.
    public static func run(_ cases: [LiquidConformanceCase], environment: LiquidEnvironment = LiquidEnvironment())
        -> [LiquidConformanceResult]
    {
        cases.map { run($0, environment: environment) }
    }
}
