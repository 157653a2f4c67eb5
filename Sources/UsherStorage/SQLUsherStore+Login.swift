import Foundation
import SQLKit
import UsherCore

/// Sessions, authorization codes, refresh tokens and brute-force counters on SQLite and PostgreSQL.
extension SQLUsherStore {
    // MARK: sessions

    public func insertSession(_ s: LoginSession) async throws {
        try await write {
            try await db.insert(into: "sessions").columns("id_hash", "user_id", "created_at", "last_seen_at", "expires_at", "ip", "user_agent", "revoked_at")
                .values(
                    SQLBind(s.idHash), SQLBind(s.userID), SQLBind(Timestamp.milliseconds(s.createdAt)), SQLBind(Timestamp.milliseconds(s.lastSeenAt)),
                    SQLBind(Timestamp.milliseconds(s.expiresAt)), SQLBind(s.ip), SQLBind(s.userAgent), SQLBind(Self.millis(s.revokedAt))
                )
                .run()
        }
    }

    public func session(idHash: String) async throws -> LoginSession? {
        try await db.select().columns("id_hash", "user_id", "created_at", "last_seen_at", "expires_at", "ip", "user_agent", "revoked_at")
            .from("sessions").where("id_hash", .equal, SQLBind(idHash)).first().map { row in
                LoginSession(
                    idHash: try row.decode(column: "id_hash", as: String.self), userID: try row.decode(column: "user_id", as: String.self),
                    createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
                    lastSeenAt: Timestamp.date(milliseconds: try row.decode(column: "last_seen_at", as: Int64.self)),
                    expiresAt: Timestamp.date(milliseconds: try row.decode(column: "expires_at", as: Int64.self)),
                    ip: try row.decode(column: "ip", as: String?.self), userAgent: try row.decode(column: "user_agent", as: String?.self),
                    revokedAt: Self.date(try row.decode(column: "revoked_at", as: Int64?.self)))
            }
    }

    public func touchSession(idHash: String, at: Date) async throws {
        try await write {
            try await db.update("sessions").set("last_seen_at", to: SQLBind(Timestamp.milliseconds(at))).where("id_hash", .equal, SQLBind(idHash)).run()
        }
    }

    public func revokeSession(idHash: String, at: Date) async throws {
        try await write {
            try await db.update("sessions").set("revoked_at", to: SQLBind(Timestamp.milliseconds(at))).where("id_hash", .equal, SQLBind(idHash))
                .where("revoked_at", .is, SQLLiteral.null).run()
        }
    }

    public func revokeSessions(userID: String, at: Date) async throws -> Int {
        let query = db.update("sessions").set("revoked_at", to: SQLBind(Timestamp.milliseconds(at))).where("user_id", .equal, SQLBind(userID))
            .where("revoked_at", .is, SQLLiteral.null).returning("id_hash")
        return try await write { try await query.all().count }
    }

    // MARK: authorization codes

    static let codeColumns = [
        "code_hash", "client_id", "user_id", "redirect_uri", "scope", "audience", "nonce", "code_challenge", "code_challenge_method", "id_token_claims",
        "access_token_claims", "created_at", "expires_at", "used_at",
    ]

    static func authorizationCode(from row: any SQLRow) throws -> AuthorizationCode {
        AuthorizationCode(
            codeHash: try row.decode(column: "code_hash", as: String.self), clientID: try row.decode(column: "client_id", as: String.self),
            userID: try row.decode(column: "user_id", as: String.self), redirectURI: try row.decode(column: "redirect_uri", as: String.self),
            scope: try row.decode(column: "scope", as: String.self), audience: try row.decode(column: "audience", as: String?.self),
            nonce: try row.decode(column: "nonce", as: String?.self), codeChallenge: try row.decode(column: "code_challenge", as: String?.self),
            codeChallengeMethod: try row.decode(column: "code_challenge_method", as: String?.self),
            idTokenClaims: Self.decodeObject(try row.decode(column: "id_token_claims", as: String.self)),
            accessTokenClaims: Self.decodeObject(try row.decode(column: "access_token_claims", as: String.self)),
            createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            expiresAt: Timestamp.date(milliseconds: try row.decode(column: "expires_at", as: Int64.self)),
            usedAt: Self.date(try row.decode(column: "used_at", as: Int64?.self)))
    }

