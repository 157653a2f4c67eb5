import Foundation

/// Persistence of tickets.
public protocol TicketStore: Sendable {
    func insertTicket(_ ticket: Ticket) async throws
    func ticket(tokenHash: String) async throws -> Ticket?
    /// Marks the ticket used if it is unused, not voided and not expired at `now`; returns whether this call did it.
    /// Exactly one of any number of concurrent callers gets `true`.
    func redeemTicket(tokenHash: String, now: Date) async throws -> Bool
    /// Voids the user's unused tickets of `kind`, except `keeping`; returns how many.
    @discardableResult
    func voidTickets(userID: String, kind: TicketKind, keeping: String?, now: Date) async throws -> Int
    /// Deletes tickets that expired before `before` (housekeeping); returns how many.
    @discardableResult
    func deleteExpiredTickets(before: Date) async throws -> Int
    /// Stores `tickets` as the only usable ones of their kind for their users: every other unused ticket of the
    /// same user and kind is voided at `now`, earlier tickets in this list included (the last one per user and
    /// kind wins). "A newer link voids older ones", for a whole batch of reset requests at once.
    func issueTickets(_ tickets: [Ticket], now: Date) async throws
}

extension TicketStore {
    /// One ticket after another (stores that cannot do better; SQL stores write the batch in a few statements).
    public func issueTickets(_ tickets: [Ticket], now: Date) async throws {
        for ticket in tickets {
            try await voidTickets(userID: ticket.userID, kind: ticket.kind, keeping: nil, now: now)
            try await insertTicket(ticket)
        }
    }

    /// `tickets` with every ticket but the last per (user, kind) already voided at `now`.
    public static func supersedingWithinBatch(_ tickets: [Ticket], now: Date) -> [Ticket] {
        var last: [String: Int] = [:]
        for (index, ticket) in tickets.enumerated() { last[ticket.userID + "\u{0}" + ticket.kind.rawValue] = index }
        return tickets.enumerated().map { index, ticket in
            var ticket = ticket
            if last[ticket.userID + "\u{0}" + ticket.kind.rawValue] != index, ticket.voidedAt == nil { ticket.voidedAt = now }
            return ticket
        }
    }
}
