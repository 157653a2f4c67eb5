/// Applies a connection's password policy (`options.passwordPolicy` and friends) to a new password.
///
/// History compares the candidate with the user's last N password hashes (`password_history` table, newest
/// first, the current one included), with bcrypt: the slowest check, so it runs last.
public struct ConnectionPasswordRules: PasswordRulesValidator {
    let hasher: any PasswordHasher
    let history: (any PasswordHistoryStore)?

    public init(hasher: any PasswordHasher, history: (any PasswordHistoryStore)? = nil) {
        self.hasher = hasher
        self.history = history
    }

    public func validate(password: String, for user: User, connection: Connection) async throws {
        let policy = PasswordPolicy(connectionOptions: connection.options)
        do {
            try await Self.check(password, policy: policy, user: user, hasher: hasher, history: history)
        } catch {
            throw UsherError(.invalidInput, error.description, errorCode: "invalid_body")
        }
    }

    /// The policy's checks, history included, with the policy's own error.
    public static func check(
        _ password: String, policy: PasswordPolicy, user: User, hasher: any PasswordHasher,
        history: (any PasswordHistoryStore)?
    ) async throws(PasswordPolicyError) {
        var previous: [String] = []
        if policy.history.enabled && policy.history.size > 0 {
            previous = (try? await history?.passwordHistory(userID: user.userID, limit: policy.history.size)) ?? []
            if let current = user.passwordHash, !previous.contains(current) { previous.insert(current, at: 0) }
            previous = Array(previous.prefix(policy.history.size))
        }
        let hashes = previous
        try await policy.validate(password: password, user: PasswordUserInfo(userJSON: user.managementJSON)) { candidate in
            for hash in hashes where await hasher.verify(candidate, hash: hash) { return true }
            return false
        }
    }
}
