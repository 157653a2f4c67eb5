/// # UsherTesting
///
/// Test doubles for the domain's seams: an in-memory store (`InMemoryUsherStore`), a clock tests can move (`FakeClock`), a fast
/// password hasher (`PlainTextPasswordHasher`) and a mail transport that records and scripts deliveries
/// (`RecordingMailTransport`). One file per type.
/// Never linked into the `usher` binary.
public enum UsherTestingModule {}
