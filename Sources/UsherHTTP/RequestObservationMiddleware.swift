import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import UsherCore

/// Resolves the client address, logs one line per request and records Prometheus metrics.
///
/// Logs carry the route pattern, never the raw query string, so e-mail addresses and tickets in URLs stay out
/// of the log.
public struct RequestObservationMiddleware: RouterMiddleware {
    public typealias Context = UsherRequestContext

    let trustedProxies: TrustedProxies
    let requests: PrometheusCollectorRegistry

    public init(trustedProxies: TrustedProxies, registry: PrometheusCollectorRegistry) {
        self.trustedProxies = trustedProxies
        self.requests = registry
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
            let labels = [("method", request.method.rawValue), ("route", route), ("status", String(status))]
            requests.makeCounter(name: "usher_http_requests_total", labels: labels).increment()
            requests.makeDurationHistogram(
                name: "usher_http_request_duration_seconds", labels: [("method", request.method.rawValue), ("route", route)],
                buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5)]
            ).recordNanoseconds(elapsed.nanoseconds)
            context.logger.info(
                "request",
                metadata: [
                    "method": "\(request.method.rawValue)", "route": "\(route)", "status": "\(status)",
                    "ms": "\(elapsed.nanoseconds / 1_000_000)", "client": "\(context.clientAddress ?? "-")",
                ])
        }
        let response = try await next(request, context)
        status = response.status.code
        return response
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
