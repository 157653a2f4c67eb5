/// # UsherCore
///
/// The identity domain: users, applications (clients), connections, machine tokens, password hashing, errors,
/// clock and randomness. It owns the rules (what a valid user is, how metadata merges, which scopes a route
/// needs) and talks to storage only through the store protocols in `Storage/`.
///
/// It imports no HTTP framework and no database driver: `UsherHTTP` and `UsherStorage` adapt to it, and
/// `UsherApp` wires them together.
public enum UsherCoreModule {}
