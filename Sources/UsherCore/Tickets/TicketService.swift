import Foundation
import UsherJSON

/// The Management API's tickets (`/api/v2/tickets/*`): links returned to the caller, nothing sent. Issuing and
/// the result-URL policy are `LinkIssuer`'s; this reads and validates the request bodies. Also the URL matching
/// every redirect check shares.
public struct TicketService: Sendable {
    let store: any UsherStore
    let links: LinkIssuer

    public init(store: any UsherStore, links: LinkIssuer) {
        self.store = store
        self.links = links
    }

    /// Auth0's default ticket lifetime when `ttl_sec` is 0 or absent: five days.
    public static let defaultLifetime = 432_000
    /// Usher's upper bound on a ticket's lifetime: a year (Auth0 documents none; an unbounded one is a standing key).
    public static let maximumLifetime = 31_536_000

    /// Stores an API ticket (its own write) and returns its link.
    private func issue(
        kind: TicketKind, userID: String, clientID: String?, resultURL: String?, includeEmailInRedirect: Bool,
        markEmailVerified: Bool, lifetime: Int
    ) async throws -> String {
        let prepared = links.prepareTicket(
            kind: kind, userID: userID, clientID: clientID, resultURL: resultURL,
            includeEmailInRedirect: includeEmailInRedirect, markEmailVerified: markEmailVerified, lifetime: lifetime,
            origin: "api")
        try await links.write([prepared], in: store)
        return prepared.link
    }

    static let passwordChangeFields: Set<String> = [
        "result_url", "user_id", "client_id", "organization_id", "connection_id", "email", "ttl_sec", "mark_email_as_verified",
        "includeEmailInRedirect", "identity",
    ]

    /// `POST /api/v2/tickets/password-change`: returns the link; sends nothing.
    public func createPasswordChangeTicket(_ body: JSONObject) async throws -> String {
        let reader = try PayloadReader(body, allowed: Self.passwordChangeFields)
        let user = try await ticketUser(reader, allowEmail: true)
        let (clientID, resultURL) = try await destination(reader)
        let ttl = try lifetime(reader)
        return try await issue(
            kind: .passwordChange, userID: user.userID, clientID: clientID, resultURL: resultURL,
            includeEmailInRedirect: try reader.bool("includeEmailInRedirect").value ?? true,
            markEmailVerified: try reader.bool("mark_email_as_verified").value ?? false, lifetime: ttl)
    }

    static let verificationFields: Set<String> = ["result_url", "user_id", "client_id", "organization_id", "ttl_sec", "includeEmailInRedirect", "identity"]

    /// `POST /api/v2/tickets/email-verification`.
    public func createEmailVerificationTicket(_ body: JSONObject) async throws -> String {
        let reader = try PayloadReader(body, allowed: Self.verificationFields)
        guard reader.has("user_id") else { throw UsherError.invalidBody("'Missing required property: user_id'.") }
        if reader.has("result_url") && reader.has("client_id") {
            throw UsherError.invalidBody("'result_url is not allowed together with client_id'.")
        }
        let user = try await ticketUser(reader, allowEmail: false)
        let (clientID, resultURL) = try await destination(reader)
        return try await issue(
            kind: .emailVerification, userID: user.userID, clientID: clientID, resultURL: resultURL,
            includeEmailInRedirect: try reader.bool("includeEmailInRedirect").value ?? true, markEmailVerified: true,
            lifetime: try lifetime(reader))
    }

    private func ticketUser(_ reader: PayloadReader, allowEmail: Bool) async throws -> User {
        if reader.has("organization_id") {
            throw UsherError.invalidBody("'Usher has no organizations; organization_id is not supported' on property organization_id.")
        }
        if let identity = try reader.object("identity").value {
            guard identity["provider"]?.stringValue == "auth0", identity["user_id"]?.stringValue != nil else {
                throw UsherError.invalidBody("'identity needs user_id and provider \"auth0\" (Usher has database users only)' on property identity.")
            }
        }
        let userID = try reader.string("user_id", minLength: 1, maxLength: 300).value
        let email = allowEmail ? try reader.string("email", maxLength: 254).value : nil
        let connectionID = allowEmail ? try reader.string("connection_id", maxLength: 64).value : nil
        if let userID {
            if email != nil || connectionID != nil {
                throw UsherError.invalidBody("'user_id cannot be combined with email or connection_id'.")
            }
            guard let user = try await store.user(id: userID) else { throw UsherError.userNotFound }
            return user
        }
        guard let email, let connectionID else {
            throw UsherError.invalidBody("'Missing required property: user_id (or email together with connection_id)'.")
        }
        guard let connection = try await store.connection(id: connectionID) else { throw UsherError.connectionNotFound }
        guard let user = try await store.user(connection: connection.name, email: try UserValidation.normalizedEmail(email)) else {
            throw UsherError.userNotFound
        }
        return user
    }

    private func destination(_ reader: PayloadReader) async throws -> (clientID: String?, resultURL: String?) {
        var client: Client?
        if let clientID = try reader.string("client_id", minLength: 1, maxLength: 64).value {
            guard let found = try await store.client(id: clientID) else { throw UsherError.clientNotFound }
            client = found
        }
        let resultURL = try reader.string("result_url", maxLength: 2_048).value
        if let resultURL {
            try await links.checkResultURL(resultURL, client: client, property: "result_url")
        }
        return (client?.clientID, resultURL)
    }

    private func lifetime(_ reader: PayloadReader) throws -> Int {
        guard let ttl = try reader.integer("ttl_sec", range: 0...Int64(Self.maximumLifetime)).value, ttl > 0 else { return Self.defaultLifetime }
        return Int(ttl)
    }

    // MARK: result URLs

    /// Whether `url` (its query may differ) matches an allowed URL of one of `clients`: same scheme, host, port
    /// and path. No wildcards: a redirect target is exact.
    public static func isAllowed(_ url: String, by clients: [Client]) -> Bool {
        guard let key = comparisonKey(url) else { return false }
        for client in clients {
            for allowed in client.callbacks + client.allowedLogoutURLs + (client.initiateLoginURI.map { [$0] } ?? []) {
                if comparisonKey(allowed) == key { return true }
            }
        }
        return false
    }

    /// Whether two URLs name the same scheme, host, port and path.
    public static func comparisonKeyMatches(_ a: String, _ b: String) -> Bool {
        guard let x = comparisonKey(a) else { return false }
        return x == comparisonKey(b)
    }

    static func comparisonKey(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host?.lowercased(), !host.isEmpty, components.user == nil, components.password == nil
        else { return nil }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        var path = components.percentEncodedPath
        if path.isEmpty { path = "/" }
        return "\(scheme)://\(host):\(port)\(path)"
    }

    /// `url` with `parameters` added to its query (before any fragment, as Auth0 does for `#/route` SPAs).
    public static func appending(_ parameters: [(String, String)], to url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        var items = components.queryItems ?? []
        items.append(contentsOf: parameters.map { URLQueryItem(name: $0.0, value: $0.1) })
        components.queryItems = items
        // URLComponents leaves `+` alone in queries; encode it so form decoders do not read a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.string ?? url
    }
}
