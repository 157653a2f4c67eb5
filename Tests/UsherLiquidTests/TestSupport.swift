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
        get throws { try sharedFile("liquid-conformance/golden-liquid/golden_liquid.json") }
    }

    static var auth0Subset: URL {
        get throws { try sharedFile("liquid-conformance/golden-liquid/selections/auth0-email-subset.json") }
    }

    static var smokeSuite: URL {
        get throws { try sharedFile("liquid-conformance/local/auth0-smoke.json") }
    }

    /// A file of the shared test data, or an error that says in one line where the data comes from: a fresh clone
    /// outside its usual folder would otherwise fail with a bare "file not found".
    static func sharedFile(_ relativePath: String) throws -> URL {
        let url = sharedDirectory.appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else { throw MissingSharedData(path: url.path) }
        return url
    }

    /// The shared conformance data is not where the tests look for it.
    struct MissingSharedData: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "Liquid conformance data not found at \(path): set USHER_SHARED_DIR to the project's shared/ folder (default: ../shared beside the "
                + "project root), which holds liquid-conformance/ (golden-liquid from github.com/jg-rp/golden-liquid at commit "
                + "389a2987d14b218f2c04b25ac5670ed1fdcad0e8, MIT, plus Usher's own local/auth0-smoke.json)"
        }
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
