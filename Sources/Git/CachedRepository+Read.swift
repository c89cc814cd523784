import CGit2
import Foundation

extension CachedRepository {
    /// The contents of the file at `path` in `commit`, or nil when there is no file there (absent, or a folder).
    /// Runs on a thread of its own, under the repository's lock.
    /// - Throws: `GitError` `.notFound` when `commit` is not in the cache, `.invalidArgument` for a bad path.
    public func readFile(_ path: String, at commit: ObjectID) async throws -> Data? {
        try await offPool { try $0.blockingReadFile(path, at: commit) }
    }

    /// `readFile(_:at:)` on the calling thread, which may block.
    func blockingReadFile(_ path: String, at commit: ObjectID) throws -> Data? {
        try locked {
            let normalized = try Self.normalize(path, operation: "readFile \(path)")
            return try handle.withCommitTree(commit) { tree throws(GitError) -> Data? in
                guard !normalized.isEmpty, let entry = try handle.entry(at: normalized, in: tree),
                      entry.type == GIT_OBJECT_BLOB else { return nil }
                return try handle.blobData(entry.oid)
            }
        }
    }

    /// Every file under `folder` in `commit`, recursively, as sorted repo-relative paths.
    /// A `folder` that is a file lists itself; an absent one lists nothing; "" lists the whole tree.
    /// Runs on a thread of its own, under the repository's lock.
    /// - Throws: `GitError` `.notFound` when `commit` is not in the cache, `.invalidArgument` for a bad path.
    public func listFiles(under folder: String, at commit: ObjectID) async throws -> [String] {
        try await offPool { try $0.blockingListFiles(under: folder, at: commit) }
    }

    /// `listFiles(under:at:)` on the calling thread, which may block.
    func blockingListFiles(under folder: String, at commit: ObjectID) throws -> [String] {
        try locked {
            let normalized = try Self.normalize(folder, operation: "listFiles \(folder)")
            let found = try handle.withCommitTree(commit) { tree throws(GitError) -> [String: git_oid] in
                try self.blobs(under: normalized, in: tree)
            }
            return found.keys.sorted()
        }
    }

    /// Every file under each of `paths` in `commit` (a path that is a file reads itself; absent ones read
    /// nothing): one hop off the pool and one lock for a whole stage, rather than one per file.
    /// Runs on a thread of its own, under the repository's lock.
    /// - Throws: `GitError` `.notFound` when `commit` is not in the cache, `.invalidArgument` for a bad path.
    public func files(under paths: [String], at commit: ObjectID) async throws -> [String: Data] {
        try await offPool { try $0.blockingFiles(under: paths, at: commit) }
    }

    /// `files(under:at:)` on the calling thread, which may block.
    func blockingFiles(under paths: [String], at commit: ObjectID) throws -> [String: Data] {
        try locked {
            let normalized = try paths.map { p throws(GitError) in try Self.normalize(p, operation: "files \(p)") }
            return try contents(under: normalized, at: commit)
        }
    }

    /// Path -> contents of every blob under `paths` at `commit` (internal, caller holds the lock).
    private func contents(under paths: [String], at commit: ObjectID) throws(GitError) -> [String: Data] {
        let blobIDs = try handle.withCommitTree(commit) { tree throws(GitError) in
            var all: [String: git_oid] = [:]
            for path in paths { all.merge(try blobs(under: path, in: tree)) { first, _ in first } }
            return all
        }
        var files: [String: Data] = [:]
        for (path, oid) in blobIDs { files[path] = try handle.blobData(oid) }
        return files
    }

    /// Path -> blob oid for everything under `path` in `tree` (internal, caller holds the lock).
    func blobs(under path: String, in tree: OpaquePointer) throws(GitError) -> [String: git_oid] {
        guard let entry = try handle.entry(at: path, in: tree) else { return [:] }
        var result: [String: git_oid] = [:]
        if entry.type == GIT_OBJECT_BLOB {
            result[path] = entry.oid
        } else if entry.type == GIT_OBJECT_TREE {
            try handle.blobs(inTree: entry.oid, prefix: path, into: &result)
        }
        return result
    }

