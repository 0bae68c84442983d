/// At most `capacity` calls in a burst; the tokens refill evenly over `period`.
///
/// `RateLimit(capacity: 30, period: .seconds(60))` allows 30 calls at once, then one every two seconds.
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    public var capacity: Int
    public var period: Duration

    public init(capacity: Int, period: Duration) {
        self.capacity = capacity
        self.period = period
    }

    /// Tokens added per second.
    public var refillPerSecond: Double {
        let (seconds, attoseconds) = period.components
        let total = Double(seconds) + Double(attoseconds) / 1e18
        return total > 0 ? Double(capacity) / total : .infinity
    }

    public var description: String { "\(capacity) per \(DurationText.format(period))" }
}

/// A token bucket: a pure state machine that is told the time, so it can be tested without a clock.
///
/// ```swift
/// var bucket = TokenBucket(limit: RateLimit(capacity: 2, period: .seconds(10)), now: 0)
/// bucket.take(now: 0)    // .granted
/// bucket.take(now: 0)    // .granted
/// bucket.take(now: 1)    // .refused(retryAfter: 4): one token takes 5 s to refill
/// ```
public struct TokenBucket: Sendable {
    public enum Outcome: Sendable, Equatable {
        case granted
        /// No token is left; one will be in `retryAfter` seconds.
        case refused(retryAfter: Double)
    }

    public let limit: RateLimit
    private var stored: Double
    private var updatedAt: Double

    /// A full bucket at `now` (seconds on any monotonic scale the caller keeps using).
    public init(limit: RateLimit, now: Double) {
        self.init(limit: limit, tokens: Double(max(0, limit.capacity)), now: now)
    }

    init(limit: RateLimit, tokens: Double, now: Double) {
        self.limit = limit
        stored = min(tokens, Double(max(0, limit.capacity)))
        updatedAt = now
    }

    /// The tokens left as of the last `take` (refill is applied when time is next given).
    public var tokens: Double { stored }

    /// The tokens there would be at `now`.
    public func tokens(at now: Double) -> Double {
        // A clock that stepped back refills nothing rather than taking tokens away.
        let elapsed = max(0, now - updatedAt)
        return min(Double(max(0, limit.capacity)), stored + elapsed * limit.refillPerSecond)
    }

    /// Takes one token if there is one.
    public mutating func take(now: Double) -> Outcome {
        stored = tokens(at: now)
        updatedAt = max(updatedAt, now)
        if stored >= 1 {
            stored -= 1
            return .granted
        }
        let rate = limit.refillPerSecond
        guard rate > 0, rate.isFinite else { return .refused(retryAfter: .infinity) }
        return .refused(retryAfter: (1 - stored) / rate)
    }
}

/// One token bucket per key, e.g. `"user:alice|sql.query"`. A value type: keep it in an actor.
public struct RateLimiter: Sendable {
    private var buckets: [String: TokenBucket] = [:]

    public init() {}

    /// Takes a token from `key`'s bucket, creating it full on first use. When the limit for a key
    /// changes (a policy was reloaded), the bucket adopts it and keeps the tokens it had, up to the new capacity.
    public mutating func take(key: String, limit: RateLimit, now: Double) -> TokenBucket.Outcome {
        var bucket = buckets[key] ?? TokenBucket(limit: limit, now: now)
        if bucket.limit != limit {
            bucket = TokenBucket(limit: limit, tokens: bucket.tokens(at: now), now: now)
        }
        let outcome = bucket.take(now: now)
        buckets[key] = bucket
        return outcome
    }

    /// The number of keys with a bucket.
    public var count: Int { buckets.count }

    /// Forgets buckets that are full again at `now`: a new full bucket behaves the same, and memory stays bounded.
    public mutating func prune(now: Double) {
        buckets = buckets.filter { $0.value.tokens(at: now) < Double($0.value.limit.capacity) }
    }
}

/// Durations as policies write them: a whole number and a unit, `500ms`, `1s`, `1m`, `1h`, `1d`.
enum DurationText {
    static func parse(_ text: String) -> Duration? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = Int64(digits), value > 0 else { return nil }
        switch text.dropFirst(digits.count) {
        case "ms": return .milliseconds(value)
        case "s": return .seconds(value)
        case "m": return value <= Int64.max / 60 ? .seconds(value * 60) : nil
        case "h": return value <= Int64.max / 3_600 ? .seconds(value * 3_600) : nil
        case "d": return value <= Int64.max / 86_400 ? .seconds(value * 86_400) : nil
        default: return nil
        }
    }

    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds != 0 || seconds == 0 { return "\(seconds * 1_000 + attoseconds / 1_000_000_000_000_000)ms" }
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60)] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
