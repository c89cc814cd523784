import CGit2
import Foundation

extension CachedRepository {
    /// Builds a commit on `parent` whose tree is the parent's with `changes` written (files replaced or added,
    /// intermediate folders created), without a work tree. No ref is moved: push the result with `push`.
    ///
    /// - Parameters:
    ///   - changes: repo-relative path -> new contents, e.g. `["apps/api/prod/values.yaml": data]`.
    ///   - author: used as author and committer.
    ///   - message: kept as given (trailers such as `Promobot-Policy: oms` included); a final newline is added
    ///     when missing, as git does.
    /// - Returns: the new commit's id.
    /// - Throws: `GitError` `.notFound` when `parent` is not in the cache, `.invalidArgument` for bad or
    ///   conflicting paths (a path that is both a file and a folder).
    ///
    /// Runs on a thread of its own, under the repository's lock.
    public func commit(parent: ObjectID, changes: [String: Data], author: GitSignature, message: String) async throws -> ObjectID {
        try await offPool { try $0.blockingCommit(parent: parent, changes: changes, author: author, message: message) }
    }

    /// `commit(parent:changes:author:message:)` on the calling thread, which may block.
    func blockingCommit(parent: ObjectID, changes: [String: Data], author: GitSignature, message: String) throws -> ObjectID {
        try locked("committing to") {
            var entries: [([String], Data)] = []
            for (path, data) in changes {
                let normalized = try Self.normalize(path, operation: "commit \(path)")
                guard !normalized.isEmpty else {
                    throw GitError(kind: .invalidArgument, operation: "commit", message: "empty file path in changes")
                }
                entries.append((normalized.split(separator: "/").map(String.init), data))
            }
            let baseTree = try handle.withCommitTree(parent) { tree in git_tree_id(tree).pointee }
            let treeOID = try buildTree(base: baseTree, entries: entries[...].map { ($0.0[...], $0.1) }, prefix: "")

            var signature: UnsafeMutablePointer<git_signature>?
            try check(git_signature_new(&signature, author.name, author.email,
                                        git_time_t(author.time.timeIntervalSince1970.rounded(.down)), 0),
                      operation: "git_signature_new")
            defer { git_signature_free(signature) }
            let text = message.hasSuffix("\n") ? message : message + "\n"
            return try handle.withCommit(parent) { parentCommit throws(GitError) in
                try handle.withTree(treeOID) { tree throws(GitError) in
                    var commitOID = git_oid()
                    var parents: [OpaquePointer?] = [parentCommit]
                    try check(git_commit_create(&commitOID, handle.pointer, nil, signature, signature, nil, text,
                                                tree, 1, &parents),
                              operation: "git_commit_create")
                    return ObjectID(commitOID)
                }
            }
        }
    }

    /// Writes the tree `base` (nil: empty) with `entries` applied; returns the new tree id.
    private func buildTree(base: git_oid?, entries: [(ArraySlice<String>, Data)], prefix: String) throws(GitError) -> git_oid {
        var builder: OpaquePointer?
        if let base {
            _ = try handle.withTree(base) { tree throws(GitError) in
                try check(git_treebuilder_new(&builder, handle.pointer, tree), operation: "git_treebuilder_new")
            }
        } else {
            try check(git_treebuilder_new(&builder, handle.pointer, nil), operation: "git_treebuilder_new")
        }
        guard let builder else { throw GitError(kind: .other, operation: "git_treebuilder_new", message: "no builder") }
        defer { git_treebuilder_free(builder) }

        var files: [String: Data] = [:]
        var folders: [String: [(ArraySlice<String>, Data)]] = [:]
        for (components, data) in entries {
            guard let first = components.first else { continue }
            if components.count == 1 { files[first] = data } else { folders[first, default: []].append((components.dropFirst(), data)) }
        }
        for name in files.keys where folders[name] != nil {
            let path = prefix.isEmpty ? name : prefix + "/" + name
            throw GitError(kind: .invalidArgument, operation: "commit",
                           message: "'\(path)' is given both as a file and as a folder")
        }
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            var blob = git_oid()
            let rc = data.withUnsafeBytes { bytes in
                git_blob_create_from_buffer(&blob, handle.pointer, bytes.baseAddress, bytes.count)
            }
            try check(rc, operation: "git_blob_create_from_buffer \(name)")
            var mode = GIT_FILEMODE_BLOB
            if let existing = git_treebuilder_get(builder, name), git_tree_entry_filemode(existing) == GIT_FILEMODE_BLOB_EXECUTABLE {
                mode = GIT_FILEMODE_BLOB_EXECUTABLE
            }
            try check(git_treebuilder_insert(nil, builder, name, &blob, mode), operation: "git_treebuilder_insert \(name)")
        }
        for (name, children) in folders.sorted(by: { $0.key < $1.key }) {
            var subBase: git_oid?
            if let existing = git_treebuilder_get(builder, name), git_tree_entry_type(existing) == GIT_OBJECT_TREE {
                subBase = git_tree_entry_id(existing).pointee
            }
            var sub = try buildTree(base: subBase, entries: children, prefix: prefix.isEmpty ? name : prefix + "/" + name)
            try check(git_treebuilder_insert(nil, builder, name, &sub, GIT_FILEMODE_TREE), operation: "git_treebuilder_insert \(name)/")
        }
        var result = git_oid()
        try check(git_treebuilder_write(&result, builder), operation: "git_treebuilder_write")
        return result
    }
}
