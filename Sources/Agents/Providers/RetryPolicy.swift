import Foundation

/// How long to wait before trying a failed model call again: exponential backoff, a provider's
/// `Retry-After` honoured, and a limit on attempts. Pure: the agent loop does the waiting.
///
/// ```swift
/// let policy = RetryPolicy()                       // 4 attempts, 0.5 s, 1 s, 2 s between them
/// if let wait = policy.delay(afterAttempt: 1, error: error) {
///     try await Task.sleep(for: wait)              // then attempt 2
/// }
/// ```
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// The wait after the first failed attempt; each further wait is `multiplier` times longer …
    public var initialDelay: Duration
    public var multiplier: Double
    /// … up to this.
    public var maxDelay: Duration
    /// A provider asking to wait longer than this (`Retry-After`) is not retried at all:
    /// the call fails at once instead of stalling the run.
    public var maxRetryAfter: Duration
    /// Spreads the computed backoff (not a provider's `Retry-After`), e.g. ``equalJitter``; nil waits exactly.
    public var jitter: (@Sendable (Duration) -> Duration)?

    public init(
        maxAttempts: Int = 4, initialDelay: Duration = .milliseconds(500), multiplier: Double = 2,
        maxDelay: Duration = .seconds(30), maxRetryAfter: Duration = .seconds(60),
        jitter: (@Sendable (Duration) -> Duration)? = nil
    ) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
        self.jitter = jitter
    }

    /// A random wait between half and all of the computed one, so clients that failed together
    /// do not all come back at the same instant.
    public static let equalJitter: @Sendable (Duration) -> Duration = { delay in
        delay * Double.random(in: 0.5...1)
    }

    /// The wait before the next attempt after attempt number `attempt` (counting from 1) failed with
    /// `error`; nil when the error is not worth retrying, the attempts are used up, or the provider
    /// asks for a wait longer than ``maxRetryAfter``.
    public func delay(afterAttempt attempt: Int, error: ProviderError) -> Duration? {
        guard error.retryable, attempt >= 1, attempt < maxAttempts else { return nil }
        if let retryAfter = error.retryAfter, retryAfter.isFinite {
            let wait = Duration.milliseconds(Int64((max(0, retryAfter) * 1000).rounded(.up)))
            return wait > maxRetryAfter ? nil : wait
        }
        let maxSeconds = Self.seconds(maxDelay)
        let exponent = Double(attempt - 1)
        let seconds = min(maxSeconds, Self.seconds(initialDelay) * pow(multiplier, exponent))
        let backoff = Duration.milliseconds(Int64((seconds * 1000).rounded()))
        guard let jitter else { return backoff }
        return min(max(jitter(backoff), .zero), maxDelay)
    }

    private static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
