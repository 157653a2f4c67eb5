import Foundation
import Logging
import Synchronization
import UsherJSON

/// Tokens returned by `/oauth/token` for a user, in Auth0's shape.
public struct UserTokens: Sendable, Equatable {
    public var accessToken: String
    public var idToken: String?
    public var refreshToken: String?
    public var expiresIn: Int
    public var scope: String

    public var json: JSONObject {
        var object: JSONObject = ["access_token": .string(accessToken)]
        if let idToken { object["id_token"] = .string(idToken) }
        if let refreshToken { object["refresh_token"] = .string(refreshToken) }
        object["scope"] = .string(scope)
        object["expires_in"] = .int(Int64(expiresIn))
        object["token_type"] = "Bearer"
        return object
    }
}

/// Why a password check failed. The messages never say whether the address exists.
public enum AuthenticationFailure: Error, Sendable, Equatable {
    case wrongCredentials
    case userBlocked
    /// Brute-force protection: too many failures for this identifier from this IP.
    case tooManyAttempts
}

/// What a login's post-login Actions are told besides the user: the application, the protocol and the request.
public struct PostLoginContext: Sendable {
    public var client: Client
    /// `event.transaction.protocol`: `oauth2-password`, `oidc-basic-profile`…
    public var flow: String
    public var scope: String
    public var audience: String?
    public var redirectURI: String?
    public var state: String?
    public var ip: String?
    public var userAgent: String?

    public init(
        client: Client, flow: String, scope: String, audience: String?, redirectURI: String?, state: String?, ip: String?,
        userAgent: String?
    ) {
        self.client = client
        self.flow = flow
        self.scope = scope
        self.audience = audience
        self.redirectURI = redirectURI
        self.state = state
        self.ip = ip
        self.userAgent = userAgent
    }
}

/// A user whose password was right.
public struct Authentication: Sendable {
    public var user: User
    public var connection: Connection
    /// The post-login Actions, run while the password was checked (see `LoginService.authenticate`); nil when they
    /// were not, and `finishLogin` runs them.
    public var actionsRunAhead: Task<PostLoginOutcome?, Never>?
}

/// A login that passed the password check and the post-login Actions.
public struct CompletedLogin: Sendable {
    public var user: User
    public var idTokenClaims: JSONObject
    public var accessTokenClaims: JSONObject
}

/// Why a login that passed the password check was stopped.
public enum LoginStop: Error, Sendable, Equatable {
    /// `api.access.deny(reason)`.
    case denied(String)
    /// An Action failed (threw, timed out, ran out of memory, could not run).
    case actionFailed(String)
}

/// Logins: password checks with brute-force protection, post-login Actions, sessions, authorization codes,
/// and the tokens of the OpenID Connect provider.
public final class LoginService: Sendable {
    /// What the service reads and writes: who logs in (users, clients, connections), what a login leaves behind
    /// (sessions, codes, refresh tokens, failures, log events), the user's roles (`event.authorization.roles`), and
    /// a transaction for the login count.
    public typealias Store = any UserStore & ClientStore & ConnectionStore & LoginStore & LogStore & RoleStore & TransactionalStore

    let store: Store
    let hasher: any PasswordHasher
    let signer: TokenSigner
    let clock: any UsherClock
    let runner: any PostLoginActionRunner
    let boundActions: @Sendable () async throws -> [DeployedAction]
    let resets: PasswordResetService
    let logger: Logger
    /// `{public_url}/` (`iss`).
    public let issuer: String
    let managementAudience: String
    /// Auth0's brute-force threshold: failed attempts per identifier per IP before that pair is blocked.
    public let bruteForceThreshold: Int
    private let dummyHash = Mutex<String?>(nil)

    /// How long what a login hands out stays valid.
    public let lifetimes: Lifetimes

    /// Lifetimes of tokens, codes and sessions. The defaults are Auth0's; `usher serve` takes them from the
    /// configuration (`access_token_lifetime_seconds`, …).
    public struct Lifetimes: Sendable, Equatable {
        /// Access tokens (`expires_in`), in seconds.
        public var accessToken = 86_400
        /// ID tokens, in seconds.
        public var idToken = 36_000
        /// Authorization codes: only long enough for the redirect and the code exchange.
        public var authorizationCode: TimeInterval = 120
        public var refreshToken: TimeInterval = 30 * 86_400
        /// Absolute end of a hosted-login session, and its cookie's `Max-Age`.
        public var session: TimeInterval = 168 * 3_600
        /// A session not seen for this long ends before its absolute end.
        public var sessionIdle: TimeInterval = 72 * 3_600

