import BlockingWork
import CGit2
import CGitShims
import Foundation

/// A folder of bare clones, one per remote URL, shared by every part of the bot.
///
/// Each remote gets `<root>/<host-and-path>-<hash>.git`, named from the URL without credentials, so the folder
/// name never contains a secret and two spellings of credentials share one clone. Clones no caller needs any
/// more are deleted by `prune(keeping:unusedFor:)`; damaged ones are cloned again (see `CachedRepository`). Nothing touches the network
/// until a `CachedRepository` method is called: the first `refresh` is the clone (init bare + fetch of the wanted
/// branches), later ones fetch only what moved.
///
/// Thread-safety: `Sendable`; `repository(for:)` may be called from any task. Repositories for the
/// same folder share one lock, so concurrent users of one remote are serialized; two *processes* (or two
/// `RepositoryCache` objects) sharing one cache folder are serialized per clone by a file lock (`FolderLock`).
///
/// Like `CachedRepository`, everything here that does I/O or may wait for a lock is `async` and runs on a
/// thread of its own (`BlockingWork.run`); the blocking implementations are internal.
public final class RepositoryCache: Sendable {
    /// The folder holding the bare clones.
    public let root: URL
    /// Transport settings applied to every remote of this cache.
    public let options: GitTransportOptions
    let state: CacheState
    private let counterCell = CounterCell()

    /// How many clones keep a libgit2 handle open by default: well above the engine's concurrent lanes,
    /// well below the 1,000 repositories whose handles would otherwise stay open for the process's life.
    public static let defaultMaxOpenRepositories = 32

    /// Creates a cache rooted at `root` (created on first use). Applies `options.caBundlePath` process-wide
    /// on the first `repository(for:)` call (libgit2 keeps CA locations globally).
    ///
    /// - Parameter maxOpenRepositories: past this many clones with an open libgit2 handle, the least
    ///   recently used idle ones are closed (reopened on their next use), which bounds memory per process.
    public init(root: URL, options: GitTransportOptions = GitTransportOptions(),
                maxOpenRepositories: Int = RepositoryCache.defaultMaxOpenRepositories) {
        self.root = root
        self.options = options
        self.state = CacheState(openHandles: OpenHandleLimit(limit: maxOpenRepositories))
    }

    /// Clones whose libgit2 handle is open now (at most `maxOpenRepositories` when all are idle).
    public var openRepositoryCount: Int { state.openHandles.openCount }
    /// Handles closed so far to stay under `maxOpenRepositories`.
    public var closedRepositoryHandles: Int { state.openHandles.closed }

    /// Network round trips made through every repository of this cache so far.
    public var counters: GitCounters { counterCell.snapshot }

    /// The cached repository for `remote`, opening or creating its bare clone folder (no network access).
    ///
    /// Returns the same `CachedRepository` for equal `GitRemote` values. Runs on a thread of its own: opening
    /// a clone reads the disk and waits for the clone's file lock, which another process may hold.
    /// A clone that libgit2 cannot open or that fails `verify()` (damaged by a crash, a full disk, a person)
    /// is deleted and created again, empty; the next `refresh` fetches everything and reports it.
    /// - Throws: `GitError` when the folder cannot be created or opened (`.diskFull` naming the folder when
    ///   there is no room), or the CA bundle cannot be loaded.
    public func repository(for remote: GitRemote) async throws -> CachedRepository {
        try await BlockingWork.run(name: "promobot.git") { [self] in try blockingRepository(for: remote) }
    }

