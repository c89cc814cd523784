import Foundation
import Synchronization

/// One git network step about to go on the wire, as shown to a `GitRequestPermit`.
///
/// Over smart HTTP each kind is one request: a ref listing is `GET <repo>/info/refs?service=…`, a fetch
/// is `POST <repo>/git-upload-pack`, a push is `POST <repo>/git-receive-pack`. Every attempt of a retried
/// operation is a new request. A plain value; thread-safe.
public struct GitRequest: Sendable, Hashable, CustomStringConvertible {
    /// Which step of the git protocol this is.
    public enum Kind: String, Sendable, Hashable {
        /// Reading the remote's refs (`info/refs`), before a fetch or a push.
        case fetchRefListing
        /// Reading the remote's refs (`info/refs`) on a push connection.
        case pushRefListing
        /// Downloading objects (`git-upload-pack`).
        case fetch
        /// Sending objects and ref updates (`git-receive-pack`).
        case push
    }

    /// Which step this is.
    public var kind: Kind
    /// The remote URL without credentials.
    public var remote: String

    /// Creates a request description; nothing is sent.
    public init(kind: Kind, remote: String) {
        self.kind = kind
        self.remote = remote
    }

    /// The smart-HTTP method: `GET` for ref listings, `POST` otherwise.
    public var method: String {
        switch kind {
        case .fetchRefListing, .pushRefListing: "GET"
        case .fetch, .push: "POST"
        }
    }

    /// The smart-HTTP path, e.g. `/group/deploy.git/info/refs` (without the query); for a remote whose URL
    /// has no path `URL` can read, the redacted URL followed by the same suffix.
    public var path: String {
        let suffix = switch kind {
        case .fetchRefListing, .pushRefListing: "/info/refs"
        case .fetch: "/git-upload-pack"
        case .push: "/git-receive-pack"
        }
        let base = URL(string: remote).map(\.path).flatMap { $0.isEmpty ? nil : $0 } ?? remote
        return (base.hasSuffix("/") ? String(base.dropLast()) : base) + suffix
    }

    /// `GET /group/deploy.git/info/refs`.
    public var description: String { "\(method) \(path)" }
}

/// Permission to send one git request: how the run's shared request budget reaches the Git module,
/// which cannot depend on the GitLab client that owns it.
///
/// `CachedRepository` asks before every network step of every attempt (see `GitRequest`). The closure may
/// wait (a token bucket) or throw to refuse; its error ends the git operation unchanged and is not retried.
/// It runs as a task while the git thread blocks on it, which is safe because `CachedRepository` runs
/// every network operation on a thread of its own (`BlockingWork.run`), never on the cooperative pool.
/// Thread-safe.
public struct GitRequestPermit: Sendable {
    private let acquire: @Sendable (GitRequest) async throws -> Void

    /// Wraps `acquire`, e.g. `GitRequestPermit { try await budget.acquire(for: $0.method, path: $0.path) }`.
    public init(_ acquire: @escaping @Sendable (GitRequest) async throws -> Void) {
        self.acquire = acquire
    }

    /// Blocks the calling thread until `acquire` returns; rethrows its error.
    func take(_ request: GitRequest) throws {
        let outcome = PermitOutcome()
        let acquire = self.acquire
        Task {
            do {
                try await acquire(request)
                outcome.finish(nil)
            } catch {
                outcome.finish(error)
            }
        }
        if let error = outcome.wait() { throw error }
    }
}

/// The result of one permit request, handed from its task to the blocked git thread (internal).
private final class PermitOutcome: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let error = Mutex<(any Error)?>(nil)

    func finish(_ error: (any Error)?) {
        self.error.withLock { $0 = error }
        done.signal()
    }

    func wait() -> (any Error)? {
        done.wait()
        return error.withLock { $0 }
    }
}