        public init() {}
    }

    /// A block lifts 30 days after the last failure (Auth0).
    public static let bruteForceWindow: TimeInterval = 30 * 86_400
    static let passwordRealmGrant = "http://auth0.com/oauth/grant-type/password-realm"

    public init(
        store: Store, hasher: any PasswordHasher, signer: TokenSigner, clock: any UsherClock, runner: any PostLoginActionRunner,
        boundActions: @escaping @Sendable () async throws -> [DeployedAction], resets: PasswordResetService, publicURL: String,
        bruteForceThreshold: Int = 10, lifetimes: Lifetimes = Lifetimes(), logger: Logger = Logger(label: "usher.login")
    ) {
        self.store = store
        self.hasher = hasher
        self.signer = signer
        self.clock = clock
        self.runner = runner
        self.boundActions = boundActions
        self.resets = resets
        self.logger = logger
        let base = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        issuer = base + "/"
        managementAudience = base + "/api/v2/"
        self.bruteForceThreshold = bruteForceThreshold
        self.lifetimes = lifetimes
    }

    static func oauth(_ kind: UsherError.Kind, _ error: String, _ description: String) -> UsherError {
        UsherError(kind, description, errorCode: error)
    }

    // MARK: /authorize

    /// Validates an authorization request. Problems with the client or its redirect URI are shown on a page
    /// (redirecting to an unverified URI would make Usher an open redirector); the rest go back to the client.
    public func validateAuthorize(_ p: [String: String]) async throws -> Result<(AuthorizationRequest, Client), AuthorizeProblem> {
        guard let clientID = p["client_id"], !clientID.isEmpty, let client = try await store.client(id: clientID) else {
            return .failure(.page(title: "Unknown application", message: "The link you followed names an application (client_id) that does not exist."))
        }
        guard let redirectURI = p["redirect_uri"], !redirectURI.isEmpty else {
            return .failure(.page(title: "Invalid request", message: "The application did not say where to return (redirect_uri is missing)."))
        }
        guard client.callbacks.contains(redirectURI) else {
            return .failure(
                .page(
                    title: "Callback URL mismatch",
                    message: "The redirect_uri \(redirectURI) is not in the Allowed Callback URLs of the application \(client.name)."))
        }
        var request = AuthorizationRequest(
            clientID: clientID, redirectURI: redirectURI, scope: p["scope"].flatMap { $0.isEmpty ? nil : $0 } ?? "openid", state: p["state"],
            nonce: p["nonce"], codeChallenge: p["code_challenge"], codeChallengeMethod: p["code_challenge_method"],
            audience: p["audience"].flatMap { $0.isEmpty ? nil : $0 }, prompt: p["prompt"], loginHint: p["login_hint"], connection: p["connection"])
        func fail(_ error: String, _ description: String) -> Result<(AuthorizationRequest, Client), AuthorizeProblem> {
            .failure(.redirect(request.redirect([("error", error), ("error_description", description)])))
        }
        guard p["response_type"] == "code" else {
            return fail("unsupported_response_type", "Usher supports response_type=code (with PKCE) only")
        }
        if let mode = p["response_mode"], mode != "query" { return fail("invalid_request", "response_mode \(mode) is not supported") }
        guard client.grantTypes.contains("authorization_code") else {
            return fail("unauthorized_client", "Grant type 'authorization_code' not allowed for the client.")
        }
        if let challenge = request.codeChallenge {
            let method = request.codeChallengeMethod ?? "plain"
            guard method == "S256" else { return fail("invalid_request", "code_challenge_method must be S256") }
            guard challenge.utf8.count == 43 else { return fail("invalid_request", "code_challenge must be a base64url SHA-256 (43 characters)") }
            request.codeChallengeMethod = "S256"
        } else if client.tokenEndpointAuthMethod == "none" {
            return fail("invalid_request", "Public applications must use PKCE (code_challenge with code_challenge_method=S256)")
        }
        if request.audience == managementAudience {
            return fail("invalid_request", "Tokens for the Management API are issued to applications only (client credentials)")
        }
        if let prompt = request.prompt, !["none", "login", "consent"].contains(prompt) {
            return fail("invalid_request", "prompt must be none, login or consent")
        }
        return .success((request, client))
    }

