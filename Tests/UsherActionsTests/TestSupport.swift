import Foundation
import Testing
import UsherActions
import UsherJSON

/// Shared fixtures for the Actions tests.
enum Fixtures {
    /// Auth0's invitation recipe, the Action every tenant of this workflow has.
    static let seedAction = """
        exports.onExecutePostLogin = async (event, api) => {
            if (event.user.app_metadata.needsInvitation) {
                api.user.setAppMetadata("needsInvitation", false);
            }
        };
        """

    static func event(needsInvitation: Bool?, userID: String = "auth0|123") -> JSONValue {
        var appMetadata: JSONObject = [:]
        if let needsInvitation { appMetadata["needsInvitation"] = .bool(needsInvitation) }
        return [
            "user": [
                "user_id": .string(userID), "email": "ada@example.com", "email_verified": true,
                "app_metadata": .object(appMetadata), "user_metadata": ["lang": "en"],
            ],
            "stats": ["logins_count": 3],
            "client": ["client_id": "client-1", "name": "Dashboard", "metadata": [:]],
            "connection": ["id": "con_1", "name": "Username-Password-Authentication", "strategy": "auth0"],
            "request": ["ip": "127.0.0.1", "hostname": "login.example.com", "method": "POST"],
            "transaction": ["protocol": "oidc-basic-profile", "requested_scopes": ["openid"]],
            "tenant": ["id": "usher"],
            "authorization": ["roles": ["admin"]],
        ]
    }

    static func action(_ code: String, name: String = "test action", secrets: [String: String] = [:]) -> ActionDefinition {
        ActionDefinition(actionID: "act_\(name.replacingOccurrences(of: " ", with: "_"))", name: name, code: code, secrets: secrets)
    }

    static func request(_ codes: String..., needsInvitation: Bool? = true) -> PostLoginExecutionRequest {
        PostLoginExecutionRequest(
            event: event(needsInvitation: needsInvitation),
            actions: codes.enumerated().map { action($1, name: "action \($0 + 1)") })
    }

    /// The `usher` executable built next to the test bundle (`USHER_BINARY` overrides).
    static func usherBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["USHER_BINARY"], !path.isEmpty { return path }
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        for directory in candidates {
            let path = directory.appendingPathComponent("usher").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw MissingBinary(searched: candidates.map(\.path))
    }

    struct MissingBinary: Error, CustomStringConvertible {
        var searched: [String]
        var description: String { "no usher executable in \(searched); build it or set USHER_BINARY" }
    }

    struct NotAWorker: Error, CustomStringConvertible {
        var description: String
    }

    /// The usher binary, checked once: `usher actions-worker` must answer with its ready line. Without
    /// this, a binary lacking the subcommand would make every pool test wait out its queue timeout.
    static let checkedWorkerBinary: Result<String, NotAWorker> = {
        let path: String
        do { path = try usherBinary() } catch { return .failure(NotAWorker(description: "\(error)")) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["actions-worker"]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return .failure(NotAWorker(description: "\(path): \(error)")) }
        let firstLine =
            String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").first.map(String.init) ?? ""
        process.waitUntilExit()
        guard firstLine.contains(#""ready":true"#) else {
            return .failure(
                NotAWorker(description: "\(path) actions-worker did not start as a worker (register ActionsWorkerCommand?): \(firstLine.prefix(200))"))
        }
        return .success(path)
    }()

    static func pool(
        workers: Int = 2, timeLimit: Duration = .seconds(1), memoryBudget: Int = 128 << 20,
        workerMemoryLimit: Int = 512 << 20, grace: Duration = .milliseconds(500)
    ) throws -> ActionWorkerPool {
        ActionWorkerPool(
            configuration: .init(
                command: WorkerCommand(executablePath: try checkedWorkerBinary.get()),
                workerCount: workers,
                limits: ActionLimits(timeLimit: timeLimit, memoryBudgetBytes: memoryBudget),
                grace: grace,
                workerMemoryLimitBytes: workerMemoryLimit,
                queueTimeout: .seconds(30)))
    }

    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }
}

extension PostLoginExecutionResult {
    var failureKind: ActionFailure? { failure?.kind }
}
