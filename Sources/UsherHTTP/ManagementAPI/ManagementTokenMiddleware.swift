import Hummingbird
import UsherCore

/// Verifies the Management API bearer token and hands its claims to the route: a missing, malformed, badly
/// signed or expired token never reaches a handler.
struct ManagementTokenMiddleware: RouterMiddleware {
    typealias Context = UsherRequestContext
    let tokens: MachineTokenService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { throw UsherError.missingToken }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw UsherError.invalidToken }
        var context = context
        // No trimming: `split` already dropped the separator, and Foundation's trimming of an 800-byte token
        // was the single largest cost of a GET in the profile.
        context.accessToken = try await tokens.verifyManagementToken(String(parts[1]))
        return try await next(request, context)
    }
}

/// Admits a caller whose token holds any one of a route's scopes; runs after `ManagementTokenMiddleware`.
struct RequiredScopesMiddleware: RouterMiddleware {
    typealias Context = UsherRequestContext
    let scopes: [String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.accessToken?.hasAnyScope(of: scopes) == true else { throw UsherError.insufficientScope(scopes) }
        return try await next(request, context)
    }
}
