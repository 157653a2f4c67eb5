import Foundation
import UsherJSON

/// Checks a new password against a connection's rules before it is hashed.
///
/// A seam so that the connection's password policy (see `Passwords/`) is applied identically by the
/// Management API, sign-up and the reset page.
public protocol PasswordRulesValidator: Sendable {
    /// Throws `UsherError(.invalidInput, …)` with Auth0's message when `password` is not acceptable for `user`.
    func validate(password: String, for user: User, connection: Connection) async throws
}

/// The parameters of `GET /api/v2/users`, validated.
public struct UserSearchRequest: Sendable {
    public var query: String?
    public var page: Int = 0
    public var perPage: Int = 50
    public var includeTotals = false
    public var sortField: UserSortField = .createdAt
    public var ascending = true
    public var fields: [String]?
    public var includeFields = true

    /// Auth0 only lets a search reach the first 1,000 results.
    public static let maximumReachable = 1_000

    public init() {}

    /// Reads and validates the query-string parameters Auth0 documents; unknown ones are ignored as Auth0 does.
    public init(parameters: [String: String]) throws(UsherError) {
        let query = QueryParameters(parameters)
        if let q = parameters["q"], !q.trimmingCharacters(in: .whitespaces).isEmpty { self.query = q }
        page = try query.integer("page", default: 0, range: 0...Int.max)
        perPage = try query.integer("per_page", default: 50, range: 0...100)
        includeTotals = try query.bool("include_totals", default: false)
        includeFields = try query.bool("include_fields", default: true)
        if let raw = parameters["fields"], !raw.isEmpty {
            fields = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let raw = parameters["sort"], !raw.isEmpty {
            let parts = raw.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let field = UserSortField(rawValue: parts[0]), parts[1] == "1" || parts[1] == "-1" else {
                throw .invalidQuery("Query validation error: 'sort' must look like field:1 or field:-1 with a sortable field")
            }
            sortField = field
            ascending = parts[1] == "1"
        }
        if let engine = parameters["search_engine"], !["v1", "v2", "v3"].contains(engine) {
            throw .invalidQuery("Query validation error: 'search_engine' must be v1, v2 or v3")
        }
        if perPage > 0 && QueryParameters.end(start: QueryParameters.offset(page: page, perPage: perPage), count: perPage) > Self.maximumReachable {
            throw .invalidQuery(
                "You can only page through the first \(Self.maximumReachable) records. See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation"
            )
        }
    }

}

/// One page of users and, when asked, the totals Auth0 reports.
public struct UserSearchResult: Sendable {
    public var users: [User]
    public var start: Int
    public var limit: Int
    public var total: Int
}

/// Users: creation, lookup, update, deletion and search with Auth0's rules.
public struct UserService: Sendable {
    /// What the service reads and writes: users by id and email, the connection that holds them, and a transaction for
    /// a user with its first password in history.
    public typealias Store = any UserStore & ConnectionStore & TransactionalStore

    let store: Store
    let hasher: any PasswordHasher
    let passwordRules: any PasswordRulesValidator
    let clock: any UsherClock

    public init(store: Store, hasher: any PasswordHasher, passwordRules: any PasswordRulesValidator, clock: any UsherClock) {
        self.store = store
        self.hasher = hasher
        self.passwordRules = passwordRules
        self.clock = clock
    }

    static let createFields: Set<String> = [
        "connection", "email", "password", "email_verified", "verify_email", "phone_number", "phone_verified",
        "user_metadata", "app_metadata", "given_name", "family_name", "name", "nickname", "picture", "blocked",
        "user_id", "username",
    ]

    static let updateFields: Set<String> = [
        "app_metadata", "blocked", "email", "email_verified", "family_name", "given_name", "name", "nickname",
        "password", "phone_number", "phone_verified", "picture", "username", "user_metadata", "verify_email",
        "connection", "client_id", "verify_phone_number", "verify_password",
    ]

    // MARK: create

