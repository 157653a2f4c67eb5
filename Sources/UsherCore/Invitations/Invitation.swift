import Foundation
import UsherJSON

/// Where an invitation stands. Only `pending`, `accepted` and `revoked` are stored; `expired` is read from the
/// clock (a pending invitation past `expiresAt`), so no sweeper is needed for the answer to be right.
public enum InvitationStatus: String, Sendable, CaseIterable, Equatable {
    case pending, accepted, expired, revoked
}

/// The delivery state of an invitation's latest email, read from its outbox message.
public struct InvitationDelivery: Sendable, Equatable {
    /// `queued | sent | deferred | abandoned`: the outbox's `sending` reads as queued, `failed` (to be retried) as
    /// deferred.
    public enum State: String, Sendable, CaseIterable, Equatable {
        case queued, sent, deferred, abandoned

        public init(_ status: OutboxStatus) {
            switch status {
            case .queued, .sending: self = .queued
            case .sent: self = .sent
            case .failed: self = .deferred
            case .abandoned: self = .abandoned
            }
        }

        /// The outbox statuses this state covers (for filtering in SQL).
        public var outboxStatuses: [OutboxStatus] {
            switch self {
            case .queued: [.queued, .sending]
            case .sent: [.sent]
            case .deferred: [.failed]
            case .abandoned: [.abandoned]
            }
        }
    }

    public var outboxID: String
    public var state: State
    public var attempts: Int
    public var lastError: String?
    public var sentAt: Date?

    public init(outboxID: String, state: State, attempts: Int, lastError: String?, sentAt: Date?) {
        self.outboxID = outboxID
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.sentAt = sentAt
    }
}

/// An invitation as an object: Auth0's organization-invitation shape (`uinv_…`, inviter, invitee, ttl) with
/// Usher's lifecycle around Auth0's recipe (the user it created, unverified with `app_metadata.needsInvitation`,
/// and the password-change link that accepts it).
///
/// The link itself is never stored: `invitation_url` exists only in the answer that created or re-sent it, and
/// `ticketID` names the current ticket by a prefix of its token's hash, which opens nothing.
public struct Invitation: Sendable, Equatable {
    public var id: String
    /// The user created for the invitation (Auth0's recipe: no password until the link is used).
    public var userID: String
    /// Lower-cased.
    public var email: String
    public var connection: String
    public var connectionID: String?
    public var clientID: String?
    public var inviterName: String?
    public var appMetadata: JSONObject
    public var userMetadata: JSONObject
    /// Role ids given at acceptance.
    public var roles: [String]
    public var ttlSeconds: Int
    public var sendInvitationEmail: Bool
    public var locale: String?
    public var resultURL: String?
    /// The stored state: `pending`, `accepted` or `revoked` (see `status(at:)`).
    public var storedStatus: InvitationStatus
    public var createdAt: Date
    public var expiresAt: Date
    public var acceptedAt: Date?
    public var revokedAt: Date?
    /// How many times a new link was sent after the first.
    public var resendCount: Int
    public var ticketID: String?
    /// The latest email (nil when created with `send_invitation_email: false`).
    public var outboxID: String?
    /// When the reminder went out (at most once per link lifetime: a new link clears it).
    public var remindedAt: Date?
    /// When the lapse was written to the log (`invitation_expired`), once.
    public var expiryLoggedAt: Date?
    /// Read with the invitation from the outbox; not stored with it.
    public var delivery: InvitationDelivery?

