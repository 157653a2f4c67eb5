/// Hashes and verifies passwords. The implementation (bcrypt) runs off the request threads.
public protocol PasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, hash: String) async -> Bool
}