    /// The request as a signed, expiring value for the login form (`/u/login?state=…`).
    public func sealTransaction(_ request: AuthorizationRequest) -> String {
        var object = request.json
        object["exp"] = .int(Int64(clock.now.timeIntervalSince1970) + 3_600)
        let body = Base64URL.encode(Array(object.jsonString.utf8))
        return body + "." + signer.pageMAC(body, purpose: "authorize-transaction")
    }

    public func openTransaction(_ sealed: String) -> AuthorizationRequest? {
        let parts = sealed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, SecureRandom.constantTimeEquals(String(parts[1]), signer.pageMAC(String(parts[0]), purpose: "authorize-transaction")),
            let bytes = Base64URL.decode(String(parts[0])), case .object(let object)? = try? JSONParser.parse(bytes),
            case .int(let exp)? = object["exp"], exp > Int64(clock.now.timeIntervalSince1970)
        else { return nil }
        return AuthorizationRequest(json: object)
    }

    // MARK: password check

    func bruteForceKey(_ identifier: String, ip: String?) -> String { identifier.lowercased() + "|" + (ip ?? "-") }

    /// A hash to verify against when there is no user, so unknown addresses cost the same bcrypt work.
    func timingHash() async throws -> String {
        if let hash = dummyHash.withLock({ $0 }) { return hash }
        let hash = try await hasher.hash(SecureRandom.token(byteCount: 16))
        dummyHash.withLock { $0 = hash }
        return hash
    }

    /// How long Actions run ahead of the password check may take (see `authenticate`): a few bcrypt verifications'
    /// worth, so that a wrong password costs a worker little more than the hash it already costs us.
    public static let actionsRunAheadTimeLimit: Duration = .milliseconds(250)

    /// Checks an email and password against a database connection, with Auth0's brute-force protection
    /// (threshold failures per identifier per IP block that pair; a password reset lifts it).
    ///
    /// With `actionsContext`, the post-login Actions start while the password is verified, so that a login does
    /// not wait for them after the hash. That is invisible to them: an Action is a function of its event (no
    /// network, no storage; its changes are applied only by `finishLogin`), and the event is built from the same
    /// user record either way. Its result is dropped when the password is wrong. To keep that from costing more
    /// than the hash an attacker already makes us compute, a run ahead only starts when a worker is free, never
    /// queues, and gets `actionsRunAheadTimeLimit`; past it, the Actions run again normally after the check (and the
    /// runner stops running them ahead).
    public func authenticate(
        identifier rawIdentifier: String, password: String, connection connectionName: String?, clientID: String?,
        ip: String?, userAgent: String?, actionsContext: PostLoginContext? = nil
    ) async throws
        -> Result<Authentication, AuthenticationFailure>
    {
        let identifier = rawIdentifier.trimmingCharacters(in: .whitespaces).lowercased()
        let connection = try await store.connection(name: connectionName ?? Connection.defaultDatabaseName)
        let key = bruteForceKey(identifier, ip: ip)
        let now = clock.now
        let protected = connection?.options["brute_force_protection"]?.boolValue ?? true
        if protected, try await store.loginFailures(key: key, at: now, window: Self.bruteForceWindow) >= bruteForceThreshold {
            try await log(
                .failedLogin, "Too many failed attempts: this account is blocked for this IP", user: nil, identifier: identifier,
                clientID: clientID, connection: connection, ip: ip, userAgent: userAgent)
            return .failure(.tooManyAttempts)
        }
        let user: User? = if let connection, !identifier.isEmpty { try await store.user(connection: connection.name, email: identifier) } else { nil }
        let hash: String
        if let existing = user?.passwordHash { hash = existing } else { hash = try await timingHash() }
        var ahead: Task<PostLoginOutcome?, Never>?
        if let actionsContext, let user, let connection, user.passwordHash != nil, !user.blocked {
            ahead = Task { await self.runActionsAhead(user: user, connection: connection, context: actionsContext) }
        }
        let matches = await hasher.verify(password, hash: hash) && user?.passwordHash != nil
        guard let user, let connection, matches else {
            ahead?.cancel()
            try await log(
                .failedLogin, "Wrong email or password.", user: user, identifier: identifier, clientID: clientID, connection: connection, ip: ip,
                userAgent: userAgent)
            if protected {
                let count = try await store.recordLoginFailure(key: key, at: now, window: Self.bruteForceWindow)
                if count == bruteForceThreshold {
                    try await log(
                        .blockedAccount, "Blocked after \(count) failed login attempts from this IP", user: user, identifier: identifier,
                        clientID: clientID, connection: connection, ip: ip, userAgent: userAgent)
                    if let user { await notifyBlocked(user, ip: ip) }
                }
            }
            return .failure(.wrongCredentials)
        }
        if user.blocked {
            try await log(
                .failedLogin, "user is blocked", user: user, identifier: identifier, clientID: clientID, connection: connection, ip: ip,
                userAgent: userAgent)
            return .failure(.userBlocked)
        }
        if protected { try await store.clearLoginFailures(key: key) }
        return .success(Authentication(user: user, connection: connection, actionsRunAhead: ahead))
    }

