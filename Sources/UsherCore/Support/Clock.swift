import Foundation

/// The source of "now" for every expiry and timestamp in the domain.
///
/// Injected so that tests advance a fake clock instead of sleeping.
public protocol UsherClock: Sendable {
    var now: Date { get }
}

/// Wall-clock time.
public struct SystemClock: UsherClock {
    public init() {}
    public var now: Date { Date() }
}
