/// # UsherApp
///
/// The composition root: reads configuration, opens the database, runs migrations and bootstrap, builds the
/// domain services and the HTTP application. `usher serve`, the CLI commands and the HTTP tests all start
/// Usher through `UsherServer`, so what is tested is what runs.
public enum UsherAppModule {}
