import Foundation
import UsherJSON

/// A "send me a reset link" request, as received; processed off the request path.
public struct PasswordResetRequest: Sendable, Equatable {
    public var email: String
    public var connection: String
    public var clientID: String?
    public var ip: String?
    public var userAgent: String?
    public var language: String?

    public init(email: String, connection: String, clientID: String?, ip: String?, userAgent: String?, language: String?) {
        self.email = email
        self.connection = connection
        self.clientID = clientID
        self.ip = ip
        self.userAgent = userAgent
        self.language = language
    }

    /// The request as its intake row stores it (`IntakeRequest.payload`).
    public var payload: JSONObject {
        var object: JSONObject = ["email": .string(email), "connection": .string(connection)]
        for (key, value) in [("client_id", clientID), ("ip", ip), ("user_agent", userAgent), ("language", language)] {
            if let value { object[key] = .string(value) }
        }
        return object
    }

    /// The request an intake row holds; nil when the row is not one (written by a newer or broken writer).
    public init?(payload: JSONObject) {
        guard let email = payload["email"]?.stringValue, let connection = payload["connection"]?.stringValue else { return nil }
        self.init(
            email: email, connection: connection, clientID: payload["client_id"]?.stringValue, ip: payload["ip"]?.stringValue,
            userAgent: payload["user_agent"]?.stringValue, language: payload["language"]?.stringValue)
    }
}

/// What the hosted reset page needs to show a usable ticket.
public struct ResetPageState: Sendable {
    public var ticket: Ticket
    public var user: User
    public var policy: PasswordPolicy
    public var client: Client?
}

/// Why setting a password did not happen.
public enum PasswordResetFailure: Error, Sendable, Equatable {
    /// The link cannot be used (its own page, with "send me a new link").
    case ticket(TicketProblem)
    case passwordMissing
    case passwordMismatch
    case policy(PasswordPolicyError)
    /// The ticket's result URL is no longer allowed for its application; nothing was changed.
    case resultURLNotAllowed(String)
}

/// What happens after the password was set.
public struct PasswordResetOutcome: Sendable, Equatable {
    /// Where to send the browser (`result_url?success=true&message=…[&email=…]`), or nil for Usher's success page.
    public var redirectURL: String?
    public var user: User
    public var clientName: String?
    /// The application's login page, for the success page's link.
    public var loginURL: String?
}
