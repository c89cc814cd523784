/// How often and how fast the client itself retries GitLab's known transient refusals.
///
/// These are answers the HTTP layer cannot judge: 409 "Resource lock" (GitLab busy with the
/// same object), "source branch does not exist" right after a push when creating an MR, and 405
/// right after creation when enabling auto-merge (mergeability not checked yet). 429, 5xx and
/// connection errors are the HTTP layer's business. A value type: thread-safe.
public struct GitLabRetryPolicy: Sendable, Hashable {
    /// Total attempts, including the first (so 1 disables client retries).
    public var maxAttempts: Int
    /// Delay before the first retry; retry `n` waits `baseDelay * n²` (250 ms, 1 s, 2.25 s … by default).
    public var baseDelay: Duration
    /// Upper bound of one delay.
    public var maxDelay: Duration

    /// - Parameters: see the properties. Defaults: 5 attempts, 250 ms base, 4 s cap (≈ 7.5 s in all).
    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(4)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The default policy.
    public static let standard = GitLabRetryPolicy()

    /// No client-side retries.
    public static let none = GitLabRetryPolicy(maxAttempts: 1)

    /// Delay before retry number `retry` (1-based).
    func delay(beforeRetry retry: Int) -> Duration {
        min(baseDelay * (retry * retry), maxDelay)
    }
}
