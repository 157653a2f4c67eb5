import Foundation

/// What a ticket lets its bearer do.
public enum TicketKind: String, Sendable, Equatable {
    /// Choose a new password (`/lo/reset`): invitations and resets.
    case passwordChange = "password_change"
    /// Confirm the email address (`/lo/verify_email`).
    case emailVerification = "email_verification"
}

/// A single-use link token: the bearer may perform one action for one user until it expires.
///
/// Only the SHA-256 of the token is stored, so a database dump yields no working links. A ticket is redeemed at
/// most once (an atomic conditional update), and a newer password-change ticket for the same user voids older
/// ones, as Auth0's "only the latest link works" rule requires.
public struct Ticket: Sendable, Equatable {
    /// `SecureRandom.secretHash` of the token in the link.
    public var tokenHash: String
    public var kind: TicketKind
    public var userID: String
    /// The application the link was issued for (its name appears on pages; its URLs bound `resultURL`).
    public var clientID: String?
    /// Where to send the person afterwards (already checked against the application's allowed URLs).
    public var resultURL: String?
    public var includeEmailInRedirect: Bool
    /// Set `email_verified` when the ticket is redeemed. True for links sent by email (following one proves the
    /// address), and when the Management API caller asked for it.
    public var markEmailVerified: Bool
    /// How the ticket came to be: `email` (sent by Usher) or `api` (returned to a Management API caller).
    public var origin: String
    public var createdAt: Date
    public var expiresAt: Date
    public var usedAt: Date?
    /// Set when a newer ticket replaced this one.
    public var voidedAt: Date?

    public init(
        tokenHash: String, kind: TicketKind, userID: String, clientID: String?, resultURL: String?, includeEmailInRedirect: Bool,
        markEmailVerified: Bool, origin: String, createdAt: Date, expiresAt: Date, usedAt: Date? = nil, voidedAt: Date? = nil
    ) {
        self.tokenHash = tokenHash
        self.kind = kind
        self.userID = userID
        self.clientID = clientID
        self.resultURL = resultURL
        self.includeEmailInRedirect = includeEmailInRedirect
        self.markEmailVerified = markEmailVerified
        self.origin = origin
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.voidedAt = voidedAt
    }

    /// A fresh token for a link: 40 alphanumerics (238 bits), URL-safe without encoding.
    public static func generateToken() -> String { SecureRandom.alphanumeric(40) }

    /// Whether a token could be one of ours, checked before any database work (tampered links fail fast).
    public static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 40 && token.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    /// Why a ticket cannot be used now, if it cannot.
    public func problem(at now: Date) -> TicketProblem? {
        if usedAt != nil { return .used }
        if voidedAt != nil { return .superseded }
        if expiresAt <= now { return .expired }
        return nil
    }
}

/// Why a link does not work; each has its own page.
public enum TicketProblem: String, Sendable, Equatable, Error {
    /// No ticket has this token (mistyped, tampered, or deleted with its user).
    case invalid
    case expired
    case used
    /// A newer link was sent; only the latest one works.
    case superseded
    /// The invitation the link carried was withdrawn by an administrator (no "send me a new link").
    case revoked
}
