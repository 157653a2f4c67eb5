import Crypto
import Foundation
import UsherJSON

/// A validated `/authorize` request, carried through the login page in a signed, expiring `state` value.
public struct AuthorizationRequest: Sendable, Equatable {
    public var clientID: String
    public var redirectURI: String
    public var scope: String
    public var state: String?
    public var nonce: String?
    public var codeChallenge: String?
    public var codeChallengeMethod: String?
    public var audience: String?
    public var prompt: String?
    public var loginHint: String?
    public var connection: String?

    public init(
        clientID: String, redirectURI: String, scope: String, state: String? = nil, nonce: String? = nil, codeChallenge: String? = nil,
        codeChallengeMethod: String? = nil, audience: String? = nil, prompt: String? = nil, loginHint: String? = nil, connection: String? = nil
    ) {
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.scope = scope
        self.state = state
        self.nonce = nonce
        self.codeChallenge = codeChallenge
        self.codeChallengeMethod = codeChallengeMethod
        self.audience = audience
        self.prompt = prompt
        self.loginHint = loginHint
        self.connection = connection
    }

    var json: JSONObject {
        var object: JSONObject = ["client_id": .string(clientID), "redirect_uri": .string(redirectURI), "scope": .string(scope)]
        func add(_ key: String, _ value: String?) { if let value { object[key] = .string(value) } }
        add("state", state)
        add("nonce", nonce)
        add("code_challenge", codeChallenge)
        add("code_challenge_method", codeChallengeMethod)
        add("audience", audience)
        add("prompt", prompt)
        add("login_hint", loginHint)
        add("connection", connection)
        return object
    }

    init?(json: JSONObject) {
        guard let clientID = json["client_id"]?.stringValue, let redirectURI = json["redirect_uri"]?.stringValue,
            let scope = json["scope"]?.stringValue
        else { return nil }
        self.init(
            clientID: clientID, redirectURI: redirectURI, scope: scope, state: json["state"]?.stringValue, nonce: json["nonce"]?.stringValue,
            codeChallenge: json["code_challenge"]?.stringValue, codeChallengeMethod: json["code_challenge_method"]?.stringValue,
            audience: json["audience"]?.stringValue, prompt: json["prompt"]?.stringValue, loginHint: json["login_hint"]?.stringValue,
            connection: json["connection"]?.stringValue)
    }

    public var scopes: [String] { scope.split(separator: " ").map(String.init) }

    /// `redirect_uri?code=…&state=…` or `?error=…&error_description=…&state=…`.
    public func redirect(_ parameters: [(String, String)]) -> String {
        var all = parameters
        if let state { all.append(("state", state)) }
        return TicketService.appending(all, to: redirectURI)
    }
}

/// Why `/authorize` cannot continue: either a page (the redirect URI cannot be trusted) or a redirect back to
/// the application with an OAuth error.
public enum AuthorizeProblem: Error, Sendable, Equatable {
    case page(title: String, message: String)
    case redirect(String)
}

/// PKCE (RFC 7636) with S256 only: `plain` would hand the verifier to whoever sees the front channel.
public enum PKCE {
    public static func challenge(for verifier: String) -> String {
        Base64URL.encode(SHA256.hash(data: Data(verifier.utf8)))
    }

    /// RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`.
    public static func isValidVerifier(_ verifier: String) -> Bool {
        (43...128).contains(verifier.utf8.count)
            && verifier.utf8.allSatisfy {
                (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || [0x2D, 0x2E, 0x5F, 0x7E].contains($0)
            }
    }
}
