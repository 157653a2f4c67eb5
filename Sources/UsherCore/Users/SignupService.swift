import Foundation
import UsherJSON

/// A refused sign-up, with what Auth0's database endpoints say about it: `code`, `description` (plus `message`
/// and `policy` for password failures). The HTTP layer chooses the status and error name from `kind`.
public struct SignupError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The request or the sign-up itself is not acceptable.
        case refused
        /// Too many sign-ups from one network.
        case rateLimited
    }

    public var kind: Kind
    /// Auth0's error name when it is more specific than the kind's (a password policy's own name); nil otherwise.
    public var name: String?
    public var code: String
    public var description: JSONValue
    public var message: String?
    public var policy: String?

    public init(_ kind: Kind = .refused, name: String? = nil, code: String, description: JSONValue, message: String? = nil, policy: String? = nil) {
        self.kind = kind
        self.name = name
        self.code = code
        self.description = description
        self.message = message
        self.policy = policy
    }

    static func bad(_ code: String, _ description: String) -> SignupError {
        SignupError(code: code, description: .string(description))
    }
}

/// `POST /dbconnections/signup`: self-service registration, refused when the connection has `disable_signup`
/// (the reason invitation-only applications exist).
///
/// An address that already has an account gets the generic `invalid_signup` answer after the same work as a
/// real sign-up (Auth0's "generic response" tenant option, on by default here), so sign-up cannot enumerate users.
public struct SignupService: Sendable {
    /// What the service reads and writes: the client and connection a sign-up names, and the log; users are created
    /// through `UserService`.
    public typealias Store = any ClientStore & ConnectionStore & LogStore

    let store: Store
    let users: UserService
    let verification: EmailVerificationService
    let clock: any UsherClock

    public init(store: Store, users: UserService, verification: EmailVerificationService, clock: any UsherClock) {
        self.store = store
        self.users = users
        self.verification = verification
        self.clock = clock
    }

    static let fields: Set<String> = [
        "client_id", "email", "password", "connection", "username", "given_name", "family_name", "name", "nickname", "picture", "user_metadata",
    ]

    public func signup(_ body: JSONObject, ip: String?, userAgent: String?) async throws -> JSONObject {
        for key in body.keys where !Self.fields.contains(key) {
            throw SignupError.bad("invalid_signup", "Additional properties not allowed: \(key.prefix(60))")
        }
        func string(_ key: String) throws -> String? {
            guard let value = body[key] else { return nil }
            guard case .string(let s) = value else { throw SignupError.bad("invalid_signup", "\(key) must be a string") }
            return s
        }
        guard let clientID = try string("client_id"), !clientID.isEmpty else {
            throw SignupError.bad("invalid_request", "Missing required parameter: client_id")
        }
        guard let connectionName = try string("connection"), !connectionName.isEmpty else {
            throw SignupError.bad("invalid_request", "Missing required parameter: connection")
        }
        guard let email = try string("email"), !email.isEmpty else { throw SignupError.bad("invalid_signup", "Missing required parameter: email") }
        guard let password = try string("password"), !password.isEmpty else {
            throw SignupError.bad("invalid_password", "Missing required parameter: password")
        }
        guard let client = try await store.client(id: clientID) else { throw SignupError.bad("invalid_request", "Unknown client_id") }
        guard let connection = try await store.connection(name: connectionName) else {
            throw SignupError.bad("invalid_connection", "The connection does not exist")
        }
        func fail(_ error: SignupError, _ reason: String) async throws -> Never {
            try await store.insertLogs([
                LogEvent(
                    date: clock.now, type: .failedSignup, description: reason, clientID: client.clientID, clientName: client.name,
                    ip: ip, userAgent: userAgent, userName: email, connection: connection.name, connectionID: connection.id)
            ])
            throw error
        }
        if connection.signupDisabled {
            try await fail(
                SignupError(code: "operation_not_allowed", description: "Public signup is disabled"),
                "Public signup is disabled")
        }
        let policy = PasswordPolicy(connectionOptions: connection.options)
        var probe = User(userID: "auth0|probe", connection: connection.name, email: email.lowercased(), createdAt: clock.now, updatedAt: clock.now)
        probe.name = try string("name")
        probe.nickname = try string("nickname")
        probe.username = try string("username")
        if let metadata = body["user_metadata"]?.objectValue { probe.userMetadata = metadata }
        do {
            try policy.validate(password: password, user: PasswordUserInfo(userJSON: probe.managementJSON))
        } catch {
            var refused = SignupError(
                name: error.name, code: "invalid_password",
                description: .object(["rules": .array(error.failedRules.map(\.json)), "verified": false]))
            refused.message = error.message
            refused.policy = policy.policyText
            try await fail(refused, error.message)
        }
        var create = body
        create["client_id"] = nil
        create["email_verified"] = false
        let user: User
        do {
            user = try await users.createUser(create)
        } catch let error as UsherError where error.kind == .conflict {
            try await fail(.bad("invalid_signup", "Invalid sign up"), "The user already exists.")
        } catch let error as UsherError {
            try await fail(.bad("invalid_signup", error.message), error.message)
        }
        try await store.insertLogs([
            LogEvent(
                date: clock.now, type: .successSignup, description: "Successful signup", clientID: client.clientID,
                clientName: client.name, ip: ip, userAgent: userAgent, userID: user.userID, userName: user.email,
                connection: connection.name, connectionID: connection.id)
        ])
        try await verification.sendVerificationEmail(to: user, client: client)
        var response: JSONObject = ["_id": .string(user.providerUserID), "email_verified": false, "email": .string(user.email ?? "")]
        for key in ["username", "given_name", "family_name", "name", "nickname", "picture"] {
            if let value = body[key] { response[key] = value }
        }
        if let metadata = body["user_metadata"] { response["user_metadata"] = metadata }
        return response
    }
}
