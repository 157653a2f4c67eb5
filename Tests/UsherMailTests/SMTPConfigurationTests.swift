import NIOCore
import Testing

@testable import UsherMail

@Suite struct SMTPConfigurationTests {
    @Test func parsesStartTLSWithCredentials() throws {
        let c = try SMTPConfiguration(url: "smtp://user:pass@mail.example.com:2525?tls=starttls")
        #expect(c.host == "mail.example.com")
        #expect(c.port == 2525)
        #expect(c.tls == .required)
        #expect(c.credentials == .init(username: "user", password: "pass"))
        #expect(c.certificateVerification == .full)
        #expect(c.allowInsecureAuthentication == false)
    }

    @Test func defaults() throws {
        #expect(try SMTPConfiguration(url: "smtp://mail.example.com").port == 587)
        #expect(try SMTPConfiguration(url: "smtp://mail.example.com").tls == .required)
        #expect(try SMTPConfiguration(url: "smtps://mail.example.com").port == 465)
        #expect(try SMTPConfiguration(url: "smtps://mail.example.com").tls == .implicit)
        #expect(try SMTPConfiguration(url: "smtp://localhost?tls=off").port == 25)
        #expect(try SMTPConfiguration(url: "smtp://localhost?tls=off").tls == .off)
        #expect(try SMTPConfiguration(url: "smtp://localhost?tls=opportunistic").tls == .opportunistic)
        #expect(try SMTPConfiguration(url: "smtp://localhost?tls=required").tls == .required)
        #expect(try SMTPConfiguration(url: "smtp://localhost?tls=implicit").port == 465)
        #expect(try SMTPConfiguration(url: "SMTP://localhost/").host == "localhost")
    }

    @Test func percentDecodesCredentials() throws {
        let c = try SMTPConfiguration(url: "smtp://us%40er:p%40ss%20w%3Ard%2F%C3%BC@host")
        #expect(c.credentials?.username == "us@er")
        #expect(c.credentials?.password == "p@ss w:rd/ü")
        let lenient = try SMTPConfiguration(url: "smtp://user:p@ss@host")
        #expect(lenient.credentials?.password == "p@ss")
        #expect(lenient.host == "host")
    }

    @Test func parsesIPv6AndOptions() throws {
        let c = try SMTPConfiguration(
            url:
                "smtp://[::1]:2525?tls=off&auth=login&allow_insecure_auth=true&helo=client.example&pool=8&max_messages_per_connection=50&timeout=5&connect_timeout=2&data_timeout=60&idle_timeout=10"
        )
        #expect(c.host == "::1")
        #expect(c.port == 2525)
        #expect(c.authMechanism == .login)
        #expect(c.allowInsecureAuthentication)
        #expect(c.heloName == "client.example")
        #expect(c.pool.maximumConnections == 8)
        #expect(c.pool.maximumMessagesPerConnection == 50)
        #expect(c.timeouts.command == .seconds(5))
        #expect(c.timeouts.connect == .seconds(2))
        #expect(c.timeouts.dataEnd == .seconds(60))
        #expect(c.pool.idleTimeout == .seconds(10))
        let t = try SMTPConfiguration(url: "smtps://h?tls_verify=none&ca_file=/tmp/ca.pem&tls_server_name=mail.example.com")
        #expect(t.certificateVerification == .none)
        #expect(t.trustedCAFile == "/tmp/ca.pem")
        #expect(t.tlsServerName == "mail.example.com")
    }

    @Test(arguments: [
        ("http://host", "unsupported scheme 'http'"),
        ("host:25", "expected smtp://"),
        ("smtp://", "host is missing"),
        ("smtp://user:pw@", "host is missing"),
        ("smtp://host:0", "invalid port '0'"),
        ("smtp://host:99999", "invalid port '99999'"),
        ("smtp://host:abc", "invalid port 'abc'"),
        ("smtp://host:", "port after ':' is empty"),
        ("smtp://host?tls=ssl3", "unknown tls mode 'ssl3'"),
        ("smtps://host?tls=starttls", "contradicts"),
        ("smtp://host?tsl=off", "unknown option 'tsl'"),
        ("smtp://host?auth=cram-md5", "unknown auth mechanism 'cram-md5'"),
        ("smtp://host?tls_verify=maybe", "unknown tls_verify 'maybe'"),
        ("smtp://host?allow_insecure_auth=perhaps", "must be true or false"),
        ("smtp://host?pool=0", "whole number"),
        ("smtp://host?timeout=-1", "number of seconds"),
        ("smtp://us%zzer:pw@host", "user name has an invalid percent-escape"),
        ("smtp://user:p%4@host", "password has an invalid percent-escape"),
        ("smtp://user:pw@host/path", "unexpected path"),
        ("smtp://:pw@host", "user name before '@' is empty"),
        ("smtp://[::1", "closing ']'"),
        ("smtp://host?tls=off&tls=off", "given twice"),
    ])
    func reportsWhatIsWrong(_ url: String, _ fragment: String) {
        #expect {
            try SMTPConfiguration(url: url)
        } throws: { error in
            guard let error = error as? SMTPConfigurationError else { return false }
            return error.description.contains(fragment)
        }
    }

    @Test func neverShowsThePassword() throws {
        let c = try SMTPConfiguration(url: "smtp://user:hunter2@host")
        #expect(!c.description.contains("hunter2"))
        #expect(!"\(c.credentials!)".contains("hunter2"))
        #expect(c.description.contains("user"))
        do {
            _ = try SMTPConfiguration(url: "ftp://user:hunter2@host")
        } catch {
            #expect(!error.description.contains("hunter2"))
        }
        do {
            _ = try SMTPConfiguration(url: "user:hunter2@host")
            Issue.record("expected an error")
        } catch {
            #expect(!error.description.contains("hunter2"))
        }
    }
}