    /// The bound post-login Actions run by `runner.runAhead`; nil when there are none to run, it declined, or the
    /// bindings could not be read (the normal run then reports that).
    func runActionsAhead(user: User, connection: Connection, context: PostLoginContext) async -> PostLoginOutcome? {
        guard let actions = try? await boundActions() else { return nil }
        if actions.isEmpty { return PostLoginOutcome() }
        guard let roles = try? await store.userRoles(userID: user.userID) else { return nil }
        return await runner.runAhead(
            event: postLoginEvent(user: user, connection: connection, context: context, roles: roles), actions: actions,
            timeLimit: Self.actionsRunAheadTimeLimit)
    }

    /// Emails the `blocked_account` template; its `url` is a password-change link, since a reset lifts the block.
    func notifyBlocked(_ user: User, ip: String?) async {
        do {
            try await resets.sendBlockedAccountEmail(to: user, ip: ip)
        } catch {
            logger.warning("Could not queue the blocked-account email", metadata: ["error": "\(error)"])
        }
    }

    // MARK: after the password check

    /// Runs the bound post-login Actions (or takes what they decided when run ahead, see `authenticate`), applies their
    /// metadata changes once, counts the login and logs it.
    public func finishLogin(user: User, connection: Connection, context: PostLoginContext, actionsRunAhead: Task<PostLoginOutcome?, Never>? = nil)
        async throws -> Result<CompletedLogin, LoginStop>
    {
        let client = context.client
        let ip = context.ip
        let userAgent = context.userAgent
        let outcome: PostLoginOutcome
        if let ranAhead = await actionsRunAhead?.value {
            outcome = ranAhead
        } else {
            let actions = try await boundActions()
            if actions.isEmpty {
                outcome = PostLoginOutcome()
            } else {
                let roles = try await store.userRoles(userID: user.userID)
                outcome = await runner.run(event: postLoginEvent(user: user, connection: connection, context: context, roles: roles), actions: actions)
            }
        }
        let now = clock.now
        let stop: LoginStop? = outcome.failure.map { .actionFailed($0) } ?? outcome.denied.map { .denied($0.reason) }
        let success = stop == nil
        var entry = LogEvent(
            date: now, type: success ? .successLogin : .failedLogin, description: success ? "Successful login" : Self.describe(stop!),
            clientID: client.clientID, clientName: client.name, ip: ip, userAgent: userAgent, userID: user.userID,
            userName: user.email, connection: connection.name, connectionID: connection.id)
        if !outcome.console.isEmpty || !outcome.durations.isEmpty {
            entry.details = [
                "actions": .object([
                    "executions": .array(outcome.durations.map { .object(["name": .string($0.action), "duration_us": .int(Int64($0.microseconds))]) }),
                    "logs": .array(outcome.console.prefix(100).map { .string("[\($0.actionName)] \($0.level): \($0.message.prefix(2_000))") }),
                ])
            ]
        }
        let logged = entry
        let changes = outcome
        let updated: User = try await store.transaction { tx in
            guard var fresh = try await tx.user(id: user.userID) else { throw UsherError.userNotFound }
            for (key, value) in changes.appMetadataChanges { fresh.appMetadata[key] = value == .null ? nil : value }
            for (key, value) in changes.userMetadataChanges { fresh.userMetadata[key] = value == .null ? nil : value }
            if success {
                fresh.loginsCount += 1
                fresh.lastLogin = now
                fresh.lastIP = ip
            }
            if fresh != user || success {
                fresh.updatedAt = now
                try await tx.updateUser(fresh)
            }
            try await tx.insertLogs([logged])
            return fresh
        }
        if let stop { return .failure(stop) }
        return .success(
            CompletedLogin(
                user: updated, idTokenClaims: Self.customClaims(outcome.idTokenClaims),
                accessTokenClaims: Self.customClaims(outcome.accessTokenClaims)))
    }

    static func describe(_ stop: LoginStop) -> String {
        switch stop {
        case .denied(let reason): "Denied by a post-login Action: \(reason)"
        case .actionFailed(let message): "A post-login Action failed: \(message)"
        }
    }

