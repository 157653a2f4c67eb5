import ArgumentParser
import Foundation
import UsherLiquid

/// `usher template …`: render, check and conformance-test Liquid templates from the command line.
/// A thin wrapper over UsherLiquid's public API.
struct TemplateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Render, check and conformance-test Liquid templates.",
        subcommands: [Render.self, Check.self, Conformance.self]
    )

    struct Render: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Render a template with JSON data and print the output.")

        @Argument(help: "The template file.")
        var templateFile: String

        @Option(name: .long, help: "A JSON file whose top-level object provides the template's variables.")
        var data: String?

        @Option(name: .long, help: "Directory for include/render/layout partials (default: the template's directory).")
        var templates: String?

        @Flag(name: .long, help: "Escape {{ }} output as HTML unless marked safe (hosted-page mode).")
        var autoEscape = false

        @Flag(name: .long, help: "Undefined variables are errors.")
        var strictVariables = false

        @Option(name: .long, help: "Time zone for the date filter (IANA name, default UTC).")
        var timeZone: String?

        func run() async throws {
            let templateURL = URL(fileURLWithPath: templateFile)
            var env = LiquidEnvironment()
            env.autoEscape = autoEscape
            env.strictVariables = strictVariables
            if let timeZone {
                guard let tz = TimeZone(identifier: timeZone) else { throw ValidationError("unknown time zone '\(timeZone)'") }
                env.timeZone = tz
            }
            let partials = templates.map { URL(fileURLWithPath: $0) } ?? templateURL.deletingLastPathComponent()
            env.templateSource = LiquidDirectoryTemplateSource(root: partials)
            var context = LiquidContext()
            if let data {
                let json = try String(contentsOf: URL(fileURLWithPath: data), encoding: .utf8)
                context = LiquidContext(hash: try LiquidValue(json: json))
            }
            let source = try String(contentsOf: templateURL, encoding: .utf8)
            do {
                let template = try LiquidTemplate.parse(source, environment: env, name: nil)
                print(try template.render(context), terminator: "")
            } catch let error as LiquidSyntaxError {
                FileHandle.standardError.write(Data("\(templateFile): \(error)\n".utf8))
                throw ExitCode(1)
            } catch let error as LiquidRenderError {
                FileHandle.standardError.write(Data("\(templateFile): \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Report syntax errors (with line and column) in a template.")

        @Argument(help: "The template file.")
        var file: String

        @Flag(name: .long, help: "Also report unknown filters.")
        var strictFilters = false

        func run() async throws {
            let source = try String(contentsOf: URL(fileURLWithPath: file), encoding: .utf8)
            var env = LiquidEnvironment()
            env.strictFilters = strictFilters
            do {
                let template = try LiquidTemplate.parse(source, environment: env)
                print("\(file): OK (tags: \(template.usedTags.sorted().joined(separator: ", ")))")
            } catch {
                print("\(file): \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Conformance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a golden-liquid format suite and print per-group results.")

        @Argument(help: "The suite file (golden-liquid JSON format).")
        var suite: String

        @Flag(name: .long, help: "Print every failing case with expected and actual output.")
        var verbose = false

        func run() async throws {
            let cases = try LiquidConformanceSuite.load(contentsOf: URL(fileURLWithPath: suite))
            let results = LiquidConformanceSuite.run(cases)
            var groups: [(String, Int, Int)] = []
            var index: [String: Int] = [:]
            for r in results {
                let g = r.testCase.group
                if index[g] == nil {
                    index[g] = groups.count
                    groups.append((g, 0, 0))
                }
                if let i = index[g] {
                    if r.passed { groups[i].1 += 1 } else { groups[i].2 += 1 }
                }
            }
            for (name, passed, failed) in groups {
                print("\(failed == 0 ? "ok  " : "FAIL") \(name): \(passed)/\(passed + failed)")
            }
            let failures = results.filter { !$0.passed }
            for f in failures {
                print("failed: \(f.testCase.name)")
                if verbose {
                    print("  template: \(f.testCase.template.debugDescription)")
                    print("  expected: \(f.testCase.expectation)")
                    print("  actual:   \(f.actual.debugDescription)")
                }
            }
            let valid = results.filter { !$0.testCase.isInvalidCase }
            let invalid = results.filter { $0.testCase.isInvalidCase }
            print("valid cases: \(valid.filter(\.passed).count)/\(valid.count), error cases: \(invalid.filter(\.passed).count)/\(invalid.count)")
            print("\(results.count - failures.count) passed, \(failures.count) failed")
            if !failures.isEmpty { throw ExitCode(1) }
        }
    }
}
