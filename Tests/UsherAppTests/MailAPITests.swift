import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import UsherApp
import UsherCore
import UsherHTTP
import UsherJSON
import UsherTesting

@Suite("Management API: email provider, outbox; development mailbox")
struct MailAPITests {
    static let provider: JSONValue = [
        "name": "smtp", "enabled": true, "default_from_address": "no-reply@example.com",
        "credentials": ["smtp_host": "smtp.example.com", "smtp_port": 587, "smtp_user": "mailer", "smtp_pass": "hunter2-secret"],
        "settings": ["headers": ["X-SES-Configuration-Set": "usher"]],
    ]

    @Test func providerCRUDFollowsAuth0AndNeverReturnsThePassword() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            expectAuth0Error(
                try await client.call(.get, "/api/v2/emails/provider", token: token), .notFound, messageContains: "Email provider has not been configured.")
            expectAuth0Error(
                try await client.call(.patch, "/api/v2/emails/provider", token: token, json: ["enabled": false]), .notFound,
                messageContains: "Email provider has not been configured.")
            expectAuth0Error(try await client.call(.delete, "/api/v2/emails/provider", token: token), .notFound)

            let created = try await client.call(.post, "/api/v2/emails/provider", token: token, json: Self.provider)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            #expect(created.json["credentials"] == ["smtp_host": "smtp.example.com", "smtp_port": 587, "smtp_user": "mailer"])
            #expect(!String(buffer: created.body).contains("hunter2"))
            expectAuth0Error(
                try await client.call(.post, "/api/v2/emails/provider", token: token, json: Self.provider), .conflict,
                messageContains: "Email provider is already configured.")

            let plain = try await client.call(.get, "/api/v2/emails/provider", token: token)
            #expect(plain.json == ["name": "smtp", "enabled": true])
            let full = try await client.call(.get, "/api/v2/emails/provider?fields=credentials,default_from_address,settings", token: token)
            #expect(full.json["default_from_address"] == "no-reply@example.com")
            #expect(full.json["settings"] == ["headers": ["X-SES-Configuration-Set": "usher"]])
            #expect(full.json["credentials"]?.objectValue?["smtp_user"] == "mailer")
            #expect(!String(buffer: full.body).contains("hunter2") && !String(buffer: full.body).contains("smtp_pass"))

            // Moving to another host needs the password again (Auth0's rule).
            expectAuth0Error(
                try await client.call(.patch, "/api/v2/emails/provider", token: token, json: ["credentials": ["smtp_host": "other.example.com"]]),
                .badRequest, errorCode: "invalid_body")
            let patched = try await client.call(
                .patch, "/api/v2/emails/provider", token: token, json: ["enabled": false, "credentials": ["smtp_port": 465, "smtp_pass": "new-secret"]])
            #expect(patched.status == .ok)
            #expect(patched.json["enabled"] == false && patched.json["credentials"]?.objectValue?["smtp_port"] == 465)
            #expect(!String(buffer: patched.body).contains("new-secret"))
            #expect(try await server.server.store.emailProvider()?.smtpPassword == "new-secret")