    public init(
        id: String, userID: String, email: String, connection: String, connectionID: String?, clientID: String?, inviterName: String?,
        appMetadata: JSONObject, userMetadata: JSONObject, roles: [String], ttlSeconds: Int, sendInvitationEmail: Bool, locale: String?,
        resultURL: String?, storedStatus: InvitationStatus = .pending, createdAt: Date, expiresAt: Date, acceptedAt: Date? = nil,
        revokedAt: Date? = nil, resendCount: Int = 0, ticketID: String? = nil, outboxID: String? = nil, remindedAt: Date? = nil,
        expiryLoggedAt: Date? = nil, delivery: InvitationDelivery? = nil
    ) {
        self.remindedAt = remindedAt
        self.expiryLoggedAt = expiryLoggedAt
        self.id = id
        self.userID = userID
        self.email = email
        self.connection = connection
        self.connectionID = connectionID
        self.clientID = clientID
        self.inviterName = inviterName
        self.appMetadata = appMetadata
        self.userMetadata = userMetadata
        self.roles = roles
        self.ttlSeconds = ttlSeconds
        self.sendInvitationEmail = sendInvitationEmail
        self.locale = locale
        self.resultURL = resultURL
        self.storedStatus = storedStatus
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.acceptedAt = acceptedAt
        self.revokedAt = revokedAt
        self.resendCount = resendCount
        self.ticketID = ticketID
        self.outboxID = outboxID
        self.delivery = delivery
    }

    /// `uinv_` and 16 alphanumerics, as Auth0's ids look.
    public static func generateID() -> String { "uinv_" + SecureRandom.alphanumeric(16) }

    /// Auth0's organization invitations: `ttl_sec` 0 means 7 days, at most 30 days.
    public static let defaultLifetime = 7 * 86_400
    public static let maximumLifetime = 30 * 86_400

    /// The non-secret name of a ticket: the first 32 characters of its token's hash (Auth0's `ticket_id` is 32
    /// characters too). Knowing it opens nothing.
    public static func ticketID(tokenHash: String) -> String { String(tokenHash.prefix(32)) }

    /// Points the invitation at `link`, from now on the only one of its links that works: its ticket, its email
    /// and (unless `keepingExpiry`, as a reminder does) its expiry.
    public mutating func follow(_ link: PreparedLink, keepingExpiry: Bool = false) {
        ticketID = Self.ticketID(tokenHash: link.ticket.tokenHash)
        outboxID = link.message?.id
        if !keepingExpiry { expiresAt = link.ticket.expiresAt }
    }

    /// The invitation sent again with `link`: a new link and a new lifetime, so it may be reminded of, and lapse, again.
    public mutating func resend(with link: PreparedLink) {
        resendCount += 1
        (remindedAt, expiryLoggedAt) = (nil, nil)
        follow(link)
    }

    /// What the invitation is now: a pending one past its expiry reads as expired.
    public func status(at now: Date) -> InvitationStatus {
        storedStatus == .pending && expiresAt <= now ? .expired : storedStatus
    }

    /// The Management API / CLI shape. `invitationURL` is given only by the call that made the link.
    public func managementJSON(now: Date, invitationURL: String? = nil) -> JSONObject {
        var object: JSONObject = [
            "id": .string(id), "user_id": .string(userID), "invitee": ["email": .string(email)],
            "inviter": ["name": inviterName.map(JSONValue.string) ?? .null], "connection": .string(connection),
            "ttl_sec": .int(Int64(ttlSeconds)), "send_invitation_email": .bool(sendInvitationEmail),
            "status": .string(status(at: now).rawValue), "created_at": .string(Timestamp.iso8601(createdAt)),
            "expires_at": .string(Timestamp.iso8601(expiresAt)), "resend_count": .int(Int64(resendCount)),
        ]
        if let invitationURL { object["invitation_url"] = .string(invitationURL) }
        if let connectionID { object["connection_id"] = .string(connectionID) }
        if let clientID { object["client_id"] = .string(clientID) }
        if !appMetadata.isEmpty { object["app_metadata"] = .object(appMetadata) }
        if !userMetadata.isEmpty { object["user_metadata"] = .object(userMetadata) }
        if !roles.isEmpty { object["roles"] = .array(roles.map(JSONValue.string)) }
        if let ticketID { object["ticket_id"] = .string(ticketID) }
        object["locale"] = locale.map(JSONValue.string) ?? .null
        object["result_url"] = resultURL.map(JSONValue.string) ?? .null
        object["accepted_at"] = acceptedAt.map { .string(Timestamp.iso8601($0)) } ?? .null
        object["revoked_at"] = revokedAt.map { .string(Timestamp.iso8601($0)) } ?? .null
        object["reminded_at"] = remindedAt.map { .string(Timestamp.iso8601($0)) } ?? .null
        if let delivery {
            object["delivery"] = [
                "state": .string(delivery.state.rawValue), "outbox_id": .string(delivery.outboxID), "attempts": .int(Int64(delivery.attempts)),
                "last_error": delivery.lastError.map(JSONValue.string) ?? .null,
                "sent_at": delivery.sentAt.map { .string(Timestamp.iso8601($0)) } ?? .null,
            ]
        } else {
            object["delivery"] = .null
        }
        return object
    }
}

