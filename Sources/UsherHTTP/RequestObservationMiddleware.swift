import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import Synchronization
import UsherCore

/// Resolves the client address, logs one line per request and records Prometheus metrics.
///
/// Logs carry the route pattern, never the raw query string, so e-mail addresses and tickets in URLs stay out
/// of the log.
public struct RequestObservationMiddleware: RouterMiddleware {
    public typealias Context = UsherRequestContext

    let trustedProxies: TrustedProxies
    let metrics: RequestMetrics

    public init(trustedProxies: TrustedProxies, registry: PrometheusCollectorRegistry) {
        self.trustedProxies = trustedProxies
        self.metrics = RequestMetrics(registry: registry)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.clientAddress = trustedProxies.clientAddress(
            peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[values: .xForwardedFor])
        let start = ContinuousClock.now
        var status = 500
        defer {
            let elapsed = ContinuousClock.now - start
            let route = context.endpointPath ?? "unmatched"
            let handles = metrics.handles(method: request.method, route: route, status: status)
            handles.requests.increment()
            handles.duration.recordNanoseconds(elapsed.nanoseconds)
            context.logger.info(
                "request",
                metadata: [
                    "method": "\(request.method.rawValue)", "route": "\(route)", "status": "\(status)",
                    "ms": "\(elapsed.nanoseconds / 1_000_000)", "client": "\(context.clientAddress ?? "-")",
                ])
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            // Thrown answers (an unmatched route's 404 among them) are counted under their real status.
            status = error.status.code
            throw error
        }
    }
}

/// The Prometheus objects for each (method, route, status), made once. Asking the registry on every request built
/// label arrays and a status string and looked them up under the registry's lock.
final class RequestMetrics: Sendable {
    struct Key: Hashable {
        let method: HTTPRequest.Method
        let route: String
        let status: Int
    }

    struct Handles: Sendable {
        let requests: Counter
        let duration: DurationHistogram
    }

    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5)]

    let registry: PrometheusCollectorRegistry
    private let cache = Mutex<[Key: Handles]>([:])

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func handles(method: HTTPRequest.Method, route: String, status: Int) -> Handles {
        let key = Key(method: method, route: route, status: status)
        if let handles = cache.withLock({ $0[key] }) { return handles }
        // Routes are patterns (or "unmatched") and statuses few, so the cache stays small.
        let handles = Handles(
            requests: registry.makeCounter(
                name: "usher_http_requests_total", labels: [("method", method.rawValue), ("route", route), ("status", String(status))]),
            duration: registry.makeDurationHistogram(
                name: "usher_http_request_duration_seconds", labels: [("method", method.rawValue), ("route", route)], buckets: Self.buckets))
        cache.withLock { $0[key] = handles }
        return handles
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Headers every response carries: no sniffing, no framing, no referrer leaks, no caching of API answers.
public struct SecurityHeadersMiddleware: RouterMiddleware {
    public typealias Context = UsherRequestContext
    let isHTTPS: Bool

    public init(isHTTPS: Bool) { self.isHTTPS = isHTTPS }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if isHTTPS { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        return response
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let strictTransportSecurity = Self("Strict-Transport-Security")!
    static let pragma = Self("Pragma")!
}
