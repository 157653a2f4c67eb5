/// # UsherCore
///
/// The identity domain: users, applications (clients), connections, machine tokens, password hashing, errors,
/// clock and randomness. It owns the rules (what a valid user is, how metadata merges, which scopes a route
/// needs) and talks to storage only through the store protocols in `Storage/`.
///
/// It imports no HTTP framework and no database driver: `UsherHTTP` and `UsherStorage` adapt to it, and
/// `UsherApp` wires them together.
///
/// ## Self-service flows
///
/// The link-email flows are shaped like Ory Kratos's self-service flows, each folder holding the same files:
/// `XFlow.swift` for the flow's request, state and outcome types, `XService.swift` for its behaviour. They are
/// `PasswordReset/`, `Verification/` and `Invitations/`. What they share lives in `Tickets/`: `Ticket.swift`
/// and `TicketStore.swift` (the single-use link and its persistence), `LinkIssuer.swift` (a ticket with its
/// email, and the one result-URL policy), `TicketRedeemer.swift` (opening, redeeming and the success redirect)
/// and `TicketService.swift` (the Management API's tickets).
public enum UsherCoreModule {}