    /// Claims an Action may not set: registered JWT/OIDC claims and Auth0's namespace.
    static let reservedClaims: Set<String> = [
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "azp", "nonce", "auth_time", "at_hash", "c_hash", "acr", "amr", "sid", "scope", "gty",
        "permissions", "org_id", "org_name",
    ]

    static func customClaims(_ claims: JSONObject) -> JSONObject {
        JSONObject(
            claims.filter { !reservedClaims.contains($0.key) && !$0.key.hasPrefix("urn:auth0") && !$0.key.contains("auth0.com") }.map { ($0.key, $0.value) })
    }

    /// Auth0's post-login `event` (without `secrets`, which each Action gets on its own).
    func postLoginEvent(user: User, connection: Connection, context: PostLoginContext, roles: [Role]) -> JSONObject {
        let (client, flow, scope, audience) = (context.client, context.flow, context.scope, context.audience)
        let (redirectURI, state, ip, userAgent) = (context.redirectURI, context.state, context.ip, context.userAgent)
        var profile = user.managementJSON
        profile["logins_count"] = nil
        profile["last_login"] = nil
        profile["last_ip"] = nil
        var transaction: JSONObject = [
            "protocol": .string(flow), "requested_scopes": .array(scope.split(separator: " ").map { .string(String($0)) }),
            "locale": "en", "ui_locales": [],
        ]
        if let redirectURI { transaction["redirect_uri"] = .string(redirectURI) }
        if let state { transaction["state"] = .string(state) }
        var request: JSONObject = ["hostname": .string(URLComponents(string: issuer)?.host ?? ""), "method": "POST", "language": "en"]
        if let ip { request["ip"] = .string(ip) }
        if let userAgent { request["user_agent"] = .string(userAgent) }
        var event: JSONObject = [
            "user": .object(profile),
            "client": ["client_id": .string(client.clientID), "name": .string(client.name), "metadata": .object(client.clientMetadata)],
            "connection": ["id": .string(connection.id), "name": .string(connection.name), "strategy": .string(connection.strategy), "metadata": [:]],
            "request": .object(request),
            "stats": ["logins_count": .int(Int64(user.loginsCount + 1))],
            "transaction": .object(transaction),
            "tenant": ["id": .string(URLComponents(string: issuer)?.host ?? "usher")],
            "authorization": ["roles": .array(roles.map { .string($0.name) })],
        ]
        if let audience { event["resource_server"] = ["identifier": .string(audience)] }
        return event
    }

    // MARK: sessions

    /// A new session for `user`; returns the cookie value (the store keeps only its hash).
    public func createSession(for user: User, ip: String?, userAgent: String?) async throws -> String {
        let value = SecureRandom.token(byteCount: 32)
        let now = clock.now
        try await store.insertSession(
            LoginSession(
                idHash: SecureRandom.secretHash(value), userID: user.userID, createdAt: now, lastSeenAt: now,
                expiresAt: now.addingTimeInterval(lifetimes.session), ip: ip, userAgent: userAgent))
        return value
    }

    /// The signed-in user of a session cookie, if the session is alive and the user may still sign in.
    public func sessionUser(_ cookie: String?) async throws -> User? {
        guard let cookie, cookie.utf8.count == 43 else { return nil }
        let hash = SecureRandom.secretHash(cookie)
        guard let session = try await store.session(idHash: hash), session.revokedAt == nil else { return nil }
        let now = clock.now
        guard session.expiresAt > now, now.timeIntervalSince(session.lastSeenAt) < lifetimes.sessionIdle else { return nil }
        guard let user = try await store.user(id: session.userID), !user.blocked else { return nil }
        // A password reset revokes sessions; this also covers a session that was created before it.
        if let reset = user.lastPasswordReset, reset > session.createdAt { return nil }
        if now.timeIntervalSince(session.lastSeenAt) > 300 { try await store.touchSession(idHash: hash, at: now) }
        return user
    }

    public func endSession(_ cookie: String?) async throws {
        guard let cookie, cookie.utf8.count == 43 else { return }
        try await store.revokeSession(idHash: SecureRandom.secretHash(cookie), at: clock.now)
    }

    // MARK: authorization codes

