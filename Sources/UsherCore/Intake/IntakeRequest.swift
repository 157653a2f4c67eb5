import Foundation
import UsherJSON

/// Which kind of work an intake request asks for; each kind has one processor (its flow's service).
public struct IntakeKind: RawRepresentable, Hashable, Sendable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// `POST /dbconnections/change_password` and the hosted page's "send me a new link".
    public static let passwordChange = IntakeKind(rawValue: "change_password")
}

/// A request Usher answered "we sent you an email" for, written to the database before that answer.
///
/// The answer must not wait for the work (looking the address up would reveal whether it exists, in content or in
/// time), yet the caller was promised an email: so the request itself is made durable first (see `IntakeWriter`)
/// and processed afterwards by whichever instance holds its lease. A crash between the answer and the processing
/// leaves the row, which another worker (or the restarted one) claims once the lease runs out.
public struct IntakeRequest: Sendable, Equatable {
    public var id: String
    public var kind: IntakeKind
    /// The request's fields, as its flow encodes them.
    public var payload: JSONObject
    public var receivedAt: Date

    public init(id: String = "inq_" + SecureRandom.hex(byteCount: 12), kind: IntakeKind, payload: JSONObject, receivedAt: Date) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.receivedAt = receivedAt
    }
}

/// Persistence of accepted requests until they are processed.
///
/// A row is leased to one worker at a time. `completeIntake` deletes only rows still leased to the caller, inside the
/// caller's transaction, so of two workers that both processed a request (the first was slow and its lease ran out)
/// exactly one commits its outcome: the other's transaction finds nothing to delete and writes nothing.
public protocol IntakeStore: Sendable {
    /// Writes `requests`, all or none, leased to `worker` until `leaseUntil` (the writer hands them straight to its
    /// own worker without a claim), or unleased when `worker` is nil.
    func insertIntake(_ requests: [IntakeRequest], worker: String?, leaseUntil: Date) async throws
    /// Atomically takes up to `limit` requests of `kind` that are unleased or whose lease ended by `now`, oldest
    /// first, leasing them to `worker` until `leaseUntil`. Concurrent claimers never get the same request.
    func claimIntake(kind: IntakeKind, worker: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [IntakeRequest]
    /// Deletes the requests among `ids` still leased to `worker` and returns their ids; call it inside the
    /// transaction that writes their outcome.
    func completeIntake(ids: [String], worker: String) async throws -> Set<String>
    /// Requests of `kind` not yet processed (leased or not).
    func intakeCount(kind: IntakeKind) async throws -> Int
}
