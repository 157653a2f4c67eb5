import Hummingbird
import NIOCore
import UsherCore

/// Per-request state carried from middleware to handlers.
public struct UsherRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer.
    public let remoteAddress: SocketAddress?
    /// The client's address: the peer, or the `X-Forwarded-For` entry a trusted proxy vouches for.
    public var clientAddress: String?
    /// Claims of the verified Management API token, once `ManagementAPIController` has checked it.
    public var accessToken: AccessTokenClaims?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        let remoteAddress = source.channel.remoteAddress
        self.remoteAddress = remoteAddress
        // Formatting the address costs a little on every request; `RequestObservationMiddleware` sets it.
        self.clientAddress = nil
    }

    /// Bodies above this are refused with 413 (Auth0's Management API limit is 1 MB).
    public var maxUploadSize: Int { HTTPInput.maximumBodyBytes }
}