            #expect(try await client.call(.delete, "/api/v2/emails/provider", token: token).status == .noContent)
            expectAuth0Error(try await client.call(.delete, "/api/v2/emails/provider", token: token), .notFound)
        }
    }

    @Test func providerValidationAndScopes() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            for body: JSONValue in [
                ["name": "smtp"],
                ["name": "pigeon", "credentials": ["smtp_host": "h", "smtp_port": 25, "smtp_user": "u", "smtp_pass": "p"]],
                ["name": "smtp", "credentials": ["smtp_host": "h", "smtp_port": "25", "smtp_user": "u", "smtp_pass": "p"]],
                ["name": "smtp", "credentials": ["smtp_host": "h", "smtp_port": 70_000, "smtp_user": "u", "smtp_pass": "p"]],
                ["name": "smtp", "credentials": ["smtp_host": "h", "smtp_port": 25, "smtp_user": "u"]],
                ["name": "smtp", "credentials": ["smtp_host": "h", "smtp_port": 25, "smtp_user": "u", "smtp_pass": "p"], "extra": 1],
                [
                    "name": "smtp", "default_from_address": "not an address",
                    "credentials": ["smtp_host": "h", "smtp_port": 25, "smtp_user": "u", "smtp_pass": "p"],
                ],
            ] {
                let response = try await client.call(.post, "/api/v2/emails/provider", token: token, json: body)
                expectAuth0Error(response, .badRequest, errorCode: "invalid_body")
                #expect(!String(buffer: response.body).contains("\"p\""))
            }
            let reader = try await server.token(scopes: ["read:email_provider", "read:email_outbox"], client: client)
            expectAuth0Error(
                try await client.call(.post, "/api/v2/emails/provider", token: reader, json: Self.provider), .forbidden, errorCode: "insufficient_scope")
            expectAuth0Error(try await client.call(.post, "/api/v2/emails/provider/test", token: reader, json: ["to": "a@example.com"]), .forbidden)
            expectAuth0Error(try await client.call(.post, "/api/v2/emails/outbox/x/retry", token: reader), .forbidden)
            #expect(try await client.call(.get, "/api/v2/emails/outbox", token: reader).status == .ok)
        }
    }

    @Test func testEmailOutboxListingAndRetry() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            expectAuth0Error(try await client.call(.post, "/api/v2/emails/provider/test", token: token, json: ["to": "bad"]), .badRequest)
            let queued = try await client.call(.post, "/api/v2/emails/provider/test", token: token, json: ["to": "ada@example.com"])
            #expect(queued.status == .accepted, "\(String(buffer: queued.body))")
            let id = try #require(queued.json["id"]?.stringValue)
            #expect(queued.json["status"] == "queued" && queued.json["to"] == "ada@example.com" && queued.json["purpose"] == "test_email")
            #expect(queued.json["message_id"]?.stringValue?.hasSuffix("@id.example.test>") == true)

            let list = try await client.call(.get, "/api/v2/emails/outbox?status=queued&include_totals=true", token: token)
            #expect(list.json["total"] == 1)
            #expect(list.json["messages"]?.jsonString.contains(id) == true)
            #expect(try await client.call(.get, "/api/v2/emails/outbox?status=failed", token: token).jsonValue == .array([]))
            expectAuth0Error(try await client.call(.get, "/api/v2/emails/outbox?status=lost", token: token), .badRequest, errorCode: "invalid_query_string")
            expectAuth0Error(try await client.call(.get, "/api/v2/emails/outbox?per_page=1000", token: token), .badRequest)

            let one = try await client.call(.get, "/api/v2/emails/outbox/\(id)", token: token)
            #expect(one.json["subject"]?.stringValue?.contains("Grüße") == true && one.json["html"]?.stringValue?.contains("<h1>") == true)
            expectAuth0Error(try await client.call(.get, "/api/v2/emails/outbox/msg_nope", token: token), .notFound)
            expectAuth0Error(try await client.call(.post, "/api/v2/emails/outbox/\(id)/retry", token: token), .conflict)  // still queued

            // A worker abandons it; an operator retries it.
            let store = server.server.store
            let now = server.clock.now
            _ = try await store.claimOutbox(worker: "w", now: now.addingTimeInterval(1), leaseUntil: now.addingTimeInterval(60), limit: 10)
            _ = try await store.markOutboxAbandoned(id: id, worker: "w", error: "550 5.1.1 <ada@example.com>: user unknown")
            let abandoned = try await client.call(.get, "/api/v2/emails/outbox?status=abandoned", token: token)
            #expect(abandoned.jsonValue?.jsonString.contains("550 5.1.1") == true)
            let retried = try await client.call(.post, "/api/v2/emails/outbox/\(id)/retry", token: token)
            #expect(retried.status == .ok && retried.json["status"] == "queued" && retried.json["attempts"] == 0)
        }
    }

    @Test func developmentMailboxPagesEscapeEverything() async throws {
        try await TestServer.run { server, client in
            let hostile = DevMailboxMessage(
                id: "dev_1", outboxID: "msg_1", to: "<script>alert(1)</script>@example.com", from: "a\"b@example.com", replyTo: nil,
                subject: "Hi <img src=x onerror=alert(2)> & bye", html: "<p onclick=\"x()\">Hello</p><script>alert(3)</script>\" onload=\"alert(4)",
                text: "Plain <b>text</b>", messageID: "<m@x>", receivedAt: server.clock.now)
            try await server.server.store.insertDevMail(hostile)

            let list = try await client.execute(uri: "/dev/mail", method: .get)
            let listHTML = String(buffer: list.body)
            #expect(list.status == .ok)
            #expect(list.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(!listHTML.contains("<script>") && !listHTML.contains("<img"))
            #expect(listHTML.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && listHTML.contains("Hi &lt;img src=x onerror=alert(2)&gt; &amp; bye"))
            #expect(listHTML.contains("href=\"/dev/mail/dev_1\""))

            let page = try await client.execute(uri: "/dev/mail/dev_1", method: .get)
            let html = String(buffer: page.body)
            #expect(page.status == .ok)
            // HTTPTypes is not imported here; the headers' description names each field and value.
            let headers = "\(page.headers)"
            #expect(headers.contains("Content-Security-Policy") && headers.contains("default-src 'none'") && !headers.contains("script-src"))
            #expect(html.contains("<iframe sandbox=\"\""))
            #expect(
                html.contains("srcdoc=\"&lt;p onclick=&quot;x()&quot;&gt;Hello&lt;/p&gt;&lt;script&gt;alert(3)&lt;/script&gt;&quot; onload=&quot;alert(4)\""))
            #expect(!html.contains("<script") && !html.contains("<p onclick"))
            #expect(html.contains("Plain &lt;b&gt;text&lt;/b&gt;") && html.contains("a&quot;b@example.com"))

            #expect(try await client.execute(uri: "/dev/mail/nope", method: .get).status == .notFound)
        }
    }
}

