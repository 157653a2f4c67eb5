import Foundation
import Testing
import UsherLiquid

/// Paths and helpers shared by the UsherLiquid tests.
enum TestSupport {
    /// `<project root>/../shared`, or `$USHER_SHARED_DIR`. The project root is derived from this
    /// file's path (symlinks resolved, so a dev package that links the test folder works too).
    static var sharedDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["USHER_SHARED_DIR"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return projectRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    static var projectRoot: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent()  // UsherLiquidTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // project root
    }

    static var testsDirectory: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    static var goldenSuite: URL {
        sharedDirectory.appendingPathComponent("liquid-conformance/golden-liquid/golden_liquid.json")
    }

    static var auth0Subset: URL {
        sharedDirectory.appendingPathComponent("liquid-conformance/golden-liquid/selections/auth0-email-subset.json")
    }

    static var smokeSuite: URL {
        sharedDirectory.appendingPathComponent("liquid-conformance/local/auth0-smoke.json")
    }

    /// Parses and renders, returning the output or a description of the error.
    static func render(
        _ source: String, _ globals: [String: LiquidValue] = [:], environment: LiquidEnvironment = LiquidEnvironment()
    ) -> String {
        do {
            return try LiquidTemplate.parse(source, environment: environment).render(LiquidContext(globals))
        } catch let e as LiquidSyntaxError {
            return "SYNTAX: \(e)"
        } catch {
            return "RENDER: \(error)"
        }
    }
}
