import Foundation
import Testing
import UsherCore
import UsherJSON
import UsherTesting

/// A store with one user, one application and the link components on a fake clock.
struct LinkFixture {
    let store = InMemoryUsherStore()
    let clock = FakeClock()
    let links: LinkIssuer
    let redeemer: TicketRedeemer
    let user: User
    let client: Client
    static let allowedURL = "https://app.example.com/after"

    init() async throws {
        let templates = EmailTemplateService(store: store, clock: clock)
        let mail = MailService(store: store, clock: clock, messageIDDomain: "usher.test", usesDevelopmentMailbox: true)
        links = LinkIssuer(store: store, clock: clock, templates: templates, mail: mail, publicURL: "https://usher.test", tenantName: "usher")
        redeemer = TicketRedeemer(store: store, clock: clock)
        user = User(
            userID: "auth0|0001", connection: Connection.defaultDatabaseName, email: "ada@example.com", appMetadata: ["needsInvitation": true],
            createdAt: clock.now, updatedAt: clock.now)
        client = Client(
            clientID: "app1", name: "App", secretHash: nil, allowedLogoutURLs: [Self.allowedURL], grantTypes: [], createdAt: clock.now,
            updatedAt: clock.now)
        try await store.insertUser(user)
        try await store.insertClient(client)
    }

    func template(_ name: String, resultURL: String?, enabled: Bool = true) async throws {
        try await store.insertEmailTemplate(
            EmailTemplate(
                template: name, body: "<p>{{ url }}</p>", from: "a@example.com", subject: "s", resultURL: resultURL,
                enabled: enabled, updatedAt: clock.now))
    }

    func email(_ kind: TicketKind, template: String, client: Client? = nil) -> LinkEmail {
        LinkEmail(kind: kind, user: user, template: template, client: client, purpose: template)
    }

    static func token(in link: String) -> String {
        String(link.split(separator: "ticket=")[1].prefix(40))
    }

    func storedTicket(_ prepared: PreparedLink) async throws -> Ticket? {
        try await store.ticket(tokenHash: SecureRandom.secretHash(Self.token(in: prepared.link)))
    }

    func outboxCount() async throws -> Int {
        try await store.listOutbox(status: nil, offset: 0, limit: 100).total
    }
}
