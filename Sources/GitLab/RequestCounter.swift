import Foundation

/// Counts the HTTP requests a client handed to its transport (for benchmarks and tests).
///
/// Copies of a `GitLabClient` share one counter. Retries done inside the transport (429/5xx on
/// idempotent requests) are not visible here; retries done by the client itself are counted.
/// Thread-safe (a lock guards the count).
public final class RequestCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    /// A counter at zero.
    public init() {}

    /// Requests counted so far.
    public var value: Int { lock.withLock { count } }

    func increment() { lock.withLock { count += 1 } }
}