    /// `repository(for:)` on the calling thread, which may block.
    func blockingRepository(for remote: GitRemote) throws -> CachedRepository {
        LibGit2.ensureInitialized()
        if let caBundlePath = options.caBundlePath, !state.caApplied() {
            let rc = promobot_git_opts_set_ssl_cert_locations(caBundlePath, nil)
            try check(rc, operation: "set CA bundle \(caBundlePath)")
            state.markCAApplied()
        }
        let folder = root.appendingPathComponent(Self.folderName(for: remote.redactedURL), isDirectory: true)
        let options = options, counterCell = counterCell
        return try state.repository(for: remote, folder: folder) { clone in
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            do {
                try FolderLock.withLock(folder) { _ = try clone.usableHandle() }
            } catch var error as GitError where error.kind == .diskFull {
                (error.folder, error.remote, error.activity) = (folder.path, remote.redactedURL, "creating the clone of")
                throw error
            }
            return CachedRepository(remote: remote, folder: clone, options: options, counters: CounterCell(parent: counterCell))
        }
    }

    /// The clone folder name for a (credential-free) URL: sanitized host + path, plus a short hash of the URL.
    public static func folderName(for redactedURL: String) -> String {
        var readable = redactedURL
        if let scheme = readable.range(of: "://") { readable = String(readable[scheme.upperBound...]) }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        var sanitized = String(readable.map { allowed.contains($0) ? $0 : "-" })
        while sanitized.contains("--") { sanitized = sanitized.replacingOccurrences(of: "--", with: "-") }
        sanitized = sanitized.trimmingCharacters(in: CharacterSet(charactersIn: "-."))
        if sanitized.hasSuffix(".git") { sanitized.removeLast(4) }
        if sanitized.count > 60 { sanitized = String(sanitized.suffix(60)) }
        return "\(sanitized)-\(shortHash(redactedURL)).git"
    }

    private static func shortHash(_ text: String) -> String {
        LibGit2.ensureInitialized()
        var oid = git_oid()
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { git_odb_hash(&oid, $0.baseAddress, $0.count, GIT_OBJECT_BLOB) }
        return String(ObjectID(oid).hex.prefix(10))
    }
}

/// The mutable part of `RepositoryCache`, behind a lock (internal).
final class CacheState: @unchecked Sendable {
    private let mutex = NSLock()
    private var repositories: [GitRemote: CachedRepository] = [:]
    private var folders: [String: CloneFolder] = [:]
    private var caDone = false
    /// The bound on open libgit2 handles, shared by every folder of the cache.
    let openHandles: OpenHandleLimit

    init(openHandles: OpenHandleLimit) { self.openHandles = openHandles }

    func caApplied() -> Bool { mutex.withLock { caDone } }
    func markCAApplied() { mutex.withLock { caDone = true } }

    /// Returns the repository for `remote`, creating it under the folder's lock so two threads never
    /// initialise one folder at once. Repositories of one folder share one `CloneFolder` (lock and handle).
    ///
    /// The cache-wide lock is never held while waiting for a folder's lock (which a push may hold for a
    /// whole network round trip): other remotes are served meanwhile. Two threads that race to open one
    /// remote both get through `create`; the first to register wins and the other value is dropped.
    func repository(for remote: GitRemote, folder: URL,
                    create: (CloneFolder) throws -> CachedRepository) throws -> CachedRepository {
        let (existing, clone) = mutex.withLock { () -> (CachedRepository?, CloneFolder) in
            let clone = folders[folder.path] ?? CloneFolder(path: folder, openHandles: openHandles)
            folders[folder.path] = clone
            return (repositories[remote], clone)
        }
        if let existing { return existing }
        // Another GitRemote value for the same folder may be mid-operation: take its lock while opening.
        let created = try clone.lock.withLock { try create(clone) }
        return mutex.withLock {
            if let winner = repositories[remote] { return winner }
            repositories[remote] = created
            return created
        }
    }

    /// The folder's shared state when this process has used it.
    func openedFolder(_ folder: URL) -> CloneFolder? { mutex.withLock { folders[folder.path] } }

    /// Forgets a pruned folder: its repositories and shared state (a `CachedRepository` still held
    /// somewhere reopens the folder, creating it again, on its next use).
    func forget(_ folder: URL) {
        mutex.withLock {
            folders[folder.path] = nil
            repositories = repositories.filter { $0.value.path.path != folder.path }
        }
    }
}
