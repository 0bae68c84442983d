import Agents
import Testing

@Suite struct RetryPolicyTests {
    private func failure(_ kind: String = "http_500", retryable: Bool = true, retryAfter: Double? = nil) -> ProviderError {
        ProviderError(kind: kind, message: "failed", status: 500, retryAfter: retryAfter, retryable: retryable)
    }

    @Test func backoffDoublesFromHalfASecond() {
        let policy = RetryPolicy()
        #expect(policy.delay(afterAttempt: 1, error: failure()) == .milliseconds(500))
        #expect(policy.delay(afterAttempt: 2, error: failure()) == .seconds(1))
        #expect(policy.delay(afterAttempt: 3, error: failure()) == .seconds(2))
    }

    @Test func attemptsAreLimited() {
        let policy = RetryPolicy()
        #expect(policy.delay(afterAttempt: 4, error: failure()) == nil)
        #expect(RetryPolicy(maxAttempts: 1).delay(afterAttempt: 1, error: failure()) == nil)
    }

    @Test func errorsThatAreNotRetryableAreNot() {
        #expect(RetryPolicy().delay(afterAttempt: 1, error: failure("http_400", retryable: false)) == nil)
    }

    @Test func delayIsCappedAtMaxDelay() {
        let policy = RetryPolicy(maxAttempts: 20, initialDelay: .seconds(1), multiplier: 10, maxDelay: .seconds(30))
        #expect(policy.delay(afterAttempt: 5, error: failure()) == .seconds(30))
        #expect(policy.delay(afterAttempt: 19, error: failure()) == .seconds(30))
    }

    @Test func retryAfterIsHonouredUpToItsLimit() {
        let policy = RetryPolicy(maxRetryAfter: .seconds(60))
        #expect(policy.delay(afterAttempt: 1, error: failure("http_429", retryAfter: 7)) == .seconds(7))
        #expect(policy.delay(afterAttempt: 1, error: failure("http_429", retryAfter: 0.25)) == .milliseconds(250))
        #expect(policy.delay(afterAttempt: 1, error: failure("http_429", retryAfter: 60)) == .seconds(60))
        #expect(policy.delay(afterAttempt: 1, error: failure("http_429", retryAfter: 61)) == nil)
        // Retry-After does not lift the limit on attempts.
        #expect(policy.delay(afterAttempt: 4, error: failure("http_429", retryAfter: 1)) == nil)
    }

    @Test func injectedJitterShapesTheBackoffButNotRetryAfter() {
        let policy = RetryPolicy(jitter: { $0 / 2 })
        #expect(policy.delay(afterAttempt: 2, error: failure()) == .milliseconds(500))
        #expect(policy.delay(afterAttempt: 2, error: failure(retryAfter: 3)) == .seconds(3))
    }

    @Test func equalJitterStaysBetweenHalfAndAll() {
        let policy = RetryPolicy(jitter: RetryPolicy.equalJitter)
        for _ in 0..<200 {
            let delay = policy.delay(afterAttempt: 3, error: failure())
            #expect(delay.map { $0 >= .seconds(1) && $0 <= .seconds(2) } == true)
        }
    }
}