/// Which invitations a list shows. Every field narrows; nil means any.
public struct InvitationFilter: Sendable, Equatable {
    public var status: InvitationStatus?
    public var delivery: InvitationDelivery.State?
    /// Lower-cased prefix of the invitee's address.
    public var emailPrefix: String?
    public var createdFrom: Date?
    public var createdTo: Date?
    public var clientID: String?
    public var userID: String?

    public init(
        status: InvitationStatus? = nil, delivery: InvitationDelivery.State? = nil, emailPrefix: String? = nil, createdFrom: Date? = nil,
        createdTo: Date? = nil, clientID: String? = nil, userID: String? = nil
    ) {
        self.status = status
        self.delivery = delivery
        self.emailPrefix = emailPrefix
        self.createdFrom = createdFrom
        self.createdTo = createdTo
        self.clientID = clientID
        self.userID = userID
    }
}

extension InvitationStore {
    /// A page and the total.
    public func listInvitations(_ filter: InvitationFilter, now: Date, offset: Int, limit: Int) async throws -> (
        invitations: [Invitation], total: Int
    ) {
        (try await invitationPage(filter, now: now, offset: offset, limit: limit), try await countInvitations(filter, now: now))
    }
}

/// Persistence of invitations. Lists are newest first; `status` filters read expiry against `now`.
public protocol InvitationStore: Sendable {
    /// Throws a 409 `UsherError` when the id exists.
    func insertInvitation(_ invitation: Invitation) async throws
    /// The invitation with its latest email's delivery state.
    func invitation(id: String) async throws -> Invitation?
    /// The user's newest invitation that is neither accepted nor revoked (expired ones included: a new link
    /// revives them).
    func openInvitation(userID: String) async throws -> Invitation?
    /// Replaces the stored fields; throws a 404 `UsherError` when missing.
    func updateInvitation(_ invitation: Invitation) async throws
    func deleteInvitation(id: String) async throws -> Bool
    /// One page of the list, without counting it (a count reads every matching row; pages read `limit`).
    func invitationPage(_ filter: InvitationFilter, now: Date, offset: Int, limit: Int) async throws -> [Invitation]
    func countInvitations(_ filter: InvitationFilter, now: Date) async throws -> Int
    /// Marks the user's open invitations accepted at `at` unless expired; returns the ids it changed.
    func acceptInvitations(userID: String, at: Date) async throws -> [String]
    /// Marks as reminded at `now` up to `limit` pending invitations that send email, have not been reminded and
    /// expire within `window` seconds after `now` (and not before it); returns them. Concurrent callers (other
    /// instances) get disjoint sets, so each reminder is claimed once.
    func claimInvitationReminders(now: Date, window: TimeInterval, limit: Int) async throws -> [Invitation]
    /// Marks as logged up to `limit` pending invitations past `expiresAt` whose lapse has not been logged; returns
    /// them. Disjoint across concurrent callers, like the reminders.
    func claimLapsedInvitations(now: Date, limit: Int) async throws -> [Invitation]
}
