import Foundation
import Testing
import UsherApp
import UsherCore
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

    @Test func limitsDefaultToTodaysValues() async throws {
        let test = try await TestServer.start(configuration: try ConfigurationLoader.load(flags: [:], environment: [:], configFile: nil))
        let services = test.server.services
        #expect(services.signupLimiter.burst == 50 && services.signupLimiter.refill == 1.2)
        #expect(services.passwordResets.requestLimiter.burst == 10 && services.passwordResets.requestLimiter.refill == 60)
        #expect(services.passwordResets.mailLimiter.burst == 20 && services.passwordResets.mailLimiter.refill == 180)
        #expect(services.passwordResets.queue.capacity == 10_000)
        #expect(services.login.bruteForceThreshold == 10)
        #expect(services.mail.usesDevelopmentMailbox)
        let lifetimes = services.login.lifetimes
        #expect(lifetimes.accessToken == 86_400 && lifetimes.idToken == 36_000 && lifetimes.authorizationCode == 120)
        #expect(lifetimes.refreshToken == 30 * 86_400 && lifetimes.session == 168 * 3_600 && lifetimes.sessionIdle == 72 * 3_600)
        #expect(services.machineTokens.tokenLifetime == 86_400)
        await test.stop()
    }

    @Test func limitKeysReachTheServices() async throws {
        let configuration = try ConfigurationLoader.load(
            flags: ["signup_burst": "7", "brute_force_threshold": "4"],
            environment: [
                "USHER_SIGNUP_REFILL_MS": "2500", "USHER_RESET_MAIL_BURST": "3", "USHER_RESET_MAIL_REFILL_SECONDS": "90",
                "USHER_RESET_QUEUE_CAPACITY": "5", "USHER_MAIL_BATCH_SIZE": "16", "USHER_MAIL_ABANDON_AFTER_HOURS": "2",
                "USHER_ACTIONS_WORKER_MEMORY_MB": "256", "USHER_TICKET_RETENTION_HOURS": "24",
                "USHER_ACCESS_TOKEN_LIFETIME_SECONDS": "600", "USHER_SESSION_LIFETIME_HOURS": "2",
                "USHER_MANAGEMENT_TOKEN_LIFETIME_SECONDS": "3600",
            ],
            configFile: nil)
        #expect(configuration.courier.batchSize == 16 && configuration.courier.abandonAfter == 7_200)
        #expect(configuration.actionsWorkerMemoryLimitBytes == 256 << 20 && configuration.ticketRetentionHours == 24)
        let test = try await TestServer.start(configuration: configuration)
        let services = test.server.services
        #expect(services.signupLimiter.burst == 7 && services.signupLimiter.refill == 2.5)
        #expect(services.passwordResets.mailLimiter.burst == 3 && services.passwordResets.mailLimiter.refill == 90)
        #expect(services.passwordResets.queue.capacity == 5)
        #expect(services.login.bruteForceThreshold == 4)
        #expect(services.login.lifetimes.accessToken == 600 && services.login.lifetimes.session == 7_200)
        #expect(services.machineTokens.tokenLifetime == 3_600)
        await test.stop()
        for (key, value) in [("USHER_SIGNUP_BURST", "0"), ("USHER_RESET_QUEUE_CAPACITY", "many"), ("USHER_BRUTE_FORCE_THRESHOLD", "-1")] {
            #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(flags: [:], environment: [key: value], configFile: nil) }
        }
    }

    /// Without its own keys the per-mailbox reset limit follows the per-request one, as it always has.
    @Test func resetMailLimitFollowsTheChangePasswordLimit() throws {
        let loose = try ConfigurationLoader.load(
            flags: [:], environment: ["USHER_CHANGE_PASSWORD_BURST": "100", "USHER_CHANGE_PASSWORD_REFILL_SECONDS": "10"], configFile: nil)
        #expect(loose.resetMailLimit.burst == 100 && loose.resetMailLimit.refillSeconds == 30)
        let tight = try ConfigurationLoader.load(
            flags: [:], environment: ["USHER_CHANGE_PASSWORD_BURST": "2", "USHER_CHANGE_PASSWORD_REFILL_SECONDS": "600"], configFile: nil)
        #expect(tight.resetMailLimit.burst == 20 && tight.resetMailLimit.refillSeconds == 180)
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
