import Hummingbird
import Logging
import Prometheus
import UsherCore

/// `/health` for load balancers and `/metrics` for Prometheus.
public struct OperationsController: Sendable {
    let store: any UsherStore
    let registry: PrometheusCollectorRegistry

    public init(store: any UsherStore, registry: PrometheusCollectorRegistry) {
        self.store = store
        self.registry = registry
    }

    public func register(on router: Router<UsherRequestContext>) {
        let store = self.store
        let registry = self.registry
        router.get("health") { _, context -> Response in
            do {
                try await store.ping()
                return HTTPOutput.json(["status": "ok", "database": "ok"])
            } catch {
                context.logger.error("Health check: database unreachable", metadata: ["error": "\(error)"])
                return HTTPOutput.json(["status": "unavailable", "database": "unreachable"], status: .serviceUnavailable)
            }
        }
        router.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(4096)
            registry.emit(into: &buffer)
            return HTTPOutput.text(String(decoding: buffer, as: UTF8.self), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }
}
