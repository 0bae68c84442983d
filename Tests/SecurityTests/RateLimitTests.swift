import Testing
@testable import Security

@Suite struct RateLimitTests {
    /// 3 tokens, refilled at one per second.
    let three = RateLimit(capacity: 3, period: .seconds(3))

    @Test func aFullBucketGrantsItsCapacityThenRefusesWithRetryAfter() {
        var bucket = TokenBucket(limit: three, now: 100)
        #expect(bucket.tokens == 3)
        for _ in 0..<3 { #expect(bucket.take(now: 100) == .granted) }
        #expect(bucket.take(now: 100) == .refused(retryAfter: 1))
        #expect(bucket.take(now: 100.25) == .refused(retryAfter: 0.75))
        // A refusal takes nothing: the token arrives when promised.
        #expect(bucket.take(now: 101) == .granted)
        #expect(bucket.take(now: 101) == .refused(retryAfter: 1))
    }

    @Test func tokensRefillEvenlyUpToTheCapacity() {
        var bucket = TokenBucket(limit: three, now: 0)
        for _ in 0..<3 { _ = bucket.take(now: 0) }
        #expect(bucket.tokens(at: 2) == 2)
        #expect(bucket.tokens(at: 1_000) == 3)
        // After a long pause only the capacity is available, not the time's worth.
        for _ in 0..<3 { #expect(bucket.take(now: 1_000) == .granted) }
        #expect(bucket.take(now: 1_000) != .granted)
    }

    @Test func fractionalRefill() {
        // 2 per 10 s: a token every 5 s, 0.2 per second.
        var bucket = TokenBucket(limit: RateLimit(capacity: 2, period: .seconds(10)), now: 0)
        #expect(bucket.take(now: 0) == .granted)
        #expect(bucket.take(now: 0) == .granted)
        #expect(abs(bucket.tokens(at: 2.5) - 0.5) < 1e-9)
        guard case .refused(let wait) = bucket.take(now: 2.5) else {
            Issue.record("half a token must not be granted")
            return
        }
        #expect(abs(wait - 2.5) < 1e-9)
        #expect(abs(bucket.tokens - 0.5) < 1e-9)
        #expect(bucket.take(now: 5) == .granted)
        #expect(abs(bucket.tokens) < 1e-9)
        // Sub-second periods: 5 per 500 ms is one every 100 ms.
        var fast = TokenBucket(limit: RateLimit(capacity: 5, period: .milliseconds(500)), now: 0)
        for _ in 0..<5 { _ = fast.take(now: 0) }
        guard case .refused(let fastWait) = fast.take(now: 0.05) else {
            Issue.record("the bucket is empty")
            return
        }
        #expect(abs(fastWait - 0.05) < 1e-9)
    }

    @Test func aClockThatStepsBackRefillsNothing() {
        var bucket = TokenBucket(limit: three, now: 50)
        for _ in 0..<3 { _ = bucket.take(now: 50) }
        #expect(bucket.take(now: 10) == .refused(retryAfter: 1))
        #expect(bucket.take(now: 51) == .granted)
    }

    @Test func keysHaveTheirOwnBuckets() {
        var limiter = RateLimiter()
        let one = RateLimit(capacity: 1, period: .seconds(60))
        #expect(limiter.take(key: "user:alice|sql.query", limit: one, now: 0) == .granted)
        #expect(limiter.take(key: "user:alice|sql.query", limit: one, now: 1) == .refused(retryAfter: 59))
        #expect(limiter.take(key: "user:bob|sql.query", limit: one, now: 1) == .granted)
        #expect(limiter.take(key: "user:alice|email.send", limit: one, now: 1) == .granted)
        #expect(limiter.count == 3)
        #expect(limiter.take(key: "user:alice|sql.query", limit: one, now: 60) == .granted)
    }

    @Test func aChangedLimitIsAdoptedKeepingTheTokensLeft() {
        var limiter = RateLimiter()
        let ten = RateLimit(capacity: 10, period: .seconds(10))
        for _ in 0..<8 { _ = limiter.take(key: "k", limit: ten, now: 0) }
        // 2 left; the new limit allows 5, so the 2 carry over, not a fresh 5.
        let five = RateLimit(capacity: 5, period: .seconds(10))
        #expect(limiter.take(key: "k", limit: five, now: 0) == .granted)
        #expect(limiter.take(key: "k", limit: five, now: 0) == .granted)
        #expect(limiter.take(key: "k", limit: five, now: 0) == .refused(retryAfter: 2))
    }

    @Test func pruningForgetsOnlyFullBuckets() {
        var limiter = RateLimiter()
        let limit = RateLimit(capacity: 2, period: .seconds(10))
        _ = limiter.take(key: "idle", limit: limit, now: 0)
        _ = limiter.take(key: "busy", limit: limit, now: 9)
        limiter.prune(now: 10)
        #expect(limiter.count == 1)
        // The busy key kept its state: one token taken at 9, 0.2 refilled by 10.
        _ = limiter.take(key: "busy", limit: limit, now: 10)
        guard case .refused = limiter.take(key: "busy", limit: limit, now: 10) else {
            Issue.record("the busy bucket must have kept its spent token")
            return
        }
    }

    @Test func durations() {
        #expect(DurationText.parse("500ms") == .milliseconds(500))
        #expect(DurationText.parse("1s") == .seconds(1))
        #expect(DurationText.parse("1m") == .seconds(60))
        #expect(DurationText.parse("2h") == .seconds(7_200))
        #expect(DurationText.parse("1d") == .seconds(86_400))
        for bad in ["", "1", "m", "1.5s", "0s", "-1s", "1 m", "1M", "1w", "99999999999999999999s"] {
            #expect(DurationText.parse(bad) == nil, "\(bad)")
        }
        #expect(RateLimit(capacity: 30, period: .seconds(60)).description == "30 per 1m")
        #expect(RateLimit(capacity: 5, period: .milliseconds(1_500)).description == "5 per 1500ms")
        #expect(RateLimit(capacity: 5, period: .seconds(90)).description == "5 per 90s")
    }
}
