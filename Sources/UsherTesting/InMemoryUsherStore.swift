import Foundation
import Synchronization
import UsherCore
import UsherJSON

/// `UsherStore` in memory, with the same uniqueness rules as the SQL schema.
public final class InMemoryUsherStore: UsherStore {
    private struct State {
        var users: [String: User] = [:]
        var clients: [String: Client] = [:]
        var grants: [String: ClientGrant] = [:]
        var connections: [String: Connection] = [:]
        var keys: [SigningKeyRecord] = []
        var outbox: [String: OutboxMessage] = [:]
        var devMail: [DevMailboxMessage] = []
        var provider: EmailProvider?
        var templates: [String: EmailTemplate] = [:]
        var tickets: [String: Ticket] = [:]
        var logs: [LogEvent] = []
        var tenant = TenantSettings()
        var history: [String: [String]] = [:]
        var sessions: [String: LoginSession] = [:]
        var codes: [String: AuthorizationCode] = [:]
        var refreshTokens: [String: RefreshTokenRecord] = [:]
        var failures: [String: (count: Int, last: Date)] = [:]
        var actions: [String: Action] = [:]
        var actionVersions: [String: ActionVersion] = [:]
        var bindings: [String: [TriggerBinding]] = [:]
        var intake: [String: (request: IntakeRequest, owner: String?, leaseEnd: Date)] = [:]
        var invitations: [String: Invitation] = [:]
        var roles: [String: Role] = [:]
        /// user id → role ids
        var userRoles: [String: Set<String>] = [:]
        /// prompt → language → screens
        var promptTexts: [String: [String: JSONObject]] = [:]
        var admins: [String: AdminAccount] = [:]

        /// `invitation` with its latest email's delivery state, as the SQL stores join it.
        func withDelivery(_ invitation: Invitation) -> Invitation {
            var invitation = invitation
            invitation.delivery = invitation.outboxID.flatMap { outbox[$0] }.map {
                InvitationDelivery(
                    outboxID: $0.id, state: InvitationDelivery.State($0.status), attempts: $0.attempts, lastError: $0.lastError, sentAt: $0.sentAt)
            }
            return invitation
        }
    }

    private let state = Mutex(State())
    private let transactions = Mutex(0)

    public init() {}

