import Hummingbird
import UsherCore

/// One Management API route: where it lives, which scopes admit a caller (any one of them), and what it does.
///
/// Routes are data so that the scope check cannot be forgotten (every route is registered through
/// `ManagementAPIController.register`, which puts the check in front of it) and so that tests can walk the whole table.
public struct ManagementRoute: Sendable {
    public let method: HTTPRequest.Method
    /// Path below `/api/v2`, with Hummingbird parameters (`users/:id`).
    public let path: String
    public let scopes: [String]
    let handler: @Sendable (Request, UsherRequestContext) async throws -> Response
}

/// The routes of one Management API resource (users, clients …), each resource in its own file.
protocol ManagementRouteCollection {
    var routes: [ManagementRoute] { get }
}