    /// `POST /api/v2/users`. A password is optional: invited users choose theirs through the reset link.
    public func createUser(_ body: JSONObject) async throws -> User {
        let user = try await newUser(body)
        try await store.transaction { tx in
            try await tx.insertUser(user)
            if let hash = user.passwordHash { try await tx.appendPasswordHistory(userID: user.userID, hash: hash, at: user.createdAt) }
        }
        return user
    }

    /// The user `POST /api/v2/users` would create, validated (a duplicate is `UsherError.userExists`) but not
    /// stored, so a caller can insert it in its own transaction with what belongs to it (an invitation).
    public func newUser(_ body: JSONObject) async throws -> User {
        let input = try PayloadReader(body, allowed: Self.createFields)
        guard let connectionName = try input.string("connection", minLength: 1, maxLength: 128).value else {
            throw UsherError.invalidBody("'Missing required property: connection'.")
        }
        guard let connection = try await store.connection(name: connectionName) else {
            throw UsherError(.invalidInput, "The connection does not exist.", errorCode: "inexistent_connection")
        }
        guard let rawEmail = try input.string("email", maxLength: 254).value else {
            throw UsherError.invalidBody("'Missing required property: email'.")
        }
        let email = try UserValidation.normalizedEmail(rawEmail)
        let now = clock.now

        var user = User(
            userID: User.generateID(), connection: connection.name, email: email, createdAt: now, updatedAt: now)
        if let customID = try input.string("user_id", maxLength: 255).value {
            guard !customID.isEmpty, !customID.contains(where: { $0.isWhitespace }), !customID.contains("|") else {
                throw UsherError.invalidBody("'String does not match pattern ^\\S*$' on property user_id.")
            }
            user.userID = "auth0|" + customID
        }
        user.emailVerified = try input.bool("email_verified").value ?? false
        _ = try input.bool("verify_email")  // accepted for compatibility; verification mail is a separate flow
        try apply(profileOf: input, to: &user, connection: connection, isCreate: true)
        user.blocked = try input.bool("blocked").value ?? false
        if let metadata = try input.object("app_metadata").value {
            try UserValidation.validateMetadata(metadata, property: "app_metadata")
            user.appMetadata = metadata
        }
        if let metadata = try input.object("user_metadata").value {
            try UserValidation.validateMetadata(metadata, property: "user_metadata")
            user.userMetadata = metadata
        }
        // Auth0 fills these for database users; kept so SDK models and templates see the same profile.
        if user.name == nil { user.name = email }
        if user.nickname == nil { user.nickname = String(email.prefix { $0 != "@" }) }
        if user.picture == nil { user.picture = User.defaultPicture(email: email) }

        if let password = try input.string("password", minLength: 1, maxLength: 1_000).value {
            try await passwordRules.validate(password: password, for: user, connection: connection)
            user.passwordHash = try await hasher.hash(password)
        }
        if try await store.user(connection: connection.name, email: email) != nil { throw UsherError.userExists }
        return user
    }

    /// Profile fields shared by create and update.
    private func apply(profileOf input: PayloadReader, to user: inout User, connection: Connection, isCreate: Bool) throws(UsherError) {
        let nullable = !isCreate
        func set(_ key: String, max: Int, _ keyPath: WritableKeyPath<User, String?>) throws(UsherError) {
            switch try input.string(key, minLength: 1, maxLength: max, nullable: nullable) {
            case .absent: break
            case .null: user[keyPath: keyPath] = nil
            case .value(let v): user[keyPath: keyPath] = v
            }
        }
        try set("name", max: 300, \.name)
        try set("nickname", max: 300, \.nickname)
        try set("given_name", max: 150, \.givenName)
        try set("family_name", max: 150, \.familyName)
        try set("picture", max: 2_048, \.picture)
        if let picture = user.picture, input.has("picture") {
            guard let url = URL(string: picture), let scheme = url.scheme, ["http", "https"].contains(scheme.lowercased()) else {
                throw .invalidBody("'Object didn't pass validation for format strict-uri: \(picture)' on property picture.")
            }
        }
        switch try input.string("phone_number", minLength: 1, maxLength: 16, nullable: nullable) {
        case .absent: break
        case .null: user.phoneNumber = nil
        case .value(let phone):
            guard UserValidation.isE164(phone) else {
                throw .invalidBody("'String does not match pattern ^\\+[0-9]{1,15}$' on property phone_number.")
            }
            user.phoneNumber = phone
        }
        if let verified = try input.bool("phone_verified").value { user.phoneVerified = verified }
        switch try input.string("username", minLength: 1, maxLength: 128, nullable: nullable) {
        case .absent: break
        case .null: user.username = nil
        case .value(let username):
            guard connection.options["requires_username"]?.boolValue == true else {
                throw UsherError(.invalidInput, "Cannot set username for connection without requires_username", errorCode: "operation_not_supported")
            }
            user.username = username.lowercased()
        }
    }