    /// First-parent history of `paths` from `tip`, newest first, for "since when did these paths hold this?".
    ///
    /// Includes each commit whose content under `paths` differs from its first parent's (compared by tree/blob
    /// ids), and stops at the first commit whose committer time is at or before `since`: that commit is always
    /// included (whether or not it changed the paths) and its `files` are the state in effect at `since`.
    /// If the walk reaches the root or `maxCommits` examined commits first, the last snapshot is simply the oldest
    /// change found.
    /// - Parameters:
    ///   - tip: where to start, usually a `refresh` tip.
    ///   - paths: repo-relative files or folders; "" means the whole tree.
    ///   - since: the horizon.
    ///   - maxCommits: the most commits examined (not returned), bounding the cost on long histories.
    /// Runs on a thread of its own, under the repository's lock.
    /// - Throws: `GitError` `.notFound` when `tip` (or an ancestor) is not in the cache, `.invalidArgument`.
    public func history(from tip: ObjectID, paths: [String], since: Date, maxCommits: Int) async throws -> [PathSnapshot] {
        try await offPool { try $0.blockingHistory(from: tip, paths: paths, since: since, maxCommits: maxCommits) }
    }

    /// `history(from:paths:since:maxCommits:)` on the calling thread, which may block.
    func blockingHistory(from tip: ObjectID, paths: [String], since: Date, maxCommits: Int) throws -> [PathSnapshot] {
        try locked {
            let normalized = try paths.map { p throws(GitError) in try Self.normalize(p, operation: "history \(p)") }
            var snapshots: [PathSnapshot] = []
            var current: ObjectID? = tip
            var examined = 0
            var cachedState: (commit: ObjectID, state: [String: String])?
            while let commit = current, examined < maxCommits {
                examined += 1
                let (time, parent) = try handle.withCommit(commit) { pointer throws(GitError) -> (Date, ObjectID?) in
                    let time = Date(timeIntervalSince1970: TimeInterval(git_commit_time(pointer)))
                    let parent = git_commit_parentcount(pointer) > 0 ? git_commit_parent_id(pointer, 0).map(ObjectID.init) : nil
                    return (time, parent)
                }
                let state = cachedState?.commit == commit ? cachedState!.state : try pathState(commit, paths: normalized)
                if time <= since {
                    snapshots.append(try snapshot(commit, time: time, paths: normalized))
                    break
                }
                let parentState = try parent.map { p throws(GitError) in try pathState(p, paths: normalized) } ?? [:]
                if state != parentState {
                    snapshots.append(try snapshot(commit, time: time, paths: normalized))
                }
                if let parent { cachedState = (parent, parentState) }
                current = parent
            }
            return snapshots
        }
    }

    /// path -> object id hex of each requested path that exists at `commit` (a cheap fingerprint).
    private func pathState(_ commit: ObjectID, paths: [String]) throws(GitError) -> [String: String] {
        try handle.withCommitTree(commit) { tree throws(GitError) in
            var state: [String: String] = [:]
            for path in paths {
                if let entry = try handle.entry(at: path, in: tree) { state[path] = ObjectID(entry.oid).hex }
            }
            return state
        }
    }

    private func snapshot(_ commit: ObjectID, time: Date, paths: [String]) throws(GitError) -> PathSnapshot {
        let files = try contents(under: paths, at: commit)
        let (author, message, merged) = try handle.withCommit(commit) { pointer throws(GitError) -> (String, String, [ObjectID]) in
            let author = git_commit_author(pointer).flatMap { $0.pointee.name.map { String(cString: $0) } } ?? ""
            let message = git_commit_message(pointer).map { String(cString: $0) } ?? ""
            let others = (0..<git_commit_parentcount(pointer)).dropFirst().compactMap { git_commit_parent_id(pointer, $0).map(ObjectID.init) }
            return (author, message, others)
        }
        var messages = [message]
        for parent in merged {
            // A merge's other parents are usually in the cache (the branch was fetched); skip them when not.
            if let text = try? handle.withCommit(parent, { pointer throws(GitError) in git_commit_message(pointer).map { String(cString: $0) } ?? "" }) {
                messages.append(text)
            }
        }
        return PathSnapshot(commit: commit, time: time, files: files, author: author, messages: messages)
    }
}