    /// Transactions begun so far: lets tests check that a batch writes in one, as the SQL stores' speed relies on.
    public var transactionCount: Int { transactions.withLock { $0 } }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any UsherStore) async throws -> T) async throws -> T {
        transactions.withLock { $0 += 1 }
        // Snapshot and restore on failure: enough atomicity for single-task domain tests.
        let snapshot = state.withLock { $0 }
        do { return try await body(self) } catch {
            state.withLock { $0 = snapshot }
            throw error
        }
    }

    public func ping() async throws {}

    // MARK: users
    public func insertUser(_ user: User) async throws {
        try state.withLock { s throws(UsherError) in
            if s.users[user.userID] != nil { throw UsherError.userExists }
            if s.users.values.contains(where: { $0.connection == user.connection && $0.email == user.email && user.email != nil }) {
                throw UsherError.userExists
            }
            s.users[user.userID] = user
        }
    }
    public func user(id: String) async throws -> User? { state.withLock { $0.users[id] } }
    public func users(email: String) async throws -> [User] {
        state.withLock { $0.users.values.filter { $0.email == email }.sorted { $0.createdAt < $1.createdAt } }
    }
    public func user(connection: String, email: String) async throws -> User? {
        state.withLock { $0.users.values.first { $0.connection == connection && $0.email == email } }
    }
    public func updateUser(_ user: User) async throws {
        try state.withLock { s throws(UsherError) in
            guard s.users[user.userID] != nil else { throw UsherError.userNotFound }
            if s.users.values.contains(where: { $0.userID != user.userID && $0.connection == user.connection && $0.email == user.email }) {
                throw UsherError(.invalidInput, "The specified new email already exists", errorCode: "email_exists")
            }
            s.users[user.userID] = user
        }
    }
    public func deleteUser(id: String) async throws -> Bool {
        state.withLock { s in
            s.userRoles[id] = nil
            return s.users.removeValue(forKey: id) != nil
        }
    }
    public func listUsers(_ page: UserPageRequest) async throws -> (users: [User], total: Int) {
        let all = state.withLock { Array($0.users.values) }
            .sorted { UserService.ordered($0, $1, by: page.sortField, ascending: page.ascending) }
        let slice = page.offset < all.count ? Array(all[page.offset..<min(all.count, page.offset + page.limit)]) : []
        return (slice, all.count)
    }
    public func allUsers() async throws -> [User] {
        state.withLock { $0.users.values.sorted { ($0.createdAt, $0.userID) < ($1.createdAt, $1.userID) } }
    }

    // MARK: clients
    public func insertClient(_ client: Client) async throws {
        try state.withLock { s throws(UsherError) in
            if s.clients[client.clientID] != nil { throw UsherError(.conflict, "A client with this id already exists") }
            s.clients[client.clientID] = client
        }
    }
    public func client(id: String) async throws -> Client? { state.withLock { $0.clients[id] } }
    public func updateClient(_ client: Client) async throws {
        try state.withLock { s throws(UsherError) in
            guard s.clients[client.clientID] != nil else { throw UsherError.clientNotFound }
            s.clients[client.clientID] = client
        }
    }
    public func deleteClient(id: String) async throws -> Bool { state.withLock { $0.clients.removeValue(forKey: id) != nil } }
    public func listClients() async throws -> [Client] {
        state.withLock { $0.clients.values.sorted { ($0.createdAt, $0.clientID) < ($1.createdAt, $1.clientID) } }
    }
    public func insertClientGrant(_ grant: ClientGrant) async throws {
        try state.withLock { s throws(UsherError) in
            if s.grants.values.contains(where: { $0.clientID == grant.clientID && $0.audience == grant.audience }) {
                throw UsherError(.conflict, "A client grant for this client and audience already exists")
            }
            s.grants[grant.id] = grant
        }
    }
    public func clientGrants(clientID: String?) async throws -> [ClientGrant] {
        state.withLock { $0.grants.values.filter { clientID == nil || $0.clientID == clientID }.sorted { $0.id < $1.id } }
    }
    public func clientGrant(clientID: String, audience: String) async throws -> ClientGrant? {
        state.withLock { $0.grants.values.first { $0.clientID == clientID && $0.audience == audience } }
    }
    public func updateClientGrant(_ grant: ClientGrant) async throws { state.withLock { $0.grants[grant.id] = grant } }
    public func deleteClientGrant(id: String) async throws -> Bool { state.withLock { $0.grants.removeValue(forKey: id) != nil } }

    // MARK: connections
    public func insertConnection(_ connection: Connection) async throws {
        try state.withLock { s throws(UsherError) in
            if s.connections.values.contains(where: { $0.name == connection.name }) {
                throw UsherError(.conflict, "A connection with the same name already exists")
            }
            s.connections[connection.id] = connection
        }
    }
    public func connection(id: String) async throws -> Connection? { state.withLock { $0.connections[id] } }
    public func connection(name: String) async throws -> Connection? { state.withLock { $0.connections.values.first { $0.name == name } } }
    public func updateConnection(_ connection: Connection) async throws {
        try state.withLock { s throws(UsherError) in
            guard s.connections[connection.id] != nil else { throw UsherError.connectionNotFound }
            s.connections[connection.id] = connection
        }
    }
    public func listConnections() async throws -> [Connection] {
        state.withLock { $0.connections.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }

    // MARK: keys
    public func signingKeys() async throws -> [SigningKeyRecord] { state.withLock { $0.keys } }
    public func insertSigningKey(_ key: SigningKeyRecord) async throws { state.withLock { $0.keys.append(key) } }

    // MARK: roles

    public func insertRole(_ role: Role) async throws {
        try state.withLock { s throws(UsherError) in
            if s.roles.values.contains(where: { $0.name == role.name }) || s.roles[role.id] != nil {
                throw UsherError.roleNameTaken
            }
            s.roles[role.id] = role
        }
    }

    public func role(id: String) async throws -> Role? { state.withLock { $0.roles[id] } }

    public func roles(ids: [String]) async throws -> [Role] { state.withLock { s in Set(ids).compactMap { s.roles[$0] } } }

    public func updateRole(_ role: Role) async throws {
        try state.withLock { s throws(UsherError) in
            guard s.roles[role.id] != nil else { throw UsherError.roleNotFound }
            if s.roles.values.contains(where: { $0.name == role.name && $0.id != role.id }) {
                throw UsherError.roleNameTaken
            }
            s.roles[role.id] = role
        }
    }

    public func deleteRole(id: String) async throws -> Bool {
        state.withLock { s in
            for user in s.userRoles.keys { s.userRoles[user]?.remove(id) }
            return s.roles.removeValue(forKey: id) != nil
        }
    }

    public func listRoles(nameFilter: String?, offset: Int, limit: Int) async throws -> (roles: [Role], total: Int) {
        state.withLock { s in
            let matching = s.roles.values.filter { role in nameFilter.map { $0.isEmpty || role.name.lowercased().contains($0.lowercased()) } ?? true }
                .sorted { ($0.name, $0.id) < ($1.name, $1.id) }
            let start = min(max(0, offset), matching.count)
            return (Array(matching[start..<min(matching.count, start + max(0, min(limit, matching.count)))]), matching.count)
        }
    }

    public func userRoles(userID: String) async throws -> [Role] {
        state.withLock { s in (s.userRoles[userID] ?? []).compactMap { s.roles[$0] }.sorted { $0.name < $1.name } }
    }

    public func assignRoles(userID: String, roleIDs: [String]) async throws {
        state.withLock { s in s.userRoles[userID, default: []].formUnion(roleIDs) }
    }

    public func removeRoles(userID: String, roleIDs: [String]) async throws {
        state.withLock { s in s.userRoles[userID]?.subtract(roleIDs) }
    }

    public func roleUserIDs(roleID: String, offset: Int, limit: Int) async throws -> (userIDs: [String], total: Int) {
        state.withLock { s in
            let holders = s.userRoles.filter { $0.value.contains(roleID) }.keys.sorted()
            let start = min(max(0, offset), holders.count)
            return (Array(holders[start..<min(holders.count, start + max(0, min(limit, holders.count)))]), holders.count)
        }
    }

    // MARK: invitations

    public func insertInvitation(_ invitation: Invitation) async throws {
        try state.withLock { s throws(UsherError) in
            if s.invitations[invitation.id] != nil { throw UsherError(.conflict, "The invitation already exists.", errorCode: "invitation_exists") }
            var stored = invitation
            stored.delivery = nil
            s.invitations[invitation.id] = stored
        }
    }

    public func invitation(id: String) async throws -> Invitation? {
        state.withLock { s in s.invitations[id].map(s.withDelivery) }
    }

    public func openInvitation(userID: String) async throws -> Invitation? {
        state.withLock { s in
            s.invitations.values.filter { $0.userID == userID && $0.storedStatus == .pending }.max { $0.createdAt < $1.createdAt }
                .map(s.withDelivery)
        }
    }

    public func updateInvitation(_ invitation: Invitation) async throws {
        try state.withLock { s throws(UsherError) in
            guard s.invitations[invitation.id] != nil else { throw UsherError.invitationNotFound }
            var stored = invitation
            stored.delivery = nil
            s.invitations[invitation.id] = stored
        }
    }

    public func deleteInvitation(id: String) async throws -> Bool {
        state.withLock { s in s.invitations.removeValue(forKey: id) != nil }
    }

    public func invitationPage(_ filter: InvitationFilter, now: Date, offset: Int, limit: Int) async throws -> [Invitation] {
        let matching = matchingInvitations(filter, now: now)
        let start = min(max(0, offset), matching.count)
        return Array(matching[start..<min(matching.count, start + max(0, min(limit, matching.count)))])
    }

    public func countInvitations(_ filter: InvitationFilter, now: Date) async throws -> Int { matchingInvitations(filter, now: now).count }

    private func matchingInvitations(_ filter: InvitationFilter, now: Date) -> [Invitation] {
        state.withLock { s in
            s.invitations.values.map(s.withDelivery).filter { i in
                (filter.status.map { i.status(at: now) == $0 } ?? true)
                    && (filter.delivery.map { i.delivery?.state == $0 } ?? true)
                    && (filter.emailPrefix.map { i.email.hasPrefix($0.lowercased()) } ?? true)
                    && (filter.createdFrom.map { i.createdAt >= $0 } ?? true) && (filter.createdTo.map { i.createdAt < $0 } ?? true)
                    && (filter.clientID.map { i.clientID == $0 } ?? true) && (filter.userID.map { i.userID == $0 } ?? true)
            }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        }
    }

    public func claimInvitationReminders(now: Date, window: TimeInterval, limit: Int) async throws -> [Invitation] {
        state.withLock { s in
            let due = s.invitations.values.filter {
                $0.storedStatus == .pending && $0.sendInvitationEmail && $0.remindedAt == nil && $0.expiresAt > now
                    && $0.expiresAt <= now.addingTimeInterval(window)
            }.sorted { ($0.expiresAt, $0.id) < ($1.expiresAt, $1.id) }.prefix(max(0, limit))
            for invitation in due { s.invitations[invitation.id]?.remindedAt = now }
            return due.map(\.id).sorted().compactMap { s.invitations[$0].map(s.withDelivery) }
        }
    }

    public func claimLapsedInvitations(now: Date, limit: Int) async throws -> [Invitation] {
        state.withLock { s in
            let lapsed = s.invitations.values.filter { $0.storedStatus == .pending && $0.expiryLoggedAt == nil && $0.expiresAt <= now }
                .sorted { ($0.expiresAt, $0.id) < ($1.expiresAt, $1.id) }.prefix(max(0, limit))
            for invitation in lapsed { s.invitations[invitation.id]?.expiryLoggedAt = now }
            return lapsed.map(\.id).sorted().compactMap { s.invitations[$0].map(s.withDelivery) }
        }
    }

    public func acceptInvitations(userID: String, at: Date) async throws -> [String] {
        state.withLock { s in
            var accepted: [String] = []
            for (id, invitation) in s.invitations
            where invitation.userID == userID && invitation.storedStatus == .pending && invitation.expiresAt > at {
                s.invitations[id]?.storedStatus = .accepted
                s.invitations[id]?.acceptedAt = at
                accepted.append(id)
            }
            return accepted.sorted()
        }
    }

    // MARK: intake
    public func insertIntake(_ requests: [IntakeRequest], worker: String?, leaseUntil: Date) async throws {
        state.withLock { s in
            for request in requests { s.intake[request.id] = (request, worker, worker == nil ? .distantPast : leaseUntil) }
        }
    }
    public func claimIntake(kind: IntakeKind, worker: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [IntakeRequest] {
        state.withLock { s in
            let due = s.intake.values.filter { $0.request.kind == kind && $0.leaseEnd <= now }
                .sorted { ($0.request.receivedAt, $0.request.id) < ($1.request.receivedAt, $1.request.id) }.prefix(max(0, limit))
            for row in due { s.intake[row.request.id] = (row.request, worker, leaseUntil) }
            return due.map(\.request)
        }
    }
    public func completeIntake(ids: [String], worker: String) async throws -> Set<String> {
        state.withLock { s in
            var completed = Set<String>()
            for id in ids where s.intake[id]?.owner == worker {
                s.intake[id] = nil
                completed.insert(id)
            }
            return completed
        }
    }
    public func intakeCount(kind: IntakeKind) async throws -> Int {
        state.withLock { s in s.intake.values.count { $0.request.kind == kind } }
    }

    // MARK: outbox (one lock around each call: claims are atomic, as on the databases)
    public func enqueueOutbox(_ message: OutboxMessage) async throws {
        try state.withLock { s throws(UsherError) in
            if s.outbox[message.id] != nil { throw UsherError(.conflict, "An outbox message with this id already exists") }
            s.outbox[message.id] = message
        }
    }
    public func claimOutbox(worker: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [OutboxMessage] {
        state.withLock { s in
            let due = s.outbox.values.filter { ($0.status == .queued || $0.status == .failed) && $0.nextAttemptAt <= now }
                .sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }.prefix(max(0, limit))
            return due.map { message in
                var claimed = message
                claimed.status = .sending
                claimed.leaseOwner = worker
                claimed.leaseExpiresAt = leaseUntil
                claimed.attempts += 1
                s.outbox[claimed.id] = claimed
                return claimed
            }
        }
    }
    private func updateLeased(id: String, worker: String, _ change: (inout OutboxMessage) -> Void) -> Bool {
        state.withLock { s in
            guard var message = s.outbox[id], message.status == .sending, message.leaseOwner == worker else { return false }
            change(&message)
            message.leaseOwner = nil
            message.leaseExpiresAt = nil
            s.outbox[id] = message
            return true
        }
    }
    public func markOutboxSent(id: String, worker: String, at: Date) async throws -> Bool {
        updateLeased(id: id, worker: worker) {
            $0.status = .sent
            $0.sentAt = at
            $0.lastError = nil
            $0.redactBodies()
        }
    }
    public func markOutboxFailed(id: String, worker: String, error: String, nextAttemptAt: Date, countAttempt: Bool) async throws -> Bool {
        updateLeased(id: id, worker: worker) {
            $0.status = .failed
            $0.lastError = String(error.prefix(2_000))
            $0.nextAttemptAt = nextAttemptAt
            if !countAttempt { $0.attempts -= 1 }
        }
    }
    public func markOutboxAbandoned(id: String, worker: String, error: String) async throws -> Bool {
        updateLeased(id: id, worker: worker) {
            $0.status = .abandoned
            $0.lastError = String(error.prefix(2_000))
            $0.redactBodies()
        }
    }
    public func withdrawOutbox(id: String, reason: String) async throws -> Bool {
        state.withLock { s in
            guard var message = s.outbox[id], [.queued, .failed].contains(message.status) else { return false }
            message.status = .abandoned
            message.lastError = String(reason.prefix(2_000))
            message.redactBodies()
            s.outbox[id] = message
            return true
        }
    }
    public func renewOutboxLeases(worker: String, until: Date) async throws -> Int {
        state.withLock { s in
            var count = 0
            for (id, message) in s.outbox where message.status == .sending && message.leaseOwner == worker {
                s.outbox[id]?.leaseExpiresAt = until
                count += 1
            }
            return count
        }
    }
    public func releaseExpiredOutboxLeases(now: Date) async throws -> Int {
        state.withLock { s in
            var count = 0
            for (id, var message) in s.outbox where message.status == .sending && (message.leaseExpiresAt ?? now) <= now {
                message.status = .queued
                message.leaseOwner = nil
                message.leaseExpiresAt = nil
                message.nextAttemptAt = now
                message.lastError = "the worker sending this message stopped before recording the outcome; it may have been delivered"
                s.outbox[id] = message
                count += 1
            }
            return count
        }
    }
    public func listOutbox(_ filter: OutboxFilter, offset: Int, limit: Int) async throws -> (messages: [OutboxMessage], total: Int) {
        let all = state.withLock { s in
            s.outbox.values.filter { (filter.status == nil || $0.status == filter.status) && (filter.userID == nil || $0.userID == filter.userID) }.sorted {
                ($0.createdAt, $0.id) > ($1.createdAt, $1.id)
            }
        }
        let page = offset < all.count ? Array(all[offset..<min(all.count, offset + max(0, limit))]) : []
        return (page, all.count)
    }
    public func outboxMessage(id: String) async throws -> OutboxMessage? { state.withLock { $0.outbox[id] } }
    public func retryOutbox(id: String, now: Date) async throws -> OutboxMessage? {
        try state.withLock { s throws(UsherError) -> OutboxMessage? in
            guard var message = s.outbox[id] else { return nil }
            if message.bodyRedacted { throw UsherError.outboxBodyRedacted }
            guard message.status == .failed || message.status == .abandoned else {
                throw UsherError(
                    .conflict, "Only failed or abandoned messages can be retried; this one is \(message.status.rawValue).", errorCode: "invalid_status")
            }
            message.status = .queued
            message.attempts = 0
            message.nextAttemptAt = now
            s.outbox[id] = message
            return message
        }
    }

    // MARK: development mailbox
    public func insertDevMail(_ message: DevMailboxMessage) async throws { state.withLock { $0.devMail.append(message) } }
    public func devMails(limit: Int) async throws -> [DevMailboxMessage] {
        state.withLock { Array($0.devMail.sorted { ($0.receivedAt, $0.id) > ($1.receivedAt, $1.id) }.prefix(max(0, limit))) }
    }
    public func devMail(id: String) async throws -> DevMailboxMessage? { state.withLock { $0.devMail.first { $0.id == id } } }

    // MARK: email provider
    public func emailProvider() async throws -> EmailProvider? { state.withLock { $0.provider } }
    public func insertEmailProvider(_ provider: EmailProvider) async throws {
        try state.withLock { s throws(UsherError) in
            if s.provider != nil { throw UsherError.emailProviderExists }
            s.provider = provider
        }
    }
    public func updateEmailProvider(_ provider: EmailProvider) async throws {
        try state.withLock { s throws(UsherError) in
            guard s.provider != nil else { throw UsherError.emailProviderNotFound }
            s.provider = provider
        }
    }
    public func deleteEmailProvider() async throws -> Bool {
        state.withLock { s in
            defer { s.provider = nil }
            return s.provider != nil
        }
    }

    // MARK: email templates
    public func emailTemplate(name: String) async throws -> EmailTemplate? { state.withLock { $0.templates[name] } }
    public func insertEmailTemplate(_ template: EmailTemplate) async throws {
        try state.withLock { s throws(UsherError) in
            if s.templates[template.template] != nil { throw UsherError(.conflict, "Template (\(template.template)) already exists.") }
            s.templates[template.template] = template
        }
    }
    public func updateEmailTemplate(_ template: EmailTemplate) async throws {
        try state.withLock { s throws(UsherError) in
            guard s.templates[template.template] != nil else { throw UsherError(.notFound, "Template not found.") }
            s.templates[template.template] = template
        }
    }

    // MARK: hosted-page texts
    public func promptCustomTexts(prompt: String) async throws -> [String: JSONObject] { state.withLock { $0.promptTexts[prompt] ?? [:] } }
    public func savePromptCustomText(prompt: String, language: String, body: JSONObject) async throws {
        state.withLock { $0.promptTexts[prompt, default: [:]][language] = body.isEmpty ? nil : body }
    }

    // MARK: administrators
    public func insertAdmin(_ admin: AdminAccount) async throws {
        try state.withLock { s throws(UsherError) in
            guard !s.admins.values.contains(where: { $0.email == admin.email.lowercased() }) else { throw UsherError.adminExists }
            var stored = admin
            stored.email = admin.email.lowercased()
            s.admins[admin.id] = stored
        }
    }
    public func admin(id: String) async throws -> AdminAccount? { state.withLock { $0.admins[id] } }
    public func admin(email: String) async throws -> AdminAccount? { state.withLock { $0.admins.values.first { $0.email == email.lowercased() } } }
    public func listAdmins() async throws -> [AdminAccount] {
        state.withLock { $0.admins.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }
    public func updateAdmin(_ admin: AdminAccount) async throws {
        try state.withLock { s throws(UsherError) in
            guard !s.admins.values.contains(where: { $0.email == admin.email.lowercased() && $0.id != admin.id }) else { throw UsherError.adminExists }
            s.admins[admin.id] = admin
        }
    }

    // MARK: tickets
    public func insertTicket(_ ticket: Ticket) async throws { state.withLock { $0.tickets[ticket.tokenHash] = ticket } }
    public func ticket(tokenHash: String) async throws -> Ticket? { state.withLock { $0.tickets[tokenHash] } }
    public func redeemTicket(tokenHash: String, now: Date) async throws -> Bool {
        state.withLock { s in
            guard var ticket = s.tickets[tokenHash], ticket.problem(at: now) == nil else { return false }
            ticket.usedAt = now
            s.tickets[tokenHash] = ticket
            return true
        }
    }
    public func voidTickets(userID: String, kind: TicketKind, keeping: String?, now: Date) async throws -> Int {
        state.withLock { s in
            var count = 0
            for (hash, var ticket) in s.tickets
            where ticket.userID == userID && ticket.kind == kind && hash != keeping && ticket.usedAt == nil && ticket.voidedAt == nil {
                ticket.voidedAt = now
                s.tickets[hash] = ticket
                count += 1
            }
            return count
        }
    }
    public func deleteExpiredTickets(before: Date) async throws -> Int {
        state.withLock { s in
            let expired = s.tickets.filter { $0.value.expiresAt < before }.map(\.key)
            for key in expired { s.tickets[key] = nil }
            return expired.count
        }
    }

    // MARK: logs
    public func insertLogs(_ events: [LogEvent]) async throws { state.withLock { $0.logs.append(contentsOf: events) } }
    public func logs(_ query: LogQuery) async throws -> (events: [LogEvent], total: Int) {
        state.withLock { s in
            func value(_ e: LogEvent, _ field: String) -> String? {
                switch field {
                case "type": e.type
                case "user_id": e.userID
                case "client_id": e.clientID
                case "ip": e.ip
                case "connection": e.connection
                case "user_name": e.userName
                default: nil
                }
            }
            let matching = s.logs.filter { e in query.conditions.allSatisfy { c in value(e, c.field).map(c.values.contains) ?? false } }
            var page = matching.sorted { query.ascending ? $0.logID < $1.logID : $0.logID > $1.logID }
            if let from = query.fromLogID { page = page.filter { query.ascending ? $0.logID > from : $0.logID < from } }
            return (Array(page.dropFirst(query.offset).prefix(query.limit)), matching.count)
        }
    }
    public func log(id: String) async throws -> LogEvent? { state.withLock { s in s.logs.first { $0.logID == id } } }

    // MARK: tenant settings
    public func tenantSettings() async throws -> TenantSettings { state.withLock { $0.tenant } }
    public func saveTenantSettings(_ settings: TenantSettings) async throws { state.withLock { $0.tenant = settings } }

    // MARK: password history
    public func appendPasswordHistory(userID: String, hash: String, at: Date) async throws {
        state.withLock { s in
            s.history[userID, default: []].insert(hash, at: 0)
            s.history[userID] = Array(s.history[userID]!.prefix(PasswordPolicy.HistorySettings.maxSize))
        }
    }
    public func passwordHistory(userID: String, limit: Int) async throws -> [String] {
        state.withLock { Array(($0.history[userID] ?? []).prefix(limit)) }
    }

    // MARK: login
    public func insertSession(_ session: LoginSession) async throws { state.withLock { $0.sessions[session.idHash] = session } }
    public func session(idHash: String) async throws -> LoginSession? { state.withLock { $0.sessions[idHash] } }
    public func touchSession(idHash: String, at: Date) async throws { state.withLock { $0.sessions[idHash]?.lastSeenAt = at } }
    public func revokeSession(idHash: String, at: Date) async throws {
        state.withLock { s in if s.sessions[idHash]?.revokedAt == nil { s.sessions[idHash]?.revokedAt = at } }
    }
    public func revokeSessions(userID: String, at: Date) async throws -> Int {
        state.withLock { s in
            let ids = s.sessions.values.filter { $0.userID == userID && $0.revokedAt == nil }.map(\.idHash)
            for id in ids { s.sessions[id]?.revokedAt = at }
            return ids.count
        }
    }
    public func insertAuthorizationCode(_ code: AuthorizationCode) async throws { state.withLock { $0.codes[code.codeHash] = code } }
    public func authorizationCode(hash: String) async throws -> AuthorizationCode? { state.withLock { $0.codes[hash] } }
    public func redeemAuthorizationCode(hash: String, now: Date) async throws -> AuthorizationCode? {
        state.withLock { s in
            guard var code = s.codes[hash], code.usedAt == nil, code.expiresAt > now else { return nil }
            code.usedAt = now
            s.codes[hash] = code
            return code
        }
    }
    public func insertRefreshToken(_ token: RefreshTokenRecord) async throws { state.withLock { $0.refreshTokens[token.tokenHash] = token } }
    public func refreshToken(hash: String) async throws -> RefreshTokenRecord? { state.withLock { $0.refreshTokens[hash] } }
    public func rotateRefreshToken(hash: String, now: Date) async throws -> Bool {
        state.withLock { s in
            guard let token = s.refreshTokens[hash], token.rotatedAt == nil, token.revokedAt == nil else { return false }
            s.refreshTokens[hash]?.rotatedAt = now
            return true
        }
    }
    private func revokeRefreshTokens(_ matches: (RefreshTokenRecord) -> Bool, at: Date) -> Int {
        state.withLock { s in
            let hashes = s.refreshTokens.values.filter { matches($0) && $0.revokedAt == nil }.map(\.tokenHash)
            for hash in hashes { s.refreshTokens[hash]?.revokedAt = at }
            return hashes.count
        }
    }
    public func revokeRefreshTokenFamily(familyID: String, at: Date) async throws -> Int { revokeRefreshTokens({ $0.familyID == familyID }, at: at) }
    public func revokeRefreshTokens(userID: String, at: Date) async throws -> Int { revokeRefreshTokens({ $0.userID == userID }, at: at) }
    public func revokeRefreshTokens(codeHash: String, at: Date) async throws -> Int { revokeRefreshTokens({ $0.codeHash == codeHash }, at: at) }
    public func recordLoginFailure(key: String, at: Date, window: TimeInterval) async throws -> Int {
        state.withLock { s in
            let previous = s.failures[key].flatMap { at.timeIntervalSince($0.last) > window ? nil : $0.count } ?? 0
            s.failures[key] = (previous + 1, at)
            return previous + 1
        }
    }
    public func loginFailures(key: String, at: Date, window: TimeInterval) async throws -> Int {
        state.withLock { s in s.failures[key].flatMap { at.timeIntervalSince($0.last) > window ? nil : $0.count } ?? 0 }
    }
    public func clearLoginFailures(key: String) async throws { state.withLock { _ = $0.failures.removeValue(forKey: key) } }
    public func clearLoginFailures(prefix: String) async throws {
        state.withLock { s in for key in s.failures.keys where key.hasPrefix(prefix) { s.failures[key] = nil } }
    }

    // MARK: actions
    private static func nameConflict(_ name: String) -> UsherError {
        UsherError(.conflict, "An action with the name '\(name)' already exists.", errorCode: "action_conflict")
    }
    public func insertAction(_ action: Action) async throws {
        try state.withLock { s throws(UsherError) in
            if s.actions[action.id] != nil || s.actions.values.contains(where: { $0.name == action.name }) { throw Self.nameConflict(action.name) }
            s.actions[action.id] = action
        }
    }
    public func action(id: String) async throws -> Action? { state.withLock { $0.actions[id] } }
    public func action(name: String) async throws -> Action? { state.withLock { $0.actions.values.first { $0.name == name } } }
    public func listActions() async throws -> [Action] {
        state.withLock { $0.actions.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }
    public func updateAction(_ action: Action) async throws {
        try state.withLock { s throws(UsherError) in
            guard s.actions[action.id] != nil else { throw ActionService.actionNotFound }
            if s.actions.values.contains(where: { $0.id != action.id && $0.name == action.name }) { throw Self.nameConflict(action.name) }
            s.actions[action.id] = action
        }
    }
    public func deleteAction(id: String) async throws -> Bool {
        state.withLock { s in
            for trigger in s.bindings.keys { s.bindings[trigger]?.removeAll { $0.actionID == id } }
            s.actionVersions = s.actionVersions.filter { $0.value.actionID != id }
            return s.actions.removeValue(forKey: id) != nil
        }
    }
    public func deployAction(id: String, versionID: String, at: Date) async throws -> ActionVersion? {
        state.withLock { s in
            guard var draft = s.actions[id] else { return nil }
            let number = (s.actionVersions.values.filter { $0.actionID == id }.map(\.number).max() ?? 0) + 1
            let version = ActionVersion(
                id: versionID, actionID: id, number: number, code: draft.code, dependencies: draft.dependencies, runtime: draft.runtime,
                secrets: draft.secrets, supportedTriggers: draft.supportedTriggers, createdAt: at)
            s.actionVersions[versionID] = version
            draft.deployedVersionID = versionID
            draft.allChangesDeployed = true
            s.actions[id] = draft
            return version
        }
    }
    public func actionVersions(actionID: String) async throws -> [ActionVersion] {
        state.withLock { $0.actionVersions.values.filter { $0.actionID == actionID }.sorted { $0.number > $1.number } }
    }
    public func actionVersion(id: String) async throws -> ActionVersion? { state.withLock { $0.actionVersions[id] } }
    public func triggerBindings(triggerID: String) async throws -> [TriggerBinding] { state.withLock { $0.bindings[triggerID] ?? [] } }
    public func replaceTriggerBindings(triggerID: String, with bindings: [TriggerBinding]) async throws {
        state.withLock { $0.bindings[triggerID] = bindings }
    }
    public func boundActionVersions(triggerID: String) async throws -> [BoundActionVersion] {
        state.withLock { s in
            (s.bindings[triggerID] ?? []).compactMap { binding in
                guard let action = s.actions[binding.actionID], let versionID = action.deployedVersionID,
                    let version = s.actionVersions[versionID]
                else { return nil }
                return BoundActionVersion(binding: binding, actionName: action.name, version: version)
            }
        }
    }
}
