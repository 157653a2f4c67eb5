import Foundation
import Testing
import UsherApp
import UsherHTTP

@Suite("Configuration")
struct ConfigurationTests {
    @Test func flagsWinOverEnvironmentWhichWinsOverFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("usher-\(UUID().uuidString).json")
        try Data(#"{"port": 7000, "host": "0.0.0.0", "bcrypt_cost": 11}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let config = try ConfigurationLoader.load(
            flags: ["port": "9000"], environment: ["USHER_PORT": "8000", "USHER_HOST": "127.0.0.2"], configFile: file.path)
        #expect(config.port == 9000)
        #expect(config.host == "127.0.0.2")
        #expect(config.bcryptCost == 11)
        #expect(config.publicURL == "http://127.0.0.2:9000")
    }

    @Test func actionsKeys() throws {
        let defaults = try ConfigurationLoader.load(flags: [:], environment: [:], configFile: nil)
        #expect(defaults.actionsWorkers == 2 && defaults.actionsTimeoutMilliseconds == 5_000 && defaults.actionsMemoryMegabytes == 128)
        let set = try ConfigurationLoader.load(
            flags: ["actions_workers": "4"], environment: ["USHER_ACTIONS_TIMEOUT_MS": "250", "USHER_ACTIONS_MEMORY_MB": "64"], configFile: nil)
        #expect(set.actionsWorkers == 4 && set.actionsTimeoutMilliseconds == 250 && set.actionsMemoryMegabytes == 64)
        for (key, value) in [("USHER_ACTIONS_WORKERS", "0"), ("USHER_ACTIONS_TIMEOUT_MS", "soon"), ("USHER_ACTIONS_MEMORY_MB", "1")] {
            #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(flags: [:], environment: [key: value], configFile: nil) }
        }
    }

    @Test func badValuesNameTheKey() {
        let cases: [([String: String], [String: String], String)] = [
            (["port": "http"], [:], "--port"),
            ([:], ["USHER_PORT": "70000"], "USHER_PORT"),
            ([:], ["USHER_PUBLIC_URL": "ftp://x"], "USHER_PUBLIC_URL"),
            ([:], ["USHER_DATABASE_URL": "mysql://x"], "USHER_DATABASE_URL"),
            (["tls_cert": "/nonexistent"], [:], "--tls-key"),
            ([:], ["USHER_TRUSTED_PROXIES": "10.0.0.0/99"], "USHER_TRUSTED_PROXIES"),
            ([:], ["USHER_BOOTSTRAP_CLIENT_ID": "x"], "USHER_BOOTSTRAP_CLIENT_ID"),
            ([:], ["USHER_BCRYPT_COST": "3"], "USHER_BCRYPT_COST"),
        ]
        for (flags, environment, key) in cases {
            do {
                _ = try ConfigurationLoader.load(flags: flags, environment: environment, configFile: nil)
                Issue.record("expected failure for \(key)")
            } catch {
                #expect(String(describing: error).contains(key), "\(error)")
            }
        }
    }

    @Test func trustedProxiesOnlyBelieveTrustedPeers() throws {
        let proxies = try TrustedProxies("10.0.0.0/8, ::1")
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["198.51.100.7"]) == "198.51.100.7")
        #expect(proxies.clientAddress(peer: "203.0.113.5", forwardedFor: ["198.51.100.7"]) == "203.0.113.5")
        #expect(proxies.clientAddress(peer: "::1", forwardedFor: ["198.51.100.7, 10.9.9.9"]) == "198.51.100.7")
        // A client-supplied first hop cannot override what the trusted proxy appended.
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["1.1.1.1, 198.51.100.7"]) == "198.51.100.7")
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["garbage"]) == "10.1.2.3")
    }
}
