import Foundation

extension CachedRepository {
    /// Runs `body` (one attempt of a network operation, from its first connection on) until it succeeds,
    /// fails for good, or `options.retry.maxAttempts` attempts were made.
    ///
    /// Only failures marked transient (`GitError.transient`) are retried, and only for http(s) remotes;
    /// the wait between attempts is a thread sleep (git operations run on threads of their own, never on
    /// the cooperative pool), as long as the server's `Retry-After` or else the policy's jittered backoff.
    /// The error of the last attempt is rethrown with `attempts` set; other errors (a refused permit) end
    /// the loop unchanged.
    func withRetries<T>(_ body: () throws -> T) throws -> T {
        let policy = options.retry
        let maxAttempts = remote.isSmartHTTP ? max(1, policy.maxAttempts) : 1
        var attempt = 1
        while true {
            do {
                return try body()
            } catch var error as GitError {
                guard let transient = error.transient, attempt < maxAttempts else {
                    error.attempts = attempt
                    throw error
                }
                Thread.sleep(forTimeInterval: Self.seconds(transient.delay(afterAttempt: attempt, policy: policy)))
                counterCell.add(retries: 1)
                attempt += 1
            }
        }
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