    // MARK: read

    /// `GET /api/v2/users/{id}`.
    public func user(id: String) async throws -> User {
        guard let user = try await store.user(id: id) else { throw UsherError.userNotFound }
        return user
    }

    /// `GET /api/v2/users-by-email`.
    public func users(email rawEmail: String) async throws -> [User] {
        guard UserValidation.isPlausibleEmail(rawEmail.lowercased()) else {
            throw UsherError.invalidQuery(
                "Query validation error: 'Object didn't pass validation for format email: \(rawEmail)' on property email (Email address to search for (case-sensitive))."
            )
        }
        return try await store.users(email: rawEmail.lowercased())
    }

    /// `GET /api/v2/users`: without `q` the store pages in SQL; with `q` the query runs over every user in memory.
    ///
    /// The in-memory path is exact for the whole Lucene subset (nested metadata, wildcards, ranges) on both
    /// databases; it costs a scan, which is fine for the tenant sizes one instance serves and is the first thing
    /// the scale work will push down into SQL.
    public func search(_ request: UserSearchRequest) async throws -> UserSearchResult {
        let offset = QueryParameters.offset(page: request.page, perPage: request.perPage)
        guard let q = request.query else {
            let page = UserPageRequest(sortField: request.sortField, ascending: request.ascending, offset: offset, limit: request.perPage)
            let (users, total) = try await store.listUsers(page)
            return UserSearchResult(users: users, start: offset, limit: request.perPage, total: total)
        }
        let query: UserSearchQuery
        do {
            query = try UserSearchQuery.parse(q)
        } catch {
            throw UsherError.invalidQuery(String(describing: error))
        }
        let matching = try await store.allUsers()
            .filter { query.matches($0.managementJSON) }
            .sorted { Self.ordered($0, $1, by: request.sortField, ascending: request.ascending) }
        let total = matching.count
        let pageUsers = offset < total ? Array(matching[offset..<min(total, QueryParameters.end(start: offset, count: request.perPage))]) : []
        return UserSearchResult(users: pageUsers, start: offset, limit: request.perPage, total: total)
    }

    /// In-memory ordering that mirrors the SQL one (missing values first when ascending, ties by user id).
    public static func ordered(_ a: User, _ b: User, by field: UserSortField, ascending: Bool) -> Bool {
        func key(_ u: User) -> String {
            switch field {
            case .createdAt: String(format: "%020lld", Timestamp.milliseconds(u.createdAt))
            case .updatedAt: String(format: "%020lld", Timestamp.milliseconds(u.updatedAt))
            case .lastLogin: u.lastLogin.map { String(format: "%020lld", Timestamp.milliseconds($0)) } ?? ""
            case .loginsCount: String(format: "%020d", u.loginsCount)
            case .email: u.email ?? ""
            case .name: u.name ?? ""
            case .nickname: u.nickname ?? ""
            case .givenName: u.givenName ?? ""
            case .familyName: u.familyName ?? ""
            case .userID: u.userID
            }
        }
        let ka = key(a)
        let kb = key(b)
        if ka == kb { return a.userID < b.userID }
        return ascending ? ka < kb : ka > kb
    }

