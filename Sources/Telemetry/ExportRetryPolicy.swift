public import Foundation

/// When to send a batch again, exactly as the OTLP/HTTP specification says: 429, 502, 503
/// and 504 and failed connections are retried with exponential backoff and jitter, and a
/// `Retry-After` header is honoured; every other status is final; a partial success is
/// final too. Pure, so the rules are tested without a network.
public struct ExportRetryPolicy: Sendable, Equatable {
    /// Seconds before the first retry; each further retry waits `multiplier` times longer …
    public var initialBackoff: Double
    public var multiplier: Double
    /// … up to this many seconds.
    public var maxBackoff: Double
    /// A `Retry-After` longer than this is shortened to it.
    public var maxRetryAfter: Double

    public init(initialBackoff: Double = 1, multiplier: Double = 2, maxBackoff: Double = 30, maxRetryAfter: Double = 300) {
        self.initialBackoff = initialBackoff
        self.multiplier = multiplier
        self.maxBackoff = maxBackoff
        self.maxRetryAfter = maxRetryAfter
    }

    /// What one attempt to send a batch came to.
    public enum Attempt: Sendable, Equatable {
        /// The collector answered.
        case answered(status: Int, retryAfter: String?)
        /// No answer: refused, reset, timed out.
        case noAnswer(String)
    }

    public enum Decision: Sendable, Equatable {
        case accepted
        /// Wait this long, then send the same batch again.
        case retry(afterSeconds: Double, reason: String)
        /// Never send this batch again; the collector refused it.
        case reject(reason: String)
    }

    public static let retryableStatuses: Set<Int> = [429, 502, 503, 504]

    /// The decision after `attempt`, the `retries`-th retry counting from 1.
    public func decide(_ attempt: Attempt, retry retries: Int, now: Date = Date(),
                       random: Double = Double.random(in: 0..<1)) -> Decision {
        switch attempt {
        case .answered(let status, let retryAfter):
            if (200..<300).contains(status) { return .accepted }
            guard Self.retryableStatuses.contains(status) else {
                return .reject(reason: "HTTP \(status)")
            }
            if let retryAfter, let seconds = Self.retryAfterSeconds(retryAfter, now: now) {
                return .retry(afterSeconds: min(seconds, maxRetryAfter), reason: "HTTP \(status), Retry-After \(retryAfter)")
            }
            return .retry(afterSeconds: backoff(retry: retries, random: random), reason: "HTTP \(status)")
        case .noAnswer(let reason):
            return .retry(afterSeconds: backoff(retry: retries, random: random), reason: reason)
        }
    }

    /// Exponential backoff with jitter: the delay is drawn from the upper half of the
    /// exponential step, so many exporters restarting together spread out.
    public func backoff(retry: Int, random: Double) -> Double {
        let step = min(maxBackoff, initialBackoff * pow(multiplier, Double(max(0, retry - 1))))
        return step * (0.5 + 0.5 * min(max(random, 0), 1))
    }

    /// `Retry-After` as seconds: a number of seconds or an HTTP-date; nil when unreadable.
    public static func retryAfterSeconds(_ header: String, now: Date) -> Double? {
        let text = header.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text), seconds >= 0, seconds.isFinite { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return max(0, date.timeIntervalSince(now)) }
        }
        return nil
    }
}
