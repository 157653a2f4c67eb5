import Hummingbird
import Logging
import UsherCore
import UsherJSON

/// The one place an error becomes a status code and a body.
///
/// Management API errors use Auth0's `{statusCode, error, message, errorCode}`; Authentication API (OAuth)
/// errors use `{error, error_description}`. Anything that is not an `UsherError` is a bug or an outage: it is
/// logged with the request id and answered with a generic 500 that reveals nothing.
public struct APIErrorMiddleware: RouterMiddleware {
    public typealias Context = UsherRequestContext

    public enum Style: Sendable { case management, oauth }
    let style: Style

    public init(style: Style) { self.style = style }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as UsherError {
            return render(error)
        } catch let error as HTTPError {
            // Hummingbird's own errors (unsupported method, body too large …), reshaped.
            let kind: UsherError.Kind = switch error.status.code {
            case 413: .payloadTooLarge
            case 404: .notFound
            case 401: .unauthorized
            default: .invalidInput
            }
            return render(UsherError(kind, error.body ?? error.status.reasonPhrase), status: error.status)
        } catch {
            context.logger.error("Unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return render(UsherError(.internalFailure, "Internal Server Error"))
        }
    }

    static func status(for kind: UsherError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalidInput: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .rateLimited: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .internalFailure: .internalServerError
        }
    }

    func render(_ error: UsherError, status explicit: HTTPResponse.Status? = nil) -> Response {
        let status = explicit ?? Self.status(for: error.kind)
        var headers: HTTPFields = [:]
        if status == .unauthorized, style == .management { headers[.wwwAuthenticate] = "Bearer" }
        switch style {
        case .management:
            var body: JSONObject = [
                "statusCode": .int(Int64(status.code)),
                "error": .string(status.reasonPhrase),
                "message": .string(error.message),
            ]
            if let code = error.errorCode { body["errorCode"] = .string(code) }
            if status == .unauthorized { body["attributes"] = ["error": .string(error.message)] }
            return HTTPOutput.json(body, status: status, headers: headers)
        case .oauth:
            let code = error.errorCode ?? Self.oauthCode(for: error.kind)
            return HTTPOutput.json(["error": .string(code), "error_description": .string(error.message)], status: status, headers: headers)
        }
    }

    static func oauthCode(for kind: UsherError.Kind) -> String {
        switch kind {
        case .invalidInput: "invalid_request"
        case .unauthorized, .forbidden: "access_denied"
        case .rateLimited: "too_many_requests"
        case .notFound: "not_found"
        default: "server_error"
        }
    }
}