    public func issueCode(for request: AuthorizationRequest, login: CompletedLogin) async throws -> String {
        let code = SecureRandom.token(byteCount: 32)
        let now = clock.now
        try await store.insertAuthorizationCode(
            AuthorizationCode(
                codeHash: SecureRandom.secretHash(code), clientID: request.clientID, userID: login.user.userID, redirectURI: request.redirectURI,
                scope: request.scope, audience: request.audience, nonce: request.nonce, codeChallenge: request.codeChallenge,
                codeChallengeMethod: request.codeChallengeMethod, idTokenClaims: login.idTokenClaims, accessTokenClaims: login.accessTokenClaims,
                createdAt: now, expiresAt: now.addingTimeInterval(lifetimes.authorizationCode)))
        return code
    }

    // MARK: /oauth/token

    /// Authenticates the client at the token endpoint: confidential clients by secret, public ones by id only.
    func authenticateClient(id: String?, secret: String?) async throws -> Client {
        guard let id, !id.isEmpty else { throw Self.oauth(.unauthorized, "invalid_client", "Missing required parameter: client_id") }
        let client = try await store.client(id: id)
        if client?.tokenEndpointAuthMethod == "none" {
            guard let client, secret == nil || secret == "" else { throw Self.oauth(.unauthorized, "invalid_client", "Client authentication failed") }
            return client
        }
        let matches = client?.verifySecret(secret ?? "") ?? SecureRandom.constantTimeEquals(SecureRandom.secretHash(secret ?? ""), "")
        guard let client, let secret, !secret.isEmpty, matches else {
            throw Self.oauth(.unauthorized, "invalid_client", "Client authentication failed")
        }
        return client
    }

    /// `grant_type=authorization_code`.
    public func exchangeCode(code: String?, redirectURI: String?, codeVerifier: String?, clientID: String?, clientSecret: String?) async throws -> UserTokens {
        let client = try await authenticateClient(id: clientID, secret: clientSecret)
        guard let code, !code.isEmpty else { throw Self.oauth(.invalidInput, "invalid_request", "Missing required parameter: code") }
        let hash = SecureRandom.secretHash(code)
        guard let stored = try await store.authorizationCode(hash: hash), stored.clientID == client.clientID else {
            throw Self.oauth(.forbidden, "invalid_grant", "Invalid authorization code")
        }
        if stored.usedAt != nil {
            // A replayed code: whoever holds it is not the client that first redeemed it; revoke what it produced.
            try await store.revokeRefreshTokens(codeHash: hash, at: clock.now)
            throw Self.oauth(.forbidden, "invalid_grant", "Invalid authorization code")
        }
        guard stored.expiresAt > clock.now else { throw Self.oauth(.forbidden, "invalid_grant", "Invalid authorization code (expired)") }
        guard redirectURI == stored.redirectURI else {
            throw Self.oauth(.forbidden, "invalid_grant", "redirect_uri does not match the one of the authorization request")
        }
        if let challenge = stored.codeChallenge {
            guard let codeVerifier, PKCE.isValidVerifier(codeVerifier), SecureRandom.constantTimeEquals(PKCE.challenge(for: codeVerifier), challenge) else {
                throw Self.oauth(.forbidden, "invalid_grant", "Failed to verify code verifier")
            }
        } else if codeVerifier != nil {
            throw Self.oauth(.forbidden, "invalid_grant", "code_verifier given but the authorization request had no code_challenge")
        }
        guard let redeemed = try await store.redeemAuthorizationCode(hash: hash, now: clock.now) else {
            try await store.revokeRefreshTokens(codeHash: hash, at: clock.now)
            throw Self.oauth(.forbidden, "invalid_grant", "Invalid authorization code")
        }
        guard let user = try await store.user(id: redeemed.userID), !user.blocked else {
            throw Self.oauth(.forbidden, "invalid_grant", "The user cannot sign in")
        }
        return try await issueTokens(
            user: user, client: client, scope: redeemed.scope, audience: redeemed.audience, nonce: redeemed.nonce,
            idClaims: redeemed.idTokenClaims, accessClaims: redeemed.accessTokenClaims, codeHash: hash, family: nil)
    }

