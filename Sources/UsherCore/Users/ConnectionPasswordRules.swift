/// Applies a connection's password policy (`options.passwordPolicy` and friends) to a new password.
///
/// History: Usher does not keep old hashes yet, so with `password_history` enabled the only earlier password it
/// can compare against is the current one. Full history arrives with the reset flow's storage.
public struct ConnectionPasswordRules: PasswordRulesValidator {
    let hasher: any PasswordHasher

    public init(hasher: any PasswordHasher) { self.hasher = hasher }

    public func validate(password: String, for user: User, connection: Connection) async throws {
        let policy = PasswordPolicy(connectionOptions: connection.options)
        let currentHash = user.passwordHash
        let hasher = self.hasher
        do {
            try await policy.validate(password: password, user: PasswordUserInfo(userJSON: user.managementJSON)) { candidate in
                guard let currentHash else { return false }
                return await hasher.verify(candidate, hash: currentHash)
            }
        } catch {
            throw UsherError(.invalidInput, error.description, errorCode: "invalid_body")
        }
    }
}
