/// The domain services an entry point (HTTP, CLI) calls; built by `UsherApp`.
public struct UsherServices: Sendable {
    public var store: any UsherStore
    public var users: UserService
    public var clients: ClientService
    public var machineTokens: MachineTokenService
    public var signer: TokenSigner
    public var publicURL: String

    public init(store: any UsherStore, users: UserService, clients: ClientService, machineTokens: MachineTokenService, signer: TokenSigner, publicURL: String) {
        self.store = store
        self.users = users
        self.clients = clients
        self.machineTokens = machineTokens
        self.signer = signer
        self.publicURL = publicURL
    }
}

