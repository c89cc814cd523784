import Foundation

/// One bare clone folder of a `RepositoryCache`, shared by every `CachedRepository` of that folder
/// (internal): the in-process lock, the open libgit2 handle, and what is known about the folder's health.
///
/// Thread-safety: `@unchecked Sendable`; every mutable member is read and written only under `lock`
/// (and, for anything that touches the disk, the folder's `FolderLock` too).
final class CloneFolder: @unchecked Sendable {
    /// The bare repository folder.
    let path: URL
    /// Serializes this process's users of the folder; taken before the folder's file lock.
    let lock = NSLock()
    /// The open repository; nil before the first open, after the folder was pruned, and after
    /// `openHandles` closed it to stay under its limit (reopened on use).
    var handle: RepositoryHandle? {
        didSet { if handle == nil, oldValue != nil { openHandles.closedHandle(self) } }
    }
    /// The cache-wide bound on open handles, told of every use of this folder's handle.
    let openHandles: OpenHandleLimit
    /// A failure that showed the clone is damaged; the next refresh deletes the folder and clones again.
    var damage: GitError?
    /// Recoveries not yet reported by a `refresh`.
    var recoveries: [CacheRecovery] = []

    init(path: URL, openHandles: OpenHandleLimit) {
        self.path = path
        self.openHandles = openHandles
    }

    /// The folder's `HEAD` file, present in every usable bare repository.
    var headPath: String { path.appendingPathComponent("HEAD").path }
}

// MARK: - Opening and recovery (caller holds `lock` and the folder's `FolderLock`)

extension CloneFolder {
    /// The open handle, opening the folder first when it is not open or was deleted meanwhile (pruned
    /// by another process, or by this one while a `CachedRepository` of it was still around).
    /// Every call counts as a use for `openHandles`, which may close other idle clones.
    func usableHandle() throws -> RepositoryHandle {
        if handle == nil || !FileManager.default.fileExists(atPath: headPath) {
            handle = nil
            try open()
        }
        guard let handle else { throw GitError(kind: .other, operation: "open \(path.path)", message: "the clone did not open") }
        openHandles.used(self)
        return handle
    }

    /// Opens the clone, creating an empty one when the folder does not exist. A folder that libgit2
    /// cannot open or that fails `RepositoryHandle.verify()` is deleted and made anew (recorded in
    /// `recoveries`); the next refresh fetches everything again.
    /// - Throws: `GitError` when the folder cannot be deleted or created (`.diskFull` for a full disk),
    ///   or a machine-wide failure (permissions, memory) that a new clone would meet too.
    func open() throws {
        if FileManager.default.fileExists(atPath: headPath) {
            switch Self.openVerified(path) {
            case .success(let opened):
                handle = opened
                touch()
            case .failure(let error) where error.isMachineWide:
                throw error
            case .failure(let error):
                try recreate(because: error)
            }
            return
        }
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: path.path)) ?? []
        if !leftovers.isEmpty {
            try recreate(because: GitError(kind: .other, operation: "open \(path.path)",
                                           message: "the folder has no HEAD file (left: \(leftovers.sorted().prefix(5).joined(separator: ", ")))"))
            return
        }
        handle = try RepositoryHandle.initBare(at: path)
        touch()
    }

    /// Opens the repository at `path` and runs `RepositoryHandle.verify()` on it.
    static func openVerified(_ path: URL) -> Result<RepositoryHandle, GitError> {
        do {
            let opened = try RepositoryHandle.openBare(at: path)
            try opened.verify()
            return .success(opened)
        } catch {
            return .failure(error)
        }
    }

    /// Deletes the folder and creates an empty clone in its place, recording why.
    func recreate(because problem: GitError) throws {
        handle = nil  // frees libgit2's handle first: its open packs would keep their disk space
        damage = nil
        recoveries.append(CacheRecovery(folder: path.path, problem: problem.description))
        do {
            if FileManager.default.fileExists(atPath: path.path) { try FileManager.default.removeItem(at: path) }
        } catch {
            throw GitError(kind: .other, operation: "delete \(path.path)",
                           message: "cannot delete the damaged cache clone (\(problem.message)): \(error.localizedDescription)")
        }
        handle = try RepositoryHandle.initBare(at: path)
        touch()
    }

    /// Sets the folder's modification time to now: "used recently", which the pruner respects (the
    /// folder of a clone another process uses is never pruned while that process keeps refreshing it).
    func touch() {
        _ = utimes(path.path, nil)
    }
}
