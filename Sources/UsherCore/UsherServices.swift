import Foundation

/// The domain services an entry point (HTTP, CLI) calls; built by `UsherApp`.
public struct UsherServices: Sendable {
    public var store: any UsherStore
    public var users: UserService
    public var clients: ClientService
    public var machineTokens: MachineTokenService
    public var signer: TokenSigner
    public var publicURL: String
    /// Email provider, outbox and development mailbox.
    public var mail: MailService

    /// `mail` defaults to a service on `store` with the system clock that assumes the development mailbox.
    public init(store: any UsherStore, users: UserService, clients: ClientService, machineTokens: MachineTokenService, signer: TokenSigner, publicURL: String,
                mail: MailService? = nil) {
        self.store = store
        self.users = users
        self.clients = clients
        self.machineTokens = machineTokens
        self.signer = signer
        self.publicURL = publicURL
        self.mail = mail ?? MailService(store: store, clock: SystemClock(), messageIDDomain: URLComponents(string: publicURL)?.host ?? "localhost",
                                        usesDevelopmentMailbox: true)
    }
}

