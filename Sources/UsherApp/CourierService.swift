import ServiceLifecycle
import UsherCore

/// The courier as a swift-service-lifecycle service: stops claiming on graceful shutdown, finishes what it holds.
public struct CourierService: Service {
    public let courier: Courier
    let transport: ConfiguredMailTransport

    public init(courier: Courier, transport: ConfiguredMailTransport) {
        self.courier = courier
        self.transport = transport
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await courier.run() }
        await transport.shutdown()
    }
}