    // MARK: update

    /// `PATCH /api/v2/users/{id}`: fields replace, `null` unsets, metadata merges one level deep.
    public func updateUser(id: String, body: JSONObject) async throws -> User {
        let input = try PayloadReader(body, allowed: Self.updateFields)
        guard var user = try await store.user(id: id) else { throw UsherError.userNotFound }
        guard let connection = try await store.connection(name: user.connection) else { throw UsherError.connectionNotFound }
        let original = user

        if input.has("password") && input.has("email") {
            throw UsherError(.invalidInput, "Cannot update password and email simultaneously", errorCode: "invalid_body")
        }
        if input.has("password") && input.has("email_verified") {
            throw UsherError(.invalidInput, "Cannot update password and email_verified simultaneously", errorCode: "invalid_body")
        }
        if input.has("password") && input.has("username") {
            throw UsherError(.invalidInput, "Cannot update password and username simultaneously", errorCode: "invalid_body")
        }
        _ = try input.string("connection", maxLength: 128)
        _ = try input.string("client_id", maxLength: 128)
        _ = try input.bool("verify_email")
        _ = try input.bool("verify_phone_number")
        _ = try input.bool("verify_password")

        switch try input.string("email", maxLength: 254, nullable: true) {
        case .absent: break
        case .null: throw UsherError.invalidBody("'Database users must have an email' on property email.")
        case .value(let raw):
            let email = try UserValidation.normalizedEmail(raw)
            if email != user.email {
                if let other = try await store.user(connection: user.connection, email: email), other.userID != user.userID {
                    throw UsherError(.invalidInput, "The specified new email already exists", errorCode: "email_exists")
                }
                user.email = email
                // A new address is unproven until verified again, unless the caller says otherwise below.
                user.emailVerified = false
            }
        }
        if let verified = try input.bool("email_verified").value { user.emailVerified = verified }
        try apply(profileOf: input, to: &user, connection: connection, isCreate: false)
        if let blocked = try input.bool("blocked").value { user.blocked = blocked }

        switch try input.object("app_metadata", nullable: true) {
        case .absent: break
        case .null: user.appMetadata = [:]
        case .value(let patch):
            try UserValidation.validateMetadata(patch, property: "app_metadata")
            user.appMetadata = UserValidation.merge(patch, into: user.appMetadata)
        }
        switch try input.object("user_metadata", nullable: true) {
        case .absent: break
        case .null: user.userMetadata = [:]
        case .value(let patch):
            try UserValidation.validateMetadata(patch, property: "user_metadata")
            user.userMetadata = UserValidation.merge(patch, into: user.userMetadata)
        }
        try UserValidation.validateMetadata(user.appMetadata, property: "app_metadata")
        try UserValidation.validateMetadata(user.userMetadata, property: "user_metadata")

        switch try input.string("password", minLength: 1, maxLength: 1_000, nullable: true) {
        case .absent: break
        case .null: user.passwordHash = nil
        case .value(let password):
            try await passwordRules.validate(password: password, for: user, connection: connection)
            user.passwordHash = try await hasher.hash(password)
            user.lastPasswordReset = clock.now
            // Auth0: setting a password through the Management API also lifts an admin block.
            user.blocked = try input.bool("blocked").value ?? false
        }

        if user != original {
            user.updatedAt = clock.now
            let updated = user
            let newHash = user.passwordHash != original.passwordHash ? user.passwordHash : nil
            try await store.transaction { tx in
                try await tx.updateUser(updated)
                if let newHash { try await tx.appendPasswordHistory(userID: updated.userID, hash: newHash, at: updated.updatedAt) }
            }
        }
        return user
    }

    // MARK: delete

    /// `DELETE /api/v2/users/{id}`: deleting an unknown id succeeds, as Auth0's 204 suggests (idempotent).
    public func deleteUser(id: String) async throws {
        _ = try await store.deleteUser(id: id)
    }
}
