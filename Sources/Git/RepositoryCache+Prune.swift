import BlockingWork
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A clone folder that `RepositoryCache.prune(keeping:unusedFor:)` deleted.
public struct PrunedClone: Sendable, Hashable {
    /// The deleted folder.
    public var folder: String
    /// The disk space it used (allocated blocks), in bytes.
    public var bytes: Int64
    /// How long it had not been refreshed by anyone (its modification time's age).
    public var unusedFor: TimeInterval
}

/// What `RepositoryCache.prune(keeping:unusedFor:)` found and did. Nothing here is an error for the caller
/// to stop on: a clone that cannot be deleted now is tried again at the next prune.
public struct PruneReport: Sendable, Hashable {
    /// Clones deleted.
    public var removed: [PrunedClone] = []
    /// Clones of remotes not kept but refreshed within the grace period (by another process sharing the
    /// cache folder, or recently dropped from the policies), left alone.
    public var recentlyUsed: [String] = []
    /// Clones another process held locked at that moment, left for the next prune.
    public var busy: [String] = []
    /// Folders that could not be deleted, with why.
    public var failures: [String] = []

    /// Bytes freed in total.
    public var freedBytes: Int64 { removed.reduce(0) { $0 + $1.bytes } }
}

extension RepositoryCache {
    /// How long a clone that no kept remote uses must have gone unrefreshed before `prune` deletes it.
    public static let defaultPruneGracePeriod: TimeInterval = 24 * 3600

    /// Deletes the clones of remotes that are not in `remotes` and that nobody refreshed for `gracePeriod`.
    ///
    /// Safe on a cache folder shared by several processes (shards or runs with other policies on one
    /// volume): a clone is deleted only when it is none of `remotes`, its folder's modification time (which
    /// every refresh sets) is older than `gracePeriod`, and its lock is free; the age is read again under
    /// the lock. Only folders named like this cache's clones (`<name>-<10 hex digits>.git`) and their lock
    /// files are considered; anything else in the folder is left alone. A deleted clone that a process
    /// still holds is created again, empty, on its next use.
    ///
    /// Call it when the caller knows every remote it will use (a cycle over all policies), never with a
    /// partial list. Runs on a thread of its own.
    /// - Returns: what was deleted, left, or could not be deleted.
    public func prune(keeping remotes: [GitRemote], unusedFor gracePeriod: TimeInterval = defaultPruneGracePeriod) async -> PruneReport {
        (try? await BlockingWork.run(name: "promobot.git") { [self] in
            blockingPrune(keeping: remotes, unusedFor: gracePeriod, now: Date())
        }) ?? PruneReport()
    }

    /// `prune(keeping:unusedFor:)` on the calling thread, which may block.
    func blockingPrune(keeping remotes: [GitRemote], unusedFor gracePeriod: TimeInterval, now: Date) -> PruneReport {
        var report = PruneReport()
        let kept = Set(remotes.map { Self.folderName(for: $0.redactedURL) })
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return report }
        for name in names.sorted() where Self.isCloneFolderName(name) && !kept.contains(name) {
            let folder = root.appendingPathComponent(name, isDirectory: true)
            guard let modified = Self.modificationTime(folder.path) else { continue }
            guard now.timeIntervalSince(modified) >= gracePeriod else {
                report.recentlyUsed.append(folder.path)
                continue
            }
            pruneFolder(folder, gracePeriod: gracePeriod, now: now, into: &report)
        }
        // Lock files whose clone is gone (deleted by hand, or a prune that stopped halfway).
        for name in names.sorted() where name.hasSuffix(".lock") {
            let folderName = String(name.dropLast(".lock".count))
            guard Self.isCloneFolderName(folderName), !names.contains(folderName), !kept.contains(folderName) else { continue }
            let folder = root.appendingPathComponent(folderName, isDirectory: true)
            guard let modified = Self.modificationTime(FolderLock.lockPath(for: folder)),
                  now.timeIntervalSince(modified) >= gracePeriod else { continue }
            _ = try? FolderLock.withLockIfFree(folder) {
                if !FileManager.default.fileExists(atPath: folder.path) { unlink(FolderLock.lockPath(for: folder)) }
            }
        }
        return report
    }

    /// Deletes one unused clone under its locks (this process's, then the file lock, taken only if free).
    private func pruneFolder(_ folder: URL, gracePeriod: TimeInterval, now: Date, into report: inout PruneReport) {
        let clone = state.openedFolder(folder)
        clone?.lock.lock()
        defer { clone?.lock.unlock() }
        do {
            let outcome = try FolderLock.withLockIfFree(folder) { () -> PrunedClone? in
                // Refreshed by someone between the listing and the lock: keep it.
                guard let modified = Self.modificationTime(folder.path), now.timeIntervalSince(modified) >= gracePeriod else { return nil }
                let bytes = Self.diskUsage(of: folder)
                clone?.handle = nil  // close libgit2's files first, or the space stays in use
                try FileManager.default.removeItem(at: folder)
                unlink(FolderLock.lockPath(for: folder))  // still held: waiters start over on a new lock file
                return PrunedClone(folder: folder.path, bytes: bytes, unusedFor: now.timeIntervalSince(modified))
            }
            switch outcome {
            case .some(.some(let pruned)):
                report.removed.append(pruned)
                state.forget(folder)
            case .some(.none):
                report.recentlyUsed.append(folder.path)
            case .none:
                report.busy.append(folder.path)
            }
        } catch {
            report.failures.append("\(folder.path): \(error.localizedDescription)")
        }
    }

    /// `<anything>-<10 lowercase hex digits>.git`, as `folderName(for:)` makes them.
    static func isCloneFolderName(_ name: String) -> Bool {
        guard name.hasSuffix(".git") else { return false }
        let stem = name.dropLast(4)
        guard let dash = stem.lastIndex(of: "-") else { return false }
        let hash = stem[stem.index(after: dash)...]
        return hash.count == 10 && hash.allSatisfy { $0.isHexDigit && !$0.isUppercase } && dash > stem.startIndex
    }

    /// The modification time of `path`, or nil when it does not exist.
    static func modificationTime(_ path: String) -> Date? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
    }

    /// The disk space used by everything under `folder` (allocated blocks, like `du`), in bytes.
    public static func diskUsage(of folder: URL) -> Int64 {
        var total: Int64 = 0
        var info = stat()
        if lstat(folder.path, &info) == 0 { total += Int64(info.st_blocks) * 512 }
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return total }
        while let relative = walker.nextObject() as? String {
            if lstat(folder.path + "/" + relative, &info) == 0 { total += Int64(info.st_blocks) * 512 }
        }
        return total
    }
}
