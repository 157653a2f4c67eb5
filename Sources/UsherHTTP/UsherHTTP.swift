/// # UsherHTTP
///
/// Usher's HTTP surface on Hummingbird 2: the Auth0-compatible Management API (`/api/v2`), the Authentication
/// API (`/oauth/token`, JWKS), health and metrics, plus the middleware every request passes through (client
/// address, request log, metrics, security headers). Controllers decode input, call one domain service and
/// encode the answer; `UsherError` becomes an Auth0-shaped body in exactly one place (`APIErrorMiddleware`).
public enum UsherHTTPModule {}
