import Foundation
import Synchronization

/// Network round-trip counts, so tests and the benchmark can prove how often the remote was contacted.
public struct GitCounters: Sendable, Hashable {
    /// Ref listings (`git ls-remote` equivalents, i.e. connections that read the advertisement).
    public var refListings: Int
    /// Object downloads (the first clone counts as one fetch).
    public var fetches: Int
    /// Push connections (pushes and branch deletions), counted even when the lease check on that connection
    /// stops the update before anything is uploaded. The extra ref listing made after a server refusal (to tell
    /// a lost lease from a hook rejection) counts under `refListings`.
    public var pushes: Int
    /// Operations tried again after a transient failure (each retry's own round trips count above too).
    public var retries: Int

    /// Creates counts; all zero by default.
    public init(refListings: Int = 0, fetches: Int = 0, pushes: Int = 0, retries: Int = 0) {
        self.refListings = refListings
        self.fetches = fetches
        self.pushes = pushes
        self.retries = retries
    }
}

/// A counter cell shared between a repository and its cache (internal).
final class CounterCell: Sendable {
    private let value = Mutex(GitCounters())
    private let parent: CounterCell?

    init(parent: CounterCell? = nil) { self.parent = parent }

    var snapshot: GitCounters { value.withLock { $0 } }

    func add(refListings: Int = 0, fetches: Int = 0, pushes: Int = 0, retries: Int = 0) {
        value.withLock {
            $0.refListings += refListings
            $0.fetches += fetches
            $0.pushes += pushes
            $0.retries += retries
        }
        parent?.add(refListings: refListings, fetches: fetches, pushes: pushes, retries: retries)
    }
}