    /// `grant_type=refresh_token`, with rotation and reuse detection.
    public func refresh(token: String?, clientID: String?, clientSecret: String?) async throws -> UserTokens {
        let client = try await authenticateClient(id: clientID, secret: clientSecret)
        guard let token, !token.isEmpty else { throw Self.oauth(.invalidInput, "invalid_request", "Missing required parameter: refresh_token") }
        let hash = SecureRandom.secretHash(token)
        let now = clock.now
        guard let record = try await store.refreshToken(hash: hash), record.clientID == client.clientID else {
            throw Self.oauth(.forbidden, "invalid_grant", "Unknown or invalid refresh token.")
        }
        if record.revokedAt != nil || record.expiresAt <= now { throw Self.oauth(.forbidden, "invalid_grant", "Unknown or invalid refresh token.") }
        guard record.rotatedAt == nil, try await store.rotateRefreshToken(hash: hash, now: now) else {
            // Reuse of a rotated token: it was stolen or replayed. End the whole family (the legitimate holder signs in again).
            try await store.revokeRefreshTokenFamily(familyID: record.familyID, at: now)
            try await store.insertLogs([
                LogEvent(
                    date: now, type: .failedLogin, description: "Refresh token reuse detected; the token family was revoked",
                    clientID: client.clientID, clientName: client.name, userID: record.userID)
            ])
            throw Self.oauth(.forbidden, "invalid_grant", "Unknown or invalid refresh token.")
        }
        guard let user = try await store.user(id: record.userID), !user.blocked else {
            throw Self.oauth(.forbidden, "invalid_grant", "The user cannot sign in")
        }
        return try await issueTokens(
            user: user, client: client, scope: record.scope, audience: record.audience, nonce: nil, idClaims: [:], accessClaims: [:],
            codeHash: record.codeHash, family: record.familyID)
    }

    /// Auth0's password-realm grant (`realm` = connection) and the plain `password` grant (default connection).
    public func passwordGrant(
        grantType: String, username: String?, password: String?, realm: String?, scope: String?, audience: String?,
        clientID: String?, clientSecret: String?, ip: String?, userAgent: String?
    ) async throws -> UserTokens {
        let client = try await authenticateClient(id: clientID, secret: clientSecret)
        guard client.grantTypes.contains(grantType) else {
            throw Self.oauth(.forbidden, "unauthorized_client", "Grant type '\(grantType)' not allowed for the client.")
        }
        guard let username, !username.isEmpty, let password, !password.isEmpty else {
            throw Self.oauth(.invalidInput, "invalid_request", "Missing required parameter: username and password")
        }
        if grantType == Self.passwordRealmGrant, realm?.isEmpty ?? true {
            throw Self.oauth(.invalidInput, "invalid_request", "Missing required parameter: realm")
        }
        if audience == managementAudience {
            throw Self.oauth(.forbidden, "access_denied", "Tokens for the Management API are issued to applications only (client credentials)")
        }
        let scope = scope.flatMap { $0.isEmpty ? nil : $0 } ?? "openid"
        let context = PostLoginContext(
            client: client, flow: "oauth2-password", scope: scope, audience: audience, redirectURI: nil, state: nil, ip: ip,
            userAgent: userAgent)
        switch try await authenticate(
            identifier: username, password: password, connection: realm, clientID: client.clientID, ip: ip, userAgent: userAgent,
            actionsContext: context)
        {
        case .failure(.wrongCredentials): throw Self.oauth(.forbidden, "invalid_grant", "Wrong email or password.")
        case .failure(.userBlocked): throw Self.oauth(.unauthorized, "unauthorized", "user is blocked")
        case .failure(.tooManyAttempts):
            throw Self.oauth(.rateLimited, "too_many_attempts", "Your account has been blocked after multiple consecutive login attempts.")
        case .success(let authentication):
            switch try await finishLogin(
                user: authentication.user, connection: authentication.connection, context: context,
                actionsRunAhead: authentication.actionsRunAhead)
            {
            case .failure(.denied(let reason)): throw Self.oauth(.forbidden, "access_denied", reason)
            case .failure(.actionFailed(let message)): throw Self.oauth(.forbidden, "access_denied", "The login failed in a post-login Action: \(message)")
            case .success(let login):
                return try await issueTokens(
                    user: login.user, client: client, scope: scope, audience: audience, nonce: nil, idClaims: login.idTokenClaims,
                    accessClaims: login.accessTokenClaims, codeHash: nil, family: nil)
            }
        }
    }

    /// `POST /oauth/revoke`: ends the refresh token's family. Answers the same whether or not the token existed.
    public func revoke(token: String?, clientID: String?, clientSecret: String?) async throws {
        let client = try await authenticateClient(id: clientID, secret: clientSecret)
        guard let token, !token.isEmpty else { throw Self.oauth(.invalidInput, "invalid_request", "Missing required parameter: token") }
        if let record = try await store.refreshToken(hash: SecureRandom.secretHash(token)), record.clientID == client.clientID {
            try await store.revokeRefreshTokenFamily(familyID: record.familyID, at: clock.now)
        }
    }

