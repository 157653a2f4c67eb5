import Hummingbird
import NIOCore
import UsherCore

/// Refuses every form (POST) of the hosted pages whose `_csrf` field is not the MAC of the browser's CSRF cookie,
/// before its handler runs; a new form route is covered without asking.
///
/// The body is read here and handed on buffered, so the handler reads the same fields again.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = UsherRequestContext
    let pages: HostedPagesController

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        let bytes = try await HTTPInput.bytes(of: request)
        let fields = try HTTPInput.fields(bytes: bytes, contentType: request.headers[.contentType])
        guard pages.csrfValid(request, field: fields["_csrf"]) else { throw HostedPageError.forgedForm(fields: fields) }
        var request = request
        request.body = RequestBody(buffer: ByteBuffer(bytes: bytes))
        return try await next(request, context)
    }
}