    public func insertAuthorizationCode(_ c: AuthorizationCode) async throws {
        try await write {
            try await db.insert(into: "authorization_codes").columns(Self.codeColumns)
                .values(
                    SQLBind(c.codeHash), SQLBind(c.clientID), SQLBind(c.userID), SQLBind(c.redirectURI), SQLBind(c.scope), SQLBind(c.audience),
                    SQLBind(c.nonce), SQLBind(c.codeChallenge), SQLBind(c.codeChallengeMethod), SQLBind(Self.encode(c.idTokenClaims)),
                    SQLBind(Self.encode(c.accessTokenClaims)), SQLBind(Timestamp.milliseconds(c.createdAt)), SQLBind(Timestamp.milliseconds(c.expiresAt)),
                    SQLBind(Self.millis(c.usedAt))
                )
                .run()
        }
    }

    public func authorizationCode(hash: String) async throws -> AuthorizationCode? {
        try await db.select().columns(Self.codeColumns.map { SQLColumn($0) }).from("authorization_codes").where("code_hash", .equal, SQLBind(hash))
            .first().map(Self.authorizationCode(from:))
    }

    public func redeemAuthorizationCode(hash: String, now: Date) async throws -> AuthorizationCode? {
        let stamp = Timestamp.milliseconds(now)
        let query = db.update("authorization_codes").set("used_at", to: SQLBind(stamp)).where("code_hash", .equal, SQLBind(hash))
            .where("used_at", .is, SQLLiteral.null).where("expires_at", .greaterThan, SQLBind(stamp))
            .returning(Self.codeColumns.map { SQLColumn($0) })
        return try await write { try await query.all().first.map(Self.authorizationCode(from:)) }
    }

    // MARK: refresh tokens

    static let refreshColumns = [
        "token_hash", "family_id", "client_id", "user_id", "scope", "audience", "code_hash", "created_at", "expires_at", "rotated_at", "revoked_at",
    ]

    public func insertRefreshToken(_ t: RefreshTokenRecord) async throws {
        try await write {
            try await db.insert(into: "refresh_tokens").columns(Self.refreshColumns)
                .values(
                    SQLBind(t.tokenHash), SQLBind(t.familyID), SQLBind(t.clientID), SQLBind(t.userID), SQLBind(t.scope), SQLBind(t.audience),
                    SQLBind(t.codeHash), SQLBind(Timestamp.milliseconds(t.createdAt)), SQLBind(Timestamp.milliseconds(t.expiresAt)),
                    SQLBind(Self.millis(t.rotatedAt)), SQLBind(Self.millis(t.revokedAt))
                )
                .run()
        }
    }

    public func refreshToken(hash: String) async throws -> RefreshTokenRecord? {
        try await db.select().columns(Self.refreshColumns.map { SQLColumn($0) }).from("refresh_tokens").where("token_hash", .equal, SQLBind(hash))
            .first().map { row in
                RefreshTokenRecord(
                    tokenHash: try row.decode(column: "token_hash", as: String.self), familyID: try row.decode(column: "family_id", as: String.self),
                    clientID: try row.decode(column: "client_id", as: String.self), userID: try row.decode(column: "user_id", as: String.self),
                    scope: try row.decode(column: "scope", as: String.self), audience: try row.decode(column: "audience", as: String?.self),
                    codeHash: try row.decode(column: "code_hash", as: String?.self),
                    createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
                    expiresAt: Timestamp.date(milliseconds: try row.decode(column: "expires_at", as: Int64.self)),
                    rotatedAt: Self.date(try row.decode(column: "rotated_at", as: Int64?.self)),
                    revokedAt: Self.date(try row.decode(column: "revoked_at", as: Int64?.self)))
            }
    }