    func issueTokens(
        user: User, client: Client, scope: String, audience: String?, nonce: String?, idClaims: JSONObject, accessClaims: JSONObject,
        codeHash: String?, family: String?
    ) async throws -> UserTokens {
        let now = Int64(clock.now.timeIntervalSince1970)
        let scopes = Set(scope.split(separator: " ").map(String.init))
        var access: JSONObject = ["iss": .string(issuer), "sub": .string(user.userID)]
        var audiences: [JSONValue] = []
        if let audience { audiences.append(.string(audience)) }
        if scopes.contains("openid") { audiences.append(.string(issuer + "userinfo")) }
        access["aud"] = audiences.count == 1 ? audiences[0] : .array(audiences)
        access["iat"] = .int(now)
        access["exp"] = .int(now + Int64(lifetimes.accessToken))
        access["scope"] = .string(scope)
        access["azp"] = .string(client.clientID)
        access["jti"] = .string(SecureRandom.token(byteCount: 16))
        for (key, value) in accessClaims { access[key] = value }
        var tokens = UserTokens(
            accessToken: try await signer.sign(ClaimSet(access)), idToken: nil, refreshToken: nil,
            expiresIn: lifetimes.accessToken, scope: scope)
        if scopes.contains("openid") {
            var id: JSONObject = [
                "iss": .string(issuer), "sub": .string(user.userID), "aud": .string(client.clientID), "iat": .int(now),
                "exp": .int(now + Int64(lifetimes.idToken)),
            ]
            if let nonce { id["nonce"] = .string(nonce) }
            for (key, value) in Self.profileClaims(user, scopes: scopes) { id[key] = value }
            for (key, value) in idClaims { id[key] = value }
            tokens.idToken = try await signer.sign(ClaimSet(id))
        }
        if scopes.contains("offline_access") && client.grantTypes.contains("refresh_token") {
            let refresh = SecureRandom.token(byteCount: 32)
            let hash = SecureRandom.secretHash(refresh)
            try await store.insertRefreshToken(
                RefreshTokenRecord(
                    tokenHash: hash, familyID: family ?? hash, clientID: client.clientID, userID: user.userID, scope: scope, audience: audience,
                    codeHash: codeHash, createdAt: clock.now, expiresAt: clock.now.addingTimeInterval(lifetimes.refreshToken)))
            tokens.refreshToken = refresh
        }
        return tokens
    }

    /// OIDC standard claims for the granted scopes (`profile`, `email`).
    static func profileClaims(_ user: User, scopes: Set<String>) -> JSONObject {
        var claims = JSONObject()
        if scopes.contains("profile") {
            if let name = user.name { claims["name"] = .string(name) }
            if let nickname = user.nickname { claims["nickname"] = .string(nickname) }
            if let picture = user.picture { claims["picture"] = .string(picture) }
            if let given = user.givenName { claims["given_name"] = .string(given) }
            if let family = user.familyName { claims["family_name"] = .string(family) }
            claims["updated_at"] = .string(Timestamp.iso8601(user.updatedAt))
        }
        if scopes.contains("email"), let email = user.email {
            claims["email"] = .string(email)
            claims["email_verified"] = .bool(user.emailVerified)
        }
        return claims
    }

    /// `/userinfo`: the claims of the access token's user for its scopes.
    public func userinfo(accessToken: String) async throws -> JSONObject {
        guard let claims = try? await signer.verify(accessToken, as: ClaimSet.self), claims.issuer == issuer,
            let exp = claims.expiresAt, exp > Int64(clock.now.timeIntervalSince1970), claims.audiences.contains(issuer + "userinfo"),
            let subject = claims.subject, let user = try await store.user(id: subject), !user.blocked
        else {
            throw UsherError(.unauthorized, "Invalid token", errorCode: "invalid_token")
        }
        let scopes = Set((claims.claims["scope"]?.stringValue ?? "").split(separator: " ").map(String.init))
        var info: JSONObject = ["sub": .string(user.userID)]
        for (key, value) in Self.profileClaims(user, scopes: scopes) { info[key] = value }
        return info
    }

    // MARK: logs

    func log(
        _ type: LogEvent.EventType, _ description: String, user: User?, identifier: String, clientID: String?, connection: Connection?, ip: String?,
        userAgent: String?
    ) async throws {
        try await store.insertLogs([
            LogEvent(
                date: clock.now, type: type, description: description, clientID: clientID, ip: ip, userAgent: userAgent,
                userID: user?.userID, userName: identifier, connection: connection?.name, connectionID: connection?.id)
        ])
    }
}
