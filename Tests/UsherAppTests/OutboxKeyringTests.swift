import Foundation
import Logging
import Testing
import UsherCore

@testable import UsherApp

/// Where the outbox key comes from: one key per database, never a different one per process.
@Suite("Outbox keyring")
struct OutboxKeyringTests {
    static let logger = Logger(label: "outbox-keyring-test")

    @Test func sqliteCreatesAPrivateKeyFileBesideTheDatabaseAndReusesIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("usher-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try ConfigurationLoader.load(
            flags: [:], environment: ["USHER_DATABASE_URL": directory.appendingPathComponent("usher.sqlite").path], configFile: nil)
        let first = try OutboxKeyring.seal(for: config, logger: Self.logger)
        let keyFile = directory.appendingPathComponent("outbox.key").path
        let permissions = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let second = try OutboxKeyring.seal(for: config, logger: Self.logger)
        #expect(first.currentKeyID == second.currentKeyID)
        #expect(try second.open(first.seal("sealed by the first start")) == "sealed by the first start")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["outbox.key"])  // no temporary left
    }

    @Test func postgresWithoutAKeyRefusesToStartAndSaysWhatToSet() throws {
        let config = try ConfigurationLoader.load(
            flags: [:], environment: ["USHER_DATABASE_URL": "postgres://u:p@127.0.0.1:5432/usher"], configFile: nil)
        let error = #expect(throws: ConfigurationError.self) { try OutboxKeyring.seal(for: config, logger: Self.logger) }
        #expect(error?.description.contains("USHER_OUTBOX_KEY") == true)
    }

    @Test func aGivenKeyAndItsPredecessorsAreUsed() throws {
        let current = OutboxBodySeal.newKeyBase64()
        let previous = OutboxBodySeal.newKeyBase64()
        let config = try ConfigurationLoader.load(
            flags: [:],
            environment: [
                "USHER_DATABASE_URL": "postgres://u:p@127.0.0.1:5432/usher", "USHER_OUTBOX_KEY": current, "USHER_OUTBOX_PREVIOUS_KEYS": previous,
            ], configFile: nil)
        let seal = try OutboxKeyring.seal(for: config, logger: Self.logger)
        #expect(seal.currentKeyID == OutboxBodySeal.keyID(Data(base64Encoded: current)!))
        let old = try OutboxBodySeal(currentKey: Data(base64Encoded: previous)!)
        #expect(try seal.open(old.seal("before rotation")) == "before rotation")
    }

    @Test func aMalformedKeyNamesItsSource() throws {
        let config = try ConfigurationLoader.load(flags: [:], environment: ["USHER_OUTBOX_KEY": "too-short"], configFile: nil)
        let error = #expect(throws: ConfigurationError.self) { try OutboxKeyring.seal(for: config, logger: Self.logger) }
        #expect(error?.description.contains("USHER_OUTBOX_KEY") == true && error?.description.contains("openssl rand -base64 32") == true)
    }
}
