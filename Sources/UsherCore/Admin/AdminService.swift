import Foundation
import Logging
import Synchronization

/// Dashboard administrators: creating them, signing them in with brute-force protection, and their sessions
/// with idle and absolute timeouts.
///
/// Everything lives in the database (accounts, hashed session ids, failure counters), so any instance sharing it
/// honours a session another instance opened and counts failures made at another.
public final class AdminService: Sendable {
    public typealias Store = any AdminStore & LoginStore

    /// How long a dashboard session lasts: `idle` without a request, `absolute` however busy.
    public struct Lifetimes: Sendable, Equatable {
        public var idle: TimeInterval = 30 * 60
        public var absolute: TimeInterval = 12 * 3_600
        public init() {}
    }

    /// Failed sign-ins for one address from one IP before that pair is refused for `bruteForceWindow`.
    public static let bruteForceThreshold = 10
    public static let bruteForceWindow: TimeInterval = 15 * 60
    /// Shortest administrator password; the longest is bcrypt's 72 bytes.
    public static let minimumPasswordLength = 12

    let store: Store
    let hasher: any PasswordHasher
    let clock: any UsherClock
    let logger: Logger
    public let lifetimes: Lifetimes
    private let dummyHash = Mutex<String?>(nil)

    public init(
        store: Store, hasher: any PasswordHasher, clock: any UsherClock, lifetimes: Lifetimes = Lifetimes(), logger: Logger = Logger(label: "usher.admin")
    ) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.lifetimes = lifetimes
        self.logger = logger
    }

    /// Why a sign-in was refused. Both say the same to the browser, so a page never tells whether an address
    /// belongs to an administrator.
    public enum SignInFailure: Error, Sendable, Equatable {
        case wrongCredentials
        case tooManyAttempts
    }

    /// A new administrator. The email must look like one and be free; the password must be 12 to 72 bytes.
    @discardableResult
    public func create(email rawEmail: String, password: String, rights: AdminRights) async throws -> AdminAccount {
        let email = try UserValidation.normalizedEmail(rawEmail.trimmingCharacters(in: .whitespaces))
        guard password.count >= Self.minimumPasswordLength else {
            throw UsherError.invalidBody("An administrator's password needs at least \(Self.minimumPasswordLength) characters.")
        }
        guard password.utf8.count <= 72 else { throw UsherError.invalidBody("An administrator's password can be at most 72 bytes long.") }
        let admin = AdminAccount(
            id: "adm_" + SecureRandom.token(byteCount: 12), email: email, passwordHash: try await hasher.hash(password), scopes: rights.scopes,
            createdAt: clock.now)
        try await store.insertAdmin(admin)
        return admin
    }

    /// Creates a full administrator from `USHER_BOOTSTRAP_ADMIN_EMAIL`/`_PASSWORD` unless one has that email;
    /// returns whether it did. An existing account is left as it is (its password may have been changed since).
    public func bootstrap(email: String, password: String) async throws -> Bool {
        guard try await store.admin(email: email.trimmingCharacters(in: .whitespaces).lowercased()) == nil else { return false }
        do {
            try await create(email: email, password: password, rights: .full)
            return true
        } catch let error as UsherError where error == .adminExists {
            return false  // another instance bootstrapped it at the same moment
        }
    }

    func bruteForceKey(_ email: String, ip: String?) -> String { "admin|" + email + "|" + (ip ?? "-") }

    /// Checks an administrator's password and opens a session; returns the session cookie's value (only its
    /// hash is stored). An unknown address costs the same bcrypt work as a known one.
    public func signIn(email rawEmail: String, password: String, ip: String?, userAgent: String?) async throws -> Result<
        (cookie: String, admin: AdminAccount), SignInFailure
    > {
        let email = rawEmail.trimmingCharacters(in: .whitespaces).lowercased()
        let key = bruteForceKey(email, ip: ip)
        let now = clock.now
        if try await store.loginFailures(key: key, at: now, window: Self.bruteForceWindow) >= Self.bruteForceThreshold {
            logger.warning("Dashboard sign-in refused: too many failures for this address from this IP", metadata: ["ip": "\(ip ?? "-")"])
            return .failure(.tooManyAttempts)
        }
        let found = email.isEmpty ? nil : try await store.admin(email: email)
        let hash: String
        if let found { hash = found.passwordHash } else { hash = try await timingHash() }
        guard var admin = found, await hasher.verify(password, hash: hash) else {
            _ = try await store.recordLoginFailure(key: key, at: now, window: Self.bruteForceWindow)
            logger.notice("Dashboard sign-in failed", metadata: ["ip": "\(ip ?? "-")"])
            return .failure(.wrongCredentials)
        }
        try await store.clearLoginFailures(key: key)
        let cookie = SecureRandom.token(byteCount: 32)
        try await store.insertSession(
            LoginSession(
                idHash: SecureRandom.secretHash(cookie), userID: admin.id, createdAt: now, lastSeenAt: now,
                expiresAt: now.addingTimeInterval(lifetimes.absolute), ip: ip, userAgent: userAgent))
        admin.lastLoginAt = now
        try await store.updateAdmin(admin)
        logger.info("Dashboard sign-in", metadata: ["admin": "\(admin.id)", "ip": "\(ip ?? "-")"])
        return .success((cookie, admin))
    }

    /// The administrator a session cookie belongs to, while the session is neither revoked, past its absolute
    /// end, nor idle for longer than `lifetimes.idle`. A live session's last-seen time is written at most once a
    /// minute, so browsing costs reads, not writes.
    public func signedIn(cookie: String?) async throws -> AdminAccount? {
        guard let cookie, cookie.utf8.count == 43 else { return nil }
        let hash = SecureRandom.secretHash(cookie)
        guard let session = try await store.session(idHash: hash), session.revokedAt == nil, session.userID.hasPrefix("adm_") else { return nil }
        let now = clock.now
        guard session.expiresAt > now, now.timeIntervalSince(session.lastSeenAt) < lifetimes.idle else { return nil }
        guard let admin = try await store.admin(id: session.userID) else { return nil }
        if now.timeIntervalSince(session.lastSeenAt) >= 60 { try await store.touchSession(idHash: hash, at: now) }
        return admin
    }

    /// Ends the session of a cookie (sign-out); a cookie without a session is ignored.
    public func signOut(cookie: String?) async throws {
        guard let cookie, cookie.utf8.count == 43 else { return }
        try await store.revokeSession(idHash: SecureRandom.secretHash(cookie), at: clock.now)
    }

    public func list() async throws -> [AdminAccount] { try await store.listAdmins() }

    private func timingHash() async throws -> String {
        if let hash = dummyHash.withLock({ $0 }) { return hash }
        let hash = try await hasher.hash(SecureRandom.token(byteCount: 16))
        dummyHash.withLock { $0 = hash }
        return hash
    }
}
