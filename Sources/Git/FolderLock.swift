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
///
/// The lock file may be deleted by its holder (the pruner does, with the folder): a waiter that then
/// gets the lock finds the path gone or naming another file, and starts over on the current file, so two
/// holders never coexist.
enum FolderLock {
    /// Runs `body` holding the lock for `folder` (the lock file sits beside it, not inside, so it also
    /// guards the folder's creation).
    static func withLock<T>(_ folder: URL, _ body: () throws -> T) throws -> T {
        guard let result = try withLock(folder, wait: true, body) else {
            throw GitError(kind: .other, operation: "lock \(lockPath(for: folder))", message: "the cache lock was not taken")
        }
        return result
    }

    /// Runs `body` holding the lock for `folder` if nobody holds it now; nil (without running `body`)
    /// when another process or thread does.
    static func withLockIfFree<T>(_ folder: URL, _ body: () throws -> T) throws -> T? {
        try withLock(folder, wait: false, body)
    }

    /// `<folder>.lock`.
    static func lockPath(for folder: URL) -> String {
        folder.path.hasSuffix("/") ? String(folder.path.dropLast()) + ".lock" : folder.path + ".lock"
    }

    private static func withLock<T>(_ folder: URL, wait: Bool, _ body: () throws -> T) throws -> T? {
        let path = lockPath(for: folder)
        try? FileManager.default.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw GitError(kind: .other, operation: "lock \(path)",
                               message: "cannot open the cache lock file: \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            while flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0 {
                if errno == EWOULDBLOCK && !wait { return nil }
                guard errno == EINTR else {
                    throw GitError(kind: .other, operation: "lock \(path)",
                                   message: "cannot lock the cache folder: \(String(cString: strerror(errno)))")
                }
            }
            // The holder before us may have deleted the file we locked: then the lock means nothing.
            var held = stat(), current = stat()
            guard fstat(fd, &held) == 0, stat(path, &current) == 0,
                  held.st_dev == current.st_dev, held.st_ino == current.st_ino else { continue }
            return try body()
        }
    }
}
