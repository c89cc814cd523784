import Foundation

/// When and how long to wait before sending a retryable request again.
///
/// A request is retried only when `HTTPRequest.retryable` is true, after a connection error,
/// timeout or dropped connection, or a 408, 429 or 5xx response. Delays grow exponentially from
/// `baseDelay`, with `jitter`, capped by `maxDelay`; a server's `Retry-After` (seconds or HTTP-date)
/// or, on a 429, `RateLimit-Reset` (unix time) replaces the computed delay, still capped by `maxDelay`.
/// A plain value; thread-safe.
public struct RetryPolicy: Sendable, Hashable {
    /// How the computed backoff is randomised so that many clients do not retry in lockstep.
    public enum Jitter: Sendable, Hashable {
        /// Exactly the backoff (predictable; for tests).
        case none
        /// Anywhere between zero and the backoff.
        case full
        /// Between half the backoff and the backoff.
        case equal
    }

    /// The most times a request is sent in total (1 = never retry). Values below 1 count as 1.
    public var maxAttempts: Int
    /// The backoff before the second attempt; it doubles for each further attempt.
    public var baseDelay: Duration
    /// The longest wait between attempts, also for server-requested delays.
    public var maxDelay: Duration
    /// How the backoff is randomised.
    public var jitter: Jitter

    /// Creates a policy; the defaults give 4 attempts waiting about 0.5 s, 1 s and 2 s between them.
    public init(maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(30), jitter: Jitter = .equal) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    /// Never retry.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// Whether a response with `status` is worth retrying (408, 429 and 5xx). Shared with git's
    /// smart-HTTP retries (`Git.GitTransportOptions.retry`), so REST and git agree on what is transient.
    public static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }

    /// How long to wait after the attempt numbered `attempt` (1-based) failed.
    ///
    /// - Parameters:
    ///   - attempt: the attempt that just failed.
    ///   - response: its response, if any; its `Retry-After` / `RateLimit-Reset` headers win over backoff.
    ///   - now: the current time, for HTTP-date and unix-time headers.
    ///   - random: returns a random number in the given range (injectable for tests).
    public func delay(
        afterAttempt attempt: Int,
        response: HTTPResponse? = nil,
        now: Date = Date(),
        random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }
    ) -> Duration {
        if let response, let requested = Self.serverRequestedDelay(in: response, now: now) {
            return min(requested, maxDelay)
        }
        let exponent = Double(max(0, min(attempt - 1, 62)))
        let backoff = min(seconds(baseDelay) * pow(2, exponent), seconds(maxDelay))
        let jittered: Double = switch jitter {
        case .none: backoff
        case .full: random(0...1) * backoff
        case .equal: backoff / 2 + random(0...1) * backoff / 2
        }
        return min(.milliseconds(Int64((max(0, jittered) * 1000).rounded())), maxDelay)
    }

    /// The wait a server asked for: `Retry-After` (delta-seconds or HTTP-date) on any response, or
    /// `RateLimit-Reset` on a 429 (GitLab sends a unix time; small values are read as delta-seconds,
    /// as in the IETF RateLimit draft). Never negative; nil when the server did not say.
    /// The project's one reader of these headers: REST retries, GitLab's rate-limit error and git's
    /// smart-HTTP retries all ask it.
    public static func serverRequestedDelay(in response: HTTPResponse, now: Date = Date()) -> Duration? {
        if let value = response.headers["Retry-After"]?.trimmingCharacters(in: .whitespaces), !value.isEmpty {
            if let seconds = Int(value) { return .seconds(max(0, seconds)) }
            if let date = HTTPDate.parse(value) { return duration(until: date, from: now) }
        }
        if response.status == 429,
           let value = response.headers["RateLimit-Reset"]?.trimmingCharacters(in: .whitespaces),
           let number = Int(value) {
            if number < 1_000_000_000 { return .seconds(max(0, number)) }
            return duration(until: Date(timeIntervalSince1970: TimeInterval(number)), from: now)
        }
        return nil
    }

    private static func duration(until date: Date, from now: Date) -> Duration {
        .milliseconds(Int64((max(0, date.timeIntervalSince(now)) * 1000).rounded(.up)))
    }

    private func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
