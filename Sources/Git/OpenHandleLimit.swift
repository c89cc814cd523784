import Foundation

/// Bounds how many clones of one `RepositoryCache` keep a libgit2 handle open at once (internal).
///
/// An open `git_repository` keeps its pack indexes mapped, its refdb and config parsed and an object
/// cache: tens of KiB to a few MiB per clone. Kept for the life of the process, 1,000 deploy repositories
/// cost more memory than the whole bot should; reopening a clone costs one `open` and a few file reads,
/// which is cheap next to the ref probe that every cycle makes anyway. So past `limit` open handles, the
/// least recently used idle clones are closed; their next use reopens them (`CloneFolder.usableHandle`).
///
/// Only idle clones are closed: a clone is closed under its own in-process lock, taken with `try` so the
/// thread that opens a handle never waits for another clone's lock (and two openers can never deadlock).
/// A clone busy at that moment stays open and is considered again at the next opening.
///
/// The use list holds its clones weakly: each clone holds this limit, and a strong reference back would keep
/// the last `limit` clones (and their open handles) alive after their cache is gone — a leak per cycle in a
/// process that builds a new cache every cycle (`serve`).
///
/// Thread-safety: `@unchecked Sendable`; the use list is read and written under `mutex`, never while a
/// clone's lock is being taken.
final class OpenHandleLimit: @unchecked Sendable {
    /// The most handles kept open before idle ones are closed; at least 1.
    let limit: Int
    private let mutex = NSLock()
    private struct Use {
        weak var clone: CloneFolder?
        var tick: UInt64
    }
    private var lastUse: [ObjectIdentifier: Use] = [:]
    private var tick: UInt64 = 0
    private var closedCount = 0

    init(limit: Int) { self.limit = max(1, limit) }

    /// Clones with an open handle that this limit knows of (for tests and benchmarks).
    var openCount: Int { mutex.withLock { lastUse.values.count { $0.clone != nil } } }
    /// Handles closed to stay under the limit so far (for tests and benchmarks).
    var closed: Int { mutex.withLock { closedCount } }

    /// Records a use of `clone`'s open handle (the caller holds `clone.lock`); past the limit, closes the
    /// least recently used idle clones other than `clone`.
    func used(_ clone: CloneFolder) {
        let candidates = mutex.withLock { () -> [CloneFolder] in
            tick += 1
            lastUse[ObjectIdentifier(clone)] = Use(clone: clone, tick: tick)
            guard lastUse.count > limit else { return [] }
            lastUse = lastUse.filter { $0.value.clone != nil }  // clones freed with their cache
            guard lastUse.count > limit else { return [] }
            return lastUse.values.sorted { $0.tick < $1.tick }.compactMap(\.clone).filter { $0 !== clone }
        }
        // `clone` itself stays open: it is about to be used.
        var toClose = candidates.count + 1 - limit
        for candidate in candidates where toClose > 0 {
            guard candidate.lock.try() else { continue }
            defer { candidate.lock.unlock() }
            guard candidate.handle != nil else { continue }  // closed meanwhile (pruned, compacted)
            candidate.handle = nil  // its `didSet` calls `closedHandle`
            toClose -= 1
            mutex.withLock { closedCount += 1 }
        }
    }

    /// Forgets `clone`, whose handle was just closed (the caller holds `clone.lock`).
    func closedHandle(_ clone: CloneFolder) {
        mutex.withLock { _ = lastUse.removeValue(forKey: ObjectIdentifier(clone)) }
    }
}
