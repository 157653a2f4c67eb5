import Foundation

/// A ticket found by its token, with the user it was issued for.
public struct OpenedTicket: Sendable, Equatable {
    public var ticket: Ticket
    public var user: User

    public init(ticket: Ticket, user: User) {
        self.ticket = ticket
        self.user = user
    }
}

/// Opens and redeems the tickets behind `/lo/reset` and `/lo/verify_email` links, and builds where a redeemed one
/// sends the person.
///
/// Opening never consumes a ticket: mail scanners follow links before people do, so only a POST from the page
/// redeems, and redeeming is a conditional update that exactly one of any number of racing submissions wins.
public struct TicketRedeemer: Sendable {
    let store: any UsherStore
    let clock: any UsherClock

    public init(store: any UsherStore, clock: any UsherClock) {
        self.store = store
        self.clock = clock
    }

    /// The ticket and its user if the link is of `kind` and usable now. A token that is malformed, unknown, of
    /// another kind or whose user is gone is `.invalid`, decided before any database work when malformed.
    public func open(token: String, kind: TicketKind) async throws -> Result<OpenedTicket, TicketProblem> {
        guard let opened = try await owner(token: token), opened.ticket.kind == kind else { return .failure(.invalid) }
        if let problem = opened.ticket.problem(at: clock.now) { return .failure(problem) }
        return .success(opened)
    }

    /// The ticket and the user it was issued for, whatever its kind and state (for "send me a new link" on an
    /// expired page, and for logging a failed use).
    public func owner(token: String) async throws -> OpenedTicket? {
        guard Ticket.isWellFormed(token), let ticket = try await store.ticket(tokenHash: SecureRandom.secretHash(token)),
            let user = try await store.user(id: ticket.userID)
        else { return nil }
        return OpenedTicket(ticket: ticket, user: user)
    }

    /// Redeems `ticket` in `store` (the caller's transaction, which then changes the user) and returns the user as
    /// stored now, re-read because the profile may have changed since the page was opened. Nil when another
    /// submission won the race, the ticket stopped being usable, or the user is gone.
    public func redeem(_ ticket: Ticket, in store: any UsherStore, now: Date) async throws -> User? {
        guard try await store.redeemTicket(tokenHash: ticket.tokenHash, now: now) else { return nil }
        return try await store.user(id: ticket.userID)
    }

    /// Why `ticket` could not be redeemed after all: what it is now (used, superseded or expired meanwhile).
    public func problemAfterFailedRedeem(_ ticket: Ticket) async throws -> TicketProblem {
        (try await store.ticket(tokenHash: ticket.tokenHash))?.problem(at: clock.now) ?? .used
    }

    /// Where a redeemed ticket sends the browser: `result_url?success=true&message=…[&extra…][&email=…]`, or nil
    /// when it has no result URL (Usher's own success page). The email is added only when the ticket asked for it.
    public static func successRedirect(for ticket: Ticket, email: String?, message: String, extra: [(String, String)] = []) -> String? {
        guard let resultURL = ticket.resultURL else { return nil }
        var parameters = [("success", "true"), ("message", message)] + extra
        if ticket.includeEmailInRedirect, let email { parameters.append(("email", email)) }
        return TicketService.appending(parameters, to: resultURL)
    }
}