@Suite("Configuration: mail")
struct MailConfigurationTests {
    @Test func mailKeysAreReadAndValidated() throws {
        let config = try ConfigurationLoader.load(
            flags: ["smtp_url": "smtp://u:pw@mail.example.com:2525?tls=starttls"],
            environment: [
                "USHER_ENVIRONMENT": "production", "USHER_MAIL_POLL_INTERVAL_MS": "100", "USHER_MAIL_BACKOFF_BASE_MS": "250",
                "USHER_MAIL_LEASE_MS": "3000", "USHER_MAIL_MAX_ATTEMPTS": "3", "USHER_MAIL_FROM": "robot@example.com",
            ], configFile: nil)
        #expect(config.smtpURL == "smtp://u:pw@mail.example.com:2525?tls=starttls")
        #expect(config.environment == .production)
        #expect(config.courier.pollInterval == .milliseconds(100))
        #expect(config.courier.backoffBase == 0.25 && config.courier.leaseDuration == 3 && config.courier.maxAttempts == 3)
        #expect(config.mailFrom == "robot@example.com")
        #expect(try ConfigurationLoader.load(flags: [:], environment: [:], configFile: nil).environment == .development)

        do {
            _ = try ConfigurationLoader.load(flags: [:], environment: ["USHER_SMTP_URL": "smtp://u:very-secret@host:2525?tls=bogus"], configFile: nil)
            Issue.record("a bad SMTP URL was accepted")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("USHER_SMTP_URL") && !error.description.contains("very-secret"))
        }
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(flags: [:], environment: ["USHER_ENVIRONMENT": "staging"], configFile: nil) }
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(flags: [:], environment: ["USHER_MAIL_LEASE_MS": "5"], configFile: nil) }
    }

    /// (Production without a provider is refused; the e2e suite checks that on the real binary.)
    @Test func developmentBuildsACourierWithoutProvider() async throws {
        let test = try await TestServer.start()
        let built = Result { try test.server.makeCourier() }
        await test.stop()
        _ = try built.get()
    }
}
