import HummingbirdBcrypt
import NIOPosix
import UsherCore

/// bcrypt on NIO's blocking thread pool: a cost-10 hash takes ~50 ms of CPU and must never run on an event loop.
public struct BcryptPasswordHasher: PasswordHasher {
    let cost: UInt8

    public init(cost: Int) { self.cost = UInt8(clamping: cost) }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async -> Bool {
        (try? await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }) ?? false
    }
}
