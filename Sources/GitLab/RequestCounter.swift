import Foundation
import Synchronization

/// Counts the HTTP requests a client handed to its transport (for benchmarks and tests).
///
/// Copies of a `GitLabClient` share one counter. Retries done inside the transport (429/5xx on
/// idempotent requests) are not visible here; retries done by the client itself are counted.
/// Thread-safe (a mutex guards the count).
public final class RequestCounter: Sendable {
    private let count = Mutex(0)

    /// A counter at zero.
    public init() {}

    /// Requests counted so far.
    public var value: Int { count.withLock { $0 } }

    func increment() { count.withLock { $0 += 1 } }
}
