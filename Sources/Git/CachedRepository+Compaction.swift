import CGit2
import Foundation

extension CachedRepository {
    /// Packs left by fetches, and loose objects left by commits, beyond which a refresh compacts the clone.
    static let compactionThreshold = (packs: 16, looseObjects: 128)
    /// Loose objects younger than this survive a compaction even when no ref reaches them: another process
    /// sharing the cache may have built a commit it has not pushed yet (git's gc keeps them two weeks).
    static let looseObjectGracePeriod: TimeInterval = 3600

    /// Keeps a clone's size and lookup cost bounded over time (caller holds the lock, after a refresh).
    ///
    /// libgit2 keeps every fetch as a pack of its own and every commit the bot builds as loose objects, and
    /// never collects garbage: a deploy repository grows by about 22 KiB and one pack per promotion, and
    /// every object lookup searches every pack. When there are more than `compactionThreshold` packs or
    /// loose objects, everything reachable from the clone's refs is written into one new pack; then the
    /// old packs and the loose objects older than `looseObjectGracePeriod` are deleted, and the clone is
    /// opened again. Best effort: a failure (a full disk) leaves the clone as it was, and is reported in
    /// the returned text, never thrown.
    /// - Returns: nil when nothing was to do or it worked; otherwise why the compaction was skipped.
    func compactIfNeeded(now: Date = Date()) -> String? {
        let objects = path.appendingPathComponent("objects")
        let packFolder = objects.appendingPathComponent("pack")
        let fm = FileManager.default
        let packs = ((try? fm.contentsOfDirectory(atPath: packFolder.path)) ?? []).filter { $0.hasPrefix("pack-") && $0.hasSuffix(".pack") }
        let loose = Self.looseObjects(in: objects)
        guard packs.count > Self.compactionThreshold.packs || loose.count > Self.compactionThreshold.looseObjects else { return nil }
        let kept: String
        do {
            kept = try handle.packEverythingReachable(into: packFolder)
        } catch {
            return "compacting \(path.path) failed, left as it was: \(error)"
        }
        for pack in packs where pack != kept + ".pack" {
            let stem = packFolder.appendingPathComponent(String(pack.dropLast(".pack".count))).path
            if fm.fileExists(atPath: stem + ".keep") { continue }
            for suffix in [".idx", ".rev", ".bitmap", ".pack"] { try? fm.removeItem(atPath: stem + suffix) }
        }
        for file in loose {
            guard let modified = RepositoryCache.modificationTime(file), now.timeIntervalSince(modified) >= Self.looseObjectGracePeriod else { continue }
            try? fm.removeItem(atPath: file)
        }
        // Reopen: the old handle's pack list names deleted packs.
        folder.handle = nil
        do {
            _ = try folder.usableHandle()
        } catch {
            return "reopening \(path.path) after compacting it failed: \(error)"
        }
        return nil
    }

    /// Paths of the loose objects (`objects/ab/cdef…`).
    static func looseObjects(in objects: URL) -> [String] {
        let fm = FileManager.default
        var files: [String] = []
        for folder in (try? fm.contentsOfDirectory(atPath: objects.path)) ?? [] where folder.count == 2 && folder.allSatisfy(\.isHexDigit) {
            let full = objects.appendingPathComponent(folder).path
            for name in (try? fm.contentsOfDirectory(atPath: full)) ?? [] where name.count == 38 && name.allSatisfy(\.isHexDigit) {
                files.append(full + "/" + name)
            }
        }
        return files
    }
}

extension RepositoryHandle {
    /// Writes one pack (with its index) of every object reachable from the repository's refs into
    /// `folder`; libgit2 writes it under a temporary name and renames it when complete.
    /// - Returns: the new pack's file stem (`pack-<hash>`).
    /// - Throws: `GitError` (`.diskFull` when there is no room).
    func packEverythingReachable(into folder: URL) throws(GitError) -> String {
        try withPackBuilder(walking: { walk throws(GitError) in
            try check(git_revwalk_push_glob(walk, "refs/*"), operation: "read the refs to compact")
        }) { builder throws(GitError) in
            try check(git_packbuilder_write(builder, folder.path, 0, nil, nil), operation: "git_packbuilder_write \(folder.path)")
            guard let name = git_packbuilder_name(builder) else {
                throw GitError(kind: .other, operation: "git_packbuilder_name", message: "the new pack has no name")
            }
            return "pack-" + String(cString: name)
        }
    }
}
