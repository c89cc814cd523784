import BlockingWork
import CGit2
import CGitShims
import Foundation
import Synchronization

/// One bare clone in a `RepositoryCache`: refresh branches, read files and history, build commits, push.
///
/// Nothing here needs a work tree: reads go through tree objects, commits are built with tree builders.
/// Local tracking refs live at `refs/remotes/origin/<branch>`; the repository's config never holds a remote
/// URL or credentials (every network call uses an anonymous in-memory remote).
///
/// Thread-safety: `@unchecked Sendable` because every public entry point takes one lock (shared by all
/// `CachedRepository` values for the same folder, and a file lock shared with other processes) for its
/// whole duration, network round trips included. Calls are therefore serialized per remote.
///
/// Blocking work stays off the cooperative pool by construction: every public method that touches
/// libgit2 or the disk is `async` and runs its body on a thread of its own (`offPool`, i.e.
/// `BlockingWork.run`); the blocking bodies (`blockingRefresh`, `blockingReadFile`, …) are internal, so
/// code outside this module cannot call them, and the only synchronous public members (`remote`, `path`,
/// `counters`) read memory. A task waiting here for the folder's lock or the network therefore waits
/// without holding a pool thread, and whatever the holder waits for (the in-process Sandbox, a
/// `GitRequestPermit` task) can still run.
public final class CachedRepository: @unchecked Sendable {
    /// The remote this clone mirrors (credentials in memory only).
    public let remote: GitRemote
    /// The bare repository folder.
    public var path: URL { folder.path }
    /// The folder's shared state: lock, libgit2 handle, known damage.
    let folder: CloneFolder
    let options: GitTransportOptions
    let counterCell: CounterCell
    private let noDelayCell = Mutex<Int>(0)

    init(remote: GitRemote, folder: CloneFolder, options: GitTransportOptions, counters: CounterCell) {
        self.remote = remote
        self.folder = folder
        self.options = options
        self.counterCell = counters
    }

    /// The open libgit2 repository. Only valid inside `locked`, which opens it first.
    var handle: RepositoryHandle {
        guard let handle = folder.handle else { preconditionFailure("CachedRepository.handle used outside locked") }
        return handle
    }

    /// Network round trips made through this repository so far.
    public var counters: GitCounters { counterCell.snapshot }

    /// Runs `body` on a thread of its own, never on the cooperative pool: the one way the public API
    /// reaches the blocking implementations.
    func offPool<T: Sendable>(_ body: @escaping @Sendable (CachedRepository) throws -> T) async throws -> T {
        try await BlockingWork.run(name: "promobot.git") { [self] in
            let before = promobot_git_thread_nodelay_connections()
            defer { noDelayCell.withLock { $0 += Int(promobot_git_thread_nodelay_connections() - before) } }
            return try body(self)
        }
    }

    /// Connections this repository's operations opened with TCP_NODELAY in effect (for tests).
    var noDelayConnections: Int { noDelayCell.withLock { $0 } }

    /// The local tracking ref for `branch`.
    static func trackingRef(_ branch: String) -> String { "refs/remotes/origin/\(branch)" }

    /// Runs `body` under the repository lock: the in-process lock shared by every `CachedRepository` of
    /// this folder, then the folder's file lock, so other processes sharing the cache wait too.
    ///
    /// The clone is opened first when it is not open or its folder vanished (pruned). A failure of `body`
    /// that shows the clone is damaged (`GitError.indicatesDamage`, or a `verify()` that fails after any
    /// other local failure) is remembered, and the next `refresh` clones the folder again. A full disk gets
    /// the folder and `activity` named in its error.
    func locked<T>(_ activity: String? = nil, _ body: () throws -> T) throws -> T {
        folder.lock.lock()
        defer { folder.lock.unlock() }
        return try FolderLock.withLock(path) {
            _ = try folder.usableHandle()
            do {
                return try body()
            } catch var error as GitError {
                if error.kind == .diskFull {
                    error.folder = path.path
                    error.remote = error.remote ?? remote.redactedURL
                    error.activity = error.activity ?? activity
                } else if folder.damage == nil, error.indicatesDamage || (error.isLocal && damageFound() != nil) {
                    folder.damage = error
                }
                throw error
            }
        }
    }

    /// What `verify()` finds wrong with the clone on disk, if anything (caller holds the lock). Checked
    /// through a handle of its own, as a new process would see the folder: an open handle keeps what it
    /// read before (a parsed config, an open pack) and could miss damage done since.
    func damageFound() -> GitError? {
        switch CloneFolder.openVerified(path) {
        case .success: return nil
        case .failure(let error): return error.isMachineWide ? nil : error
        }
    }

    func openSession() throws(GitError) -> RemoteSession {
        try RemoteSession(repository: handle, remote: remote, options: options)
    }

    /// Validates a branch name (`main`, `promote/app-prod`) and returns `refs/heads/<branch>`.
    static func headsRef(_ branch: String, operation: String) throws(GitError) -> String {
        let ref = "refs/heads/\(branch)"
        var valid: Int32 = 0
        if branch.isEmpty || git_reference_name_is_valid(&valid, ref) < 0 || valid == 0 {
            git_error_clear()
            throw GitError(kind: .invalidArgument, operation: operation,
                           message: "'\(branch)' is not a valid branch name")
        }
        return ref
    }

    /// Normalises a repo-relative path ("./a//b/" -> "a/b"; "" or "." is the root) and rejects ".." and absolute paths.
    static func normalize(_ path: String, operation: String) throws(GitError) -> String {
        if path.hasPrefix("/") {
            throw GitError(kind: .invalidArgument, operation: operation,
                           message: "path '\(path)' must be relative to the repository root")
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        if parts.contains("..") || parts.contains(".git") {
            throw GitError(kind: .invalidArgument, operation: operation,
                           message: "path '\(path)' must not contain '..' or '.git'")
        }
        return parts.joined(separator: "/")
    }
}
