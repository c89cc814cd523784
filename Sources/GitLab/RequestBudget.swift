import Foundation

/// A client-side token bucket that keeps one run below a request rate, so a run never drains
/// the account's API quota (GitLab's default authenticated limit is 7200 requests/hour/user,
/// shared with every other tool the account runs).
///
/// Share one budget between every `GitLabClient` of a run. Each request takes one token; the
/// bucket holds at most `burst` tokens and refills at `requestsPerMinute / 60` per second.
/// When it is empty a request waits for its token, but never longer than `maxWait`: if its
/// turn is further away, `acquire()` throws `GitLabError` `.budgetExhausted` at once instead
/// of blocking the run. Waiting requests are served in arrival order (a token is reserved
/// before sleeping). An actor: safe to share across tasks.
public actor RequestBudget {
    /// The sustained rate.
    public nonisolated let requestsPerMinute: Int
    /// How many requests may go back-to-back after an idle period.
    public nonisolated let burst: Int
    /// The longest a request may wait for its turn.
    public nonisolated let maxWait: Duration

    private var tokens: Double
    private var last: ContinuousClock.Instant
    private let clock = ContinuousClock()
    private var granted = 0

    /// - Parameters:
    ///   - requestsPerMinute: sustained rate, at least 1.
    ///   - burst: bucket size; defaults to `requestsPerMinute` (one minute's worth), at least 1.
    ///   - maxWait: longest a single request may wait for a token (default 30 s).
    public init(requestsPerMinute: Int, burst: Int? = nil, maxWait: Duration = .seconds(30)) {
        self.requestsPerMinute = max(1, requestsPerMinute)
        self.burst = max(1, burst ?? requestsPerMinute)
        self.maxWait = maxWait
        self.tokens = Double(self.burst)
        self.last = clock.now
    }

    /// How many requests this budget has let through so far.
    public var grantedCount: Int { granted }

    /// Takes GitLab's `RateLimit-Remaining` into account: the bucket never holds more tokens than GitLab
    /// says the account has left, so a budget set above what the instance allows (or shared with other
    /// tools) loses its burst and falls back to its steady rate before GitLab starts answering 429 (which
    /// the client's retries then wait out, honouring `Retry-After`).
    public func observe(remaining: Int) {
        refill()
        tokens = min(tokens, Double(max(0, remaining)))
    }

    /// How many requests could go out right now without waiting (tokens in the bucket; negative while
    /// requests wait for tokens reserved ahead of time).
    public var remaining: Double {
        refill()
        return tokens
    }

    /// Takes one token, sleeping until it is available.
    /// - Throws: `GitLabError` `.budgetExhausted` if the wait would exceed `maxWait`
    ///   (nothing is consumed then); `CancellationError` if the task is cancelled while waiting.
    public func acquire(for method: String = "", path: String = "") async throws {
        refill()
        let rate = Double(requestsPerMinute) / 60.0
        let deficit = 1.0 - tokens
        let wait = deficit > 0 ? deficit / rate : 0
        if wait > Self.seconds(maxWait) {
            throw GitLabError(
                kind: .budgetExhausted, status: nil,
                message: "the client-side budget of \(requestsPerMinute) requests per minute would make this request wait \(Int(wait.rounded(.up))) s, more than the \(maxWait.components.seconds) s allowed",
                method: method, path: path)
        }
        tokens -= 1 // reserve now, so later callers queue behind this one
        granted += 1
        if wait > 0 {
            try await Task.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up))))
        }
    }

    private func refill() {
        let now = clock.now
        let elapsed = Self.seconds(last.duration(to: now))
        last = now
        tokens = min(Double(burst), tokens + elapsed * Double(requestsPerMinute) / 60.0)
    }

    private static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
