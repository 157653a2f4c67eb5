import UsherCore

/// A reversible stand-in for bcrypt, so domain tests do not spend 50 ms per hash. Never use outside tests.
public struct PlainTextPasswordHasher: PasswordHasher {
    public init() {}
    public func hash(_ password: String) async throws -> String { "plain:" + password }
    public func verify(_ password: String, hash: String) async -> Bool { hash == "plain:" + password }
}
