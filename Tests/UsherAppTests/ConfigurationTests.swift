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
