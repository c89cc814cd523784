import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive advisory lock (`flock`) on `<folder>.lock`, so that two promobot *processes* sharing
/// one cache folder (two cron runs that overlap, a `run` next to a `plan`) never write one bare clone at
/// once: libgit2's own lock files make the loser fail ("failed to create locked file") rather than wait.
///
/// Held only for the duration of one cache operation; released when the descriptor closes, so a process
/// that dies never leaves it behind. Blocking: only the off-pool bodies of `CachedRepository` and
/// `RepositoryCache` take it, never a task on the cooperative pool.
enum FolderLock {
    /// Runs `body` holding the lock for `folder` (the lock file sits beside it, not inside, so it also
    /// guards the folder's creation).
    static func withLock<T>(_ folder: URL, _ body: () throws -> T) throws -> T {
        let path = folder.path.hasSuffix("/") ? String(folder.path.dropLast()) + ".lock" : folder.path + ".lock"
        try? FileManager.default.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw GitError(kind: .other, operation: "lock \(path)",
                           message: "cannot open the cache lock file: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw GitError(kind: .other, operation: "lock \(path)",
                               message: "cannot lock the cache folder: \(String(cString: strerror(errno)))")
            }
        }
        return try body()
    }
}
