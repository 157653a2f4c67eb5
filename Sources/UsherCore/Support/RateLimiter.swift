import Foundation
import Synchronization

/// Token buckets by key, in memory: `burst` requests at once, then one more every `refill` seconds.
///
/// Per instance: several Usher instances behind one load balancer each enforce the limit, so the effective limit
/// is up to N× higher. That keeps the request path free of database writes (the limit exists to stop floods).
public final class RateLimiter: Sendable {
    /// How a request fared.
    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        /// Requests left in the bucket after this one.
        public var remaining: Int
        /// When the bucket is next full (or when the next request is allowed, when refused).
        public var resetAt: Date
    }

    public let burst: Int
    public let refill: TimeInterval
    private let clock: any UsherClock
    private struct Bucket {
        var tokens: Double
        var updated: Date
    }
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Above this many keys, full buckets are dropped (they carry no information).
    private let maxKeys: Int

    public init(burst: Int, refill: TimeInterval, clock: any UsherClock, maxKeys: Int = 100_000) {
        self.burst = max(1, burst)
        self.refill = max(0.001, refill)
        self.clock = clock
        self.maxKeys = maxKeys
    }

    /// Takes one token for `key` if there is one.
    public func take(_ key: String) -> Decision {
        let now = clock.now
        let burst = Double(self.burst)
        let refill = self.refill
        let maxKeys = self.maxKeys
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = max(0, now.timeIntervalSince(bucket.updated))
            bucket.tokens = min(burst, bucket.tokens + elapsed / refill)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            buckets[key] = bucket
            if buckets.count > maxKeys {
                buckets = buckets.filter { _, b in b.tokens + max(0, now.timeIntervalSince(b.updated)) / refill < burst }
            }
            let untilNext = allowed ? (burst - bucket.tokens) * refill : (1 - bucket.tokens) * refill
            return Decision(allowed: allowed, remaining: Int(bucket.tokens), resetAt: now.addingTimeInterval(untilNext))
        }
    }
}
