import Hummingbird
import Logging
import Prometheus
import Synchronization
import UsherCore
import UsherJSON

/// `/health` for load balancers and `/metrics` for Prometheus.
public struct OperationsController: Sendable {
    let store: any UsherStore
    let registry: PrometheusCollectorRegistry
    let passwordResets: PasswordResetService?

    public init(store: any UsherStore, registry: PrometheusCollectorRegistry, passwordResets: PasswordResetService? = nil) {
        self.store = store
        self.registry = registry
        self.passwordResets = passwordResets
    }

    public func register(on router: Router<UsherRequestContext>) {
        let store = self.store
        let registry = self.registry
        router.group().add(middleware: APIErrorMiddleware(style: .health)).get("health") { _, context -> Response in
            do {
                try await store.ping()
            } catch {
                context.logger.error("Health check: database unreachable", metadata: ["error": "\(error)"])
                throw UsherError(.unavailable, "database unreachable")
            }
            return HTTPOutput.json(["status": "ok", "database": "ok"])
        }
        let resetQueueDepth = registry.makeGauge(
            name: "usher_password_reset_queue_depth", help: "Password reset requests accepted and waiting for the worker")
        let resetsProcessed = registry.makeCounter(
            name: "usher_password_reset_requests_processed_total", help: "Password reset requests processed since start-up")
        let reportedProcessed = Atomic<Int>(0)
        let resets = passwordResets
        router.get("metrics") { _, _ -> Response in
            // Sampled when scraped: the domain keeps plain counters and knows nothing of Prometheus.
            if let resets {
                resetQueueDepth.set(Double(resets.queue.count))
                let processed = resets.processedRequests
                resetsProcessed.increment(by: Int64(processed - reportedProcessed.exchange(processed, ordering: .relaxed)))
            }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(4096)
            registry.emit(into: &buffer)
            return HTTPOutput.text(String(decoding: buffer, as: UTF8.self), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }
}