    public func rotateRefreshToken(hash: String, now: Date) async throws -> Bool {
        let query = db.update("refresh_tokens").set("rotated_at", to: SQLBind(Timestamp.milliseconds(now))).where("token_hash", .equal, SQLBind(hash))
            .where("rotated_at", .is, SQLLiteral.null).where("revoked_at", .is, SQLLiteral.null).returning("token_hash")
        return try await write { !(try await query.all()).isEmpty }
    }

    private func revokeRefreshTokens(where column: String, equals value: String, at: Date) async throws -> Int {
        let query = db.update("refresh_tokens").set("revoked_at", to: SQLBind(Timestamp.milliseconds(at))).where(SQLColumn(column), .equal, SQLBind(value))
            .where("revoked_at", .is, SQLLiteral.null).returning("token_hash")
        return try await write { try await query.all().count }
    }

    public func revokeRefreshTokenFamily(familyID: String, at: Date) async throws -> Int {
        try await revokeRefreshTokens(where: "family_id", equals: familyID, at: at)
    }

    public func revokeRefreshTokens(userID: String, at: Date) async throws -> Int {
        try await revokeRefreshTokens(where: "user_id", equals: userID, at: at)
    }

    public func revokeRefreshTokens(codeHash: String, at: Date) async throws -> Int {
        try await revokeRefreshTokens(where: "code_hash", equals: codeHash, at: at)
    }

    // MARK: brute-force counters

    public func recordLoginFailure(key: String, at: Date, window: TimeInterval) async throws -> Int {
        let now = Timestamp.milliseconds(at)
        let staleBefore = Timestamp.milliseconds(at.addingTimeInterval(-window))
        return try await withWriteTransaction { tx in
            let row = try await tx.select().columns("count", "last_at").from("login_failures").where("key", .equal, SQLBind(key)).first()
            var count = 1
            if let row {
                let previous = try row.decode(column: "count", as: Int64.self)
                let last = try row.decode(column: "last_at", as: Int64.self)
                count = last < staleBefore ? 1 : Int(previous) + 1
                try await tx.update("login_failures").set("count", to: SQLBind(Int64(count))).set("last_at", to: SQLBind(now))
                    .where("key", .equal, SQLBind(key)).run()
            } else {
                try await tx.insert(into: "login_failures").columns("key", "count", "last_at").values(SQLBind(key), SQLBind(Int64(1)), SQLBind(now)).run()
            }
            return count
        }
    }

    public func loginFailures(key: String, at: Date, window: TimeInterval) async throws -> Int {
        guard let row = try await db.select().columns("count", "last_at").from("login_failures").where("key", .equal, SQLBind(key)).first() else { return 0 }
        let last = try row.decode(column: "last_at", as: Int64.self)
        if last < Timestamp.milliseconds(at.addingTimeInterval(-window)) { return 0 }
        return Int(try row.decode(column: "count", as: Int64.self))
    }

    public func clearLoginFailures(key: String) async throws {
        // Reads first: the common case (no failures) takes no write lock.
        guard try await db.select().column("key").from("login_failures").where("key", .equal, SQLBind(key)).first() != nil else { return }
        try await write { try await db.delete(from: "login_failures").where("key", .equal, SQLBind(key)).run() }
    }

    public func clearLoginFailures(prefix: String) async throws {
        // substr() rather than LIKE, so an address containing % or _ matches only itself (code points on both databases).
        let head = SQLFunction("substr", args: SQLColumn("key"), SQLLiteral.numeric("1"), SQLLiteral.numeric(String(prefix.unicodeScalars.count)))
        try await write { try await db.delete(from: "login_failures").where(head, .equal, SQLBind(prefix)).run() }
    }
}
