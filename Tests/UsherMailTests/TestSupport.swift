import Foundation
import NIOCore
import NIOEmbedded
import Testing

@testable import UsherMail

/// Holds a value set from a future callback on an embedded event loop (which runs callbacks inline).
final class ResultBox<T>: @unchecked Sendable {
    var value: Result<T, any Error>?
}

extension EventLoopFuture {
    /// The result of a future on an `EmbeddedEventLoop`, if it has completed.
    func embeddedResult() -> Result<Value, any Error>? {
        let box = ResultBox<Value>()
        whenComplete { box.value = $0 }
        return box.value
    }
}

/// Paths of the repository, found from this file's location (Tests/UsherMailTests/…), so tests can
/// find `tests/support/` however they are launched. The main tree is reached through the symlinked
/// test directory in development packages as well.
enum RepositoryPaths {
    static let root: URL = {
        // #filePath is …/Tests/UsherMailTests/TestSupport.swift (possibly through a symlink).
        let file = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        return file.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()
    static var checker: URL {
        if let explicit = ProcessInfo.processInfo.environment["USHER_TEST_SMTP_CHECKER"] { return URL(fileURLWithPath: explicit) }
        return root.appendingPathComponent("tests/support/check_message.py")
    }
}

/// Runs tests/support/check_message.py (Python's `email` package, the strict default policy) on a
/// rendered message and decodes its JSON summary.
enum PythonEmailChecker {
    static let python = "/usr/bin/python3"

    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: python) && FileManager.default.fileExists(atPath: RepositoryPaths.checker.path)
    }

    static func summary(ofFile path: String) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [RepositoryPaths.checker.path, path]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CheckerError(message: "check_message.py failed: \(String(decoding: errData, as: UTF8.self))")
        }
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CheckerError(message: "check_message.py printed no JSON object")
        }
        return json
    }

    static func summary(of bytes: [UInt8]) throws -> [String: Any] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("usher-mail-\(UUID().uuidString).eml")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try summary(ofFile: url.path)
    }

    struct CheckerError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) -> String? { self[key] as? String }
    func list(_ key: String) -> [[String: Any]] { (self[key] as? [[String: Any]]) ?? [] }
    func strings(_ key: String) -> [String] { (self[key] as? [String]) ?? [] }
    func int(_ key: String) -> Int? { self[key] as? Int }
}

func address(_ s: String, _ name: String? = nil) -> EmailAddress {
    try! EmailAddress(s, displayName: name)
}
