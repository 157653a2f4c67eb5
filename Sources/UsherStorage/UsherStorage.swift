/// # UsherStorage
///
/// Persistence for the domain's store protocols on SQLite (the embedded default) and PostgreSQL (shared by
/// several instances), through one SQLKit code path: the same queries, schema and migrations on both; only
/// opening the database and recognising a unique-key violation differ per driver.
public enum UsherStorageModule {}
