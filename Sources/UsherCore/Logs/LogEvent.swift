import Foundation
import UsherJSON

/// A tenant log entry, shaped like Auth0's (`GET /api/v2/logs`), with Auth0's event type codes.
public struct LogEvent: Sendable, Equatable {
    /// Auth0 event type codes Usher writes.
    public enum EventType: String, Sendable, CaseIterable {
        /// Success / failed change-password request (the email).
        case successChangePasswordRequest = "scpr"
        case failedChangePasswordRequest = "fcpr"
        /// Success / failed change password (the new password was set).
        case successChangePassword = "scp"
        case failedChangePassword = "fcp"
        /// Success / failed verification email (link consumed).
        case successVerificationEmail = "sv"
        case failedVerificationEmail = "fv"
        /// Success / failed sign-up.
        case successSignup = "ss"
        case failedSignup = "fs"
        /// Success / failed login.
        case successLogin = "s"
        case failedLogin = "f"
        /// Notification (email) could not be sent.
        case failedNotification = "fn"
        /// Management API operation succeeded / failed.
        case successAPIOperation = "sapi"
        case failedAPIOperation = "fapi"
        /// Too many requests from one IP to one account.
        case blockedAccount = "limit_wc"
        /// Usher's invitation lifecycle (Auth0 has no codes for these): created, a new link sent, withdrawn,
        /// the password set through its link.
        case invitationCreated = "invitation_created"
        case invitationResent = "invitation_resent"
        case invitationRevoked = "invitation_revoked"
        case invitationAccepted = "invitation_accepted"
        /// The reminder before expiry was queued; the invitation lapsed unaccepted.
        case invitationReminded = "invitation_reminded"
        case invitationExpired = "invitation_expired"
    }

    public var logID: String
    public var date: Date
    public var type: String
    public var description: String?
    public var clientID: String?
    public var clientName: String?
    public var ip: String?
    public var userAgent: String?
    public var userID: String?
    public var userName: String?
    public var connection: String?
    public var connectionID: String?
    /// Extra structured facts (`details` in Auth0's entries). Never secrets.
    public var details: JSONObject

    public init(
        logID: String = LogEvent.generateID(), date: Date, type: EventType, description: String? = nil, clientID: String? = nil,
        clientName: String? = nil, ip: String? = nil, userAgent: String? = nil, userID: String? = nil, userName: String? = nil,
        connection: String? = nil, connectionID: String? = nil, details: JSONObject = [:]
    ) {
        self.init(
            logID: logID, date: date, rawType: type.rawValue, description: description, clientID: clientID, clientName: clientName,
            ip: ip, userAgent: userAgent, userID: userID, userName: userName, connection: connection, connectionID: connectionID,
            details: details)
    }

    public init(
        logID: String, date: Date, rawType: String, description: String?, clientID: String?, clientName: String?, ip: String?,
        userAgent: String?, userID: String?, userName: String?, connection: String?, connectionID: String?, details: JSONObject
    ) {
        self.logID = logID
        self.date = date
        self.type = rawType
        self.description = description
        self.clientID = clientID
        self.clientName = clientName
        self.ip = ip
        self.userAgent = userAgent
        self.userID = userID
        self.userName = userName
        self.connection = connection
        self.connectionID = connectionID
        self.details = details
    }

    /// Auth0's log ids are long digit strings that sort by time; ours are `900` + 17 digits of milliseconds since the
    /// epoch + 20 random digits, so ordering by id is ordering by time (used by `from`/`take` paging).
    public static func generateID(now: Date = Date()) -> String {
        let millis = String(max(0, Timestamp.milliseconds(now)))
        let padded = String(repeating: "0", count: max(0, 17 - millis.count)) + millis
        var generator = SystemRandomNumberGenerator()
        let random = (0..<20).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
        return "900" + padded + random
    }

    public var managementJSON: JSONObject {
        var object: JSONObject = ["log_id": .string(logID), "date": .string(Timestamp.iso8601(date)), "type": .string(type)]
        func add(_ key: String, _ value: String?) { if let value { object[key] = .string(value) } }
        add("description", description)
        add("client_id", clientID)
        add("client_name", clientName)
        add("ip", ip)
        add("user_agent", userAgent)
        add("user_id", userID)
        add("user_name", userName)
        add("connection", connection)
        add("connection_id", connectionID)
        if !details.isEmpty { object["details"] = .object(details) }
        object["_id"] = .string(logID)
        return object
    }
}

/// A page of log entries, newest first unless asked otherwise.
public struct LogQuery: Sendable, Equatable {
    /// `field` = value conditions, all of which must hold (`type`, `user_id`, `client_id`, `ip`, `connection`).
    public var conditions: [(field: String, values: [String])]
    public var ascending: Bool
    public var offset: Int
    public var limit: Int
    /// Checkpoint paging: entries after (in the sort order) this log id.
    public var fromLogID: String?

    public init(conditions: [(field: String, values: [String])] = [], ascending: Bool = false, offset: Int = 0, limit: Int = 50, fromLogID: String? = nil) {
        self.conditions = conditions
        self.ascending = ascending
        self.offset = offset
        self.limit = limit
        self.fromLogID = fromLogID
    }

    public static func == (a: LogQuery, b: LogQuery) -> Bool {
        a.ascending == b.ascending && a.offset == b.offset && a.limit == b.limit && a.fromLogID == b.fromLogID
            && a.conditions.map(\.field) == b.conditions.map(\.field) && a.conditions.map(\.values) == b.conditions.map(\.values)
    }

    /// Columns a condition may name.
    public static let searchableFields: Set<String> = ["type", "user_id", "client_id", "ip", "connection", "user_name"]
}

/// Persistence of log entries.
public protocol LogStore: Sendable {
    func insertLogs(_ events: [LogEvent]) async throws
    func logs(_ query: LogQuery) async throws -> (events: [LogEvent], total: Int)
    func log(id: String) async throws -> LogEvent?
}
