/// The one error type the domain throws.
///
/// `UsherHTTP` maps `kind` to an HTTP status and renders Auth0's error body
/// (`statusCode`, `error`, `message`, `errorCode`); nothing else chooses status codes.
public struct UsherError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, at the granularity an HTTP status needs.
    public enum Kind: Sendable, Equatable {
        case invalidInput
        case unauthorized
        case forbidden
        case notFound
        case conflict
        case payloadTooLarge
        case rateLimited
        case unavailable
        case internalFailure
    }

    public var kind: Kind
    /// Human-readable text, safe to show to the caller (never contains secrets).
    public var message: String
    /// Auth0's machine-readable code (`invalid_body`, `inexistent_user`, `insufficient_scope` …), if any.
    public var errorCode: String?

    public init(_ kind: Kind, _ message: String, errorCode: String? = nil) {
        self.kind = kind
        self.message = message
        self.errorCode = errorCode
    }

    public var description: String { "\(kind): \(message)" }

    // MARK: Auth0's common errors, so the wording lives in one place

    /// A request body that fails validation; Auth0 prefixes these with "Payload validation error".
    public static func invalidBody(_ detail: String) -> UsherError {
        UsherError(.invalidInput, "Payload validation error: \(detail)", errorCode: "invalid_body")
    }

    /// A query string that fails validation.
    public static func invalidQuery(_ detail: String) -> UsherError {
        UsherError(.invalidInput, detail, errorCode: "invalid_query_string")
    }

    public static let userNotFound = UsherError(.notFound, "The user does not exist.", errorCode: "inexistent_user")
    public static let userExists = UsherError(.conflict, "The user already exists.", errorCode: "auth0_idp_error")
    public static let adminExists = UsherError(.conflict, "An administrator with this email already exists.", errorCode: "admin_exists")
    public static let clientNotFound = UsherError(.notFound, "The client does not exist", errorCode: "inexistent_client")
    public static let connectionNotFound = UsherError(.notFound, "The connection does not exist", errorCode: "inexistent_connection")
    public static let invalidToken = UsherError(.unauthorized, "Invalid token", errorCode: nil)
    public static let expiredToken = UsherError(.unauthorized, "Expired token received for JSON Web Token validation", errorCode: nil)
    public static let missingToken = UsherError(.unauthorized, "Missing authentication", errorCode: nil)

    public static func insufficientScope(_ anyOf: [String]) -> UsherError {
        UsherError(.forbidden, "Insufficient scope, expected any of: \(anyOf.joined(separator: ","))", errorCode: "insufficient_scope")
    }
}
