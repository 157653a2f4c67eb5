import Foundation
import Testing
import UsherCore
import UsherJSON
import UsherStorage
import UsherTesting

@Suite("Storage conformance: templates, tickets, logs, tenant settings")
struct InvitationStorageConformanceTests {
    func ticket(_ hash: String, user: String = "auth0|1", expires: TimeInterval = 3_600, kind: TicketKind = .passwordChange) -> Ticket {
        Ticket(
            tokenHash: hash, kind: kind, userID: user, clientID: "client-1", resultURL: "https://app.example.com/done?x=1", includeEmailInRedirect: false,
            markEmailVerified: true, origin: "email", createdAt: epoch, expiresAt: epoch.addingTimeInterval(expires))
    }

    @Test(arguments: StoreKind.available)
    func ticketRoundTripAndSingleRedemption(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let original = ticket("h1")
            try await store.insertTicket(original)
            #expect(try await store.ticket(tokenHash: "h1") == original)
            #expect(try await store.ticket(tokenHash: "nope") == nil)
            // Expired at exactly expiresAt.
            #expect(try await store.redeemTicket(tokenHash: "h1", now: epoch.addingTimeInterval(3_600)) == false)
            #expect(try await store.redeemTicket(tokenHash: "h1", now: epoch.addingTimeInterval(10)) == true)
            #expect(try await store.redeemTicket(tokenHash: "h1", now: epoch.addingTimeInterval(11)) == false)
            let used = try #require(try await store.ticket(tokenHash: "h1"))
            #expect(used.usedAt != nil && used.problem(at: epoch.addingTimeInterval(12)) == .used)
        }
    }

    @Test(arguments: StoreKind.available)
    func concurrentRedemptionsHaveExactlyOneWinner(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertTicket(ticket("race"))
            let wins = try await winners(of: 50) { try await store.redeemTicket(tokenHash: "race", now: epoch.addingTimeInterval(1)) }
            #expect(wins == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func newerTicketVoidsOlderOnesOfTheSameKind(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertTicket(ticket("old1"))
            try await store.insertTicket(ticket("old2"))
            try await store.insertTicket(ticket("verify", kind: .emailVerification))
            try await store.insertTicket(ticket("other-user", user: "auth0|2"))
            #expect(try await store.redeemTicket(tokenHash: "old2", now: epoch) == true)
            // old2 is used (not voided); old1 is voided; the verification ticket and the other user's are untouched.
            #expect(try await store.voidTickets(userID: "auth0|1", kind: .passwordChange, keeping: "new", now: epoch.addingTimeInterval(5)) == 1)
            #expect(try await store.ticket(tokenHash: "old1")?.problem(at: epoch.addingTimeInterval(6)) == .superseded)
            #expect(try await store.redeemTicket(tokenHash: "old1", now: epoch.addingTimeInterval(6)) == false)
            #expect(try await store.redeemTicket(tokenHash: "verify", now: epoch.addingTimeInterval(6)) == true)
            #expect(try await store.redeemTicket(tokenHash: "other-user", now: epoch.addingTimeInterval(6)) == true)
            #expect(try await store.deleteExpiredTickets(before: epoch.addingTimeInterval(7_200)) == 4)
            #expect(try await store.ticket(tokenHash: "old1") == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func issuingABatchLeavesOneUsableTicketPerUserAndKind(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.insertTicket(ticket("old-1"))
            try await store.insertTicket(ticket("old-2", user: "auth0|2"))
            try await store.insertTicket(ticket("old-verify", kind: .emailVerification))
            try await store.insertTicket(ticket("bystander", user: "auth0|3"))
            let now = epoch.addingTimeInterval(5)
            try await store.issueTickets(
                [
                    ticket("batch-1a"), ticket("batch-2", user: "auth0|2"), ticket("batch-1b"), ticket("batch-verify", kind: .emailVerification),
                ], now: now)
            let later = epoch.addingTimeInterval(6)
            func problem(_ hash: String) async throws -> TicketProblem? {
                try #require(try await store.ticket(tokenHash: hash)).problem(at: later)
            }
            // The last ticket per (user, kind) is usable; everything older for those users and kinds is superseded.
            #expect(try await problem("batch-1b") == nil)
            #expect(try await problem("batch-2") == nil)
            #expect(try await problem("batch-verify") == nil)
            #expect(try await problem("batch-1a") == .superseded)
            #expect(try await problem("old-1") == .superseded)
            #expect(try await problem("old-2") == .superseded)
            #expect(try await problem("old-verify") == .superseded)
            #expect(try await problem("bystander") == nil)
            // The stored tickets keep every field.
            #expect(try await store.ticket(tokenHash: "batch-2") == ticket("batch-2", user: "auth0|2"))
            try await store.issueTickets([], now: now)
        }
    }

    @Test(arguments: StoreKind.available)
    func emailTemplatesRoundTripAndConflict(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var template = EmailTemplate(
                template: "reset_email", body: "<p>{{ url }}</p>", from: "Ana <ana@example.com>", subject: "Hi",
                resultURL: "https://app.example.com/x", urlLifetimeInSeconds: 600, includeEmailInRedirect: false, enabled: true,
                updatedAt: epoch)
            #expect(try await store.emailTemplate(name: "reset_email") == nil)
            try await store.insertEmailTemplate(template)
            #expect(try await store.emailTemplate(name: "reset_email") == template)
            await #expect(throws: UsherError.self) { try await store.insertEmailTemplate(template) }
            template.body = nil
            template.urlLifetimeInSeconds = nil
            template.enabled = false
            try await store.updateEmailTemplate(template)
            #expect(try await store.emailTemplate(name: "reset_email") == template)
            await #expect(throws: UsherError.self) {
                try await store.updateEmailTemplate(EmailTemplate(template: "welcome_email", body: nil, from: nil, subject: nil, updatedAt: epoch))
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func logsFilterPageAndCheckpoint(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var events: [LogEvent] = []
            for i in 0..<12 {
                let date = epoch.addingTimeInterval(Double(i))
                events.append(
                    LogEvent(
                        logID: LogEvent.generateID(now: date), date: date, type: i % 3 == 0 ? .successChangePassword : .failedChangePasswordRequest,
                        description: "event \(i)", ip: "198.51.100.\(i)", userID: i % 2 == 0 ? "auth0|even" : "auth0|odd",
                        userName: "u\(i)@example.com", connection: "db", details: ["n": .int(Int64(i))]))
            }
            try await store.insertLogs(events)
            let all = try await store.logs(LogQuery(limit: 100))
            #expect(all.total == 12 && all.events.first?.description == "event 11")
            #expect(all.events.first == events[11])
            let scp = try await store.logs(LogQuery(conditions: [("type", ["scp"])], limit: 2))
            #expect(scp.total == 4 && scp.events.map(\.description) == ["event 9", "event 6"])
            let both = try await store.logs(LogQuery(conditions: [("type", ["scp", "fcpr"]), ("user_id", ["auth0|even"])], ascending: true, limit: 100))
            #expect(both.total == 6 && both.events.first?.description == "event 0")
            let after = try await store.logs(LogQuery(ascending: true, limit: 3, fromLogID: events[4].logID))
            #expect(after.events.map(\.description) == ["event 5", "event 6", "event 7"])
            #expect(try await store.log(id: events[3].logID) == events[3])
        }
    }

    @Test(arguments: StoreKind.available)
    func tenantSettingsRoundTrip(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.tenantSettings() == TenantSettings())
            try await store.saveTenantSettings(TenantSettings(["friendly_name": "Acme", "change_password": ["enabled": true, "html": "<p>{{ticket}}</p>"]]))
            try await store.saveTenantSettings(TenantSettings(["friendly_name": "Acme 2", "change_password": ["enabled": true, "html": "<p>{{ticket}}</p>"]]))
            let loaded = try await store.tenantSettings()
            #expect(loaded.friendlyName == "Acme 2" && loaded.customResetPage == "<p>{{ticket}}</p>")
        }
    }

    @Test(arguments: StoreKind.available)
    func passwordHistoryKeepsTheNewestTwentyFour(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for i in 0..<30 { try await store.appendPasswordHistory(userID: "auth0|1", hash: "h\(i)", at: epoch.addingTimeInterval(Double(i))) }
            try await store.appendPasswordHistory(userID: "auth0|2", hash: "other", at: epoch)
            #expect(try await store.passwordHistory(userID: "auth0|1", limit: 3) == ["h29", "h28", "h27"])
            #expect(try await store.passwordHistory(userID: "auth0|1", limit: 100).count == 24)
            #expect(try await store.passwordHistory(userID: "auth0|2", limit: 5) == ["other"])
        }
    }
}
