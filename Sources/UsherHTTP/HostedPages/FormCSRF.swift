import Hummingbird
import UsherCore

/// CSRF protection for Usher's server-rendered forms (hosted pages and the dashboard): a random `SameSite=Strict`
/// cookie and, in each form, its MAC under the instance secret for one `purpose`. Any instance sharing the
/// database (and so the secret) can check a form another rendered; a token made for one purpose is refused by
/// the other.
struct FormCSRF: Sendable {
    static let cookieName = "usher_csrf"
    let signer: TokenSigner
    let isHTTPS: Bool
    let purpose: String

    /// The browser's CSRF cookie value, if it has a well-formed one.
    static func cookieValue(_ request: Request) -> String? {
        guard let value = request.cookies[cookieName]?.value,
            value.count == 43, value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        else { return nil }
        return value
    }

    /// A CSRF session for a page: the cookie to (re)set and the token for the form.
    func token(for request: Request) -> (cookie: String, token: String) {
        let value = Self.cookieValue(request) ?? SecureRandom.token(byteCount: 32)
        return (value, signer.pageMAC(value, purpose: purpose))
    }

    func isValid(_ request: Request, field: String?) -> Bool {
        guard let cookie = Self.cookieValue(request), let field, !field.isEmpty else { return false }
        return SecureRandom.constantTimeEquals(field, signer.pageMAC(cookie, purpose: purpose))
    }

    /// `SameSite=Strict`: a form is only ever posted from Usher's own page, so no other site's request needs it.
    func cookie(_ value: String) -> Cookie {
        Cookie(name: Self.cookieName, value: value, path: "/", secure: isHTTPS, httpOnly: true, sameSite: .strict)
    }
}

/// Refuses every form (POST) whose `_csrf` field is not valid for the browser's CSRF cookie, before its handler
/// runs; a new form route is covered without asking. `forged` makes the error its controller renders.
///
/// The body is read here and handed on buffered, so the handler reads the same fields again.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = UsherRequestContext
    let csrf: FormCSRF
    let forged: @Sendable (_ fields: [String: String]) -> any Error

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        let bytes = try await HTTPInput.bytes(of: request)
        let fields = try HTTPInput.fields(bytes: bytes, contentType: request.headers[.contentType])
        guard csrf.isValid(request, field: fields["_csrf"]) else { throw forged(fields) }
        var request = request
        request.body = RequestBody(buffer: ByteBuffer(bytes: bytes))
        return try await next(request, context)
    }
}
