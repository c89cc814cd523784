import CGit2
import Foundation

/// Owns one `git_repository` and frees it in `deinit` (internal).
///
/// Not thread-safe: libgit2 allows one thread per repository handle at a time, so every use goes through
/// `CachedRepository`'s lock.
final class RepositoryHandle {
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_repository_free(pointer) }

    // MARK: - Scoped lookups (free in defer)

    func withCommit<T>(_ id: ObjectID, _ body: (OpaquePointer) throws(GitError) -> T) throws(GitError) -> T {
        var oid = id.oid
        var commit: OpaquePointer?
        let rc = git_commit_lookup(&commit, pointer, &oid)
        if rc == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            throw GitError(kind: .notFound, operation: "git_commit_lookup \(id.hex)",
                           message: "commit \(id.hex) is not in the local cache; refresh the branch that contains it first",
                           code: rc)
        }
        try check(rc, operation: "git_commit_lookup \(id.hex)")
        guard let commit else { throw GitError(kind: .notFound, operation: "git_commit_lookup", message: "no commit") }
        defer { git_commit_free(commit) }
        return try body(commit)
    }

    func withCommitTree<T>(_ id: ObjectID, _ body: (OpaquePointer) throws(GitError) -> T) throws(GitError) -> T {
        try withCommit(id) { commit throws(GitError) in
            var tree: OpaquePointer?
            try check(git_commit_tree(&tree, commit), operation: "git_commit_tree \(id.hex)")
            guard let tree else { throw GitError(kind: .other, operation: "git_commit_tree", message: "no tree") }
            defer { git_tree_free(tree) }
            return try body(tree)
        }
    }

    func withTree<T>(_ oid: git_oid, _ body: (OpaquePointer) throws(GitError) -> T) throws(GitError) -> T {
        var oid = oid
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, pointer, &oid), operation: "git_tree_lookup \(ObjectID(oid).hex)")
        guard let tree else { throw GitError(kind: .other, operation: "git_tree_lookup", message: "no tree") }
        defer { git_tree_free(tree) }
        return try body(tree)
    }

    func blobData(_ oid: git_oid) throws(GitError) -> Data {
        var oid = oid
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, pointer, &oid), operation: "git_blob_lookup \(ObjectID(oid).hex)")
        guard let blob else { throw GitError(kind: .other, operation: "git_blob_lookup", message: "no blob") }
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let raw = git_blob_rawcontent(blob) else { return Data() }
        return Data(bytes: raw, count: size)
    }

    /// The entry at `path` in `tree` as (oid, type, filemode), or nil when absent. "" means the tree itself.
    func entry(at path: String, in tree: OpaquePointer) throws(GitError) -> (oid: git_oid, type: git_object_t, mode: git_filemode_t)? {
        if path.isEmpty { return (git_tree_id(tree).pointee, GIT_OBJECT_TREE, GIT_FILEMODE_TREE) }
        var entry: OpaquePointer?
        let rc = git_tree_entry_bypath(&entry, tree, path)
        if rc == GIT_ENOTFOUND.rawValue { git_error_clear(); return nil }
        try check(rc, operation: "git_tree_entry_bypath \(path)")
        guard let entry else { return nil }
        defer { git_tree_entry_free(entry) }
        return (git_tree_entry_id(entry).pointee, git_tree_entry_type(entry), git_tree_entry_filemode(entry))
    }

    /// Every blob under the tree `oid`, as `prefix/relative/path` -> blob oid (submodules skipped).
    func blobs(inTree oid: git_oid, prefix: String, into result: inout [String: git_oid]) throws(GitError) {
        var collected: [(String, git_oid, git_object_t)] = []
        try withTree(oid) { tree in
            let count = git_tree_entrycount(tree)
            for index in 0..<count {
                guard let entry = git_tree_entry_byindex(tree, index) else { continue }
                let name = String(cString: git_tree_entry_name(entry))
                collected.append((prefix.isEmpty ? name : prefix + "/" + name, git_tree_entry_id(entry).pointee,
                                  git_tree_entry_type(entry)))
            }
        }
        for (path, child, type) in collected {
            if type == GIT_OBJECT_TREE {
                try blobs(inTree: child, prefix: path, into: &result)
            } else if type == GIT_OBJECT_BLOB {
                result[path] = child
            }
        }
    }

    func objectExists(_ id: ObjectID) -> Bool {
        var odb: OpaquePointer?
        guard git_repository_odb(&odb, pointer) == 0, let odb else { git_error_clear(); return false }
        defer { git_odb_free(odb) }
        var oid = id.oid
        return git_odb_exists(odb, &oid) == 1
    }

    // MARK: - References

    func referenceTarget(_ name: String) throws(GitError) -> ObjectID? {
        var oid = git_oid()
        let rc = git_reference_name_to_id(&oid, pointer, name)
        if rc == GIT_ENOTFOUND.rawValue || rc == GIT_EINVALIDSPEC.rawValue { git_error_clear(); return nil }
        try check(rc, operation: "git_reference_name_to_id \(name)")
        return ObjectID(oid)
    }

    func setReference(_ name: String, to id: ObjectID, log: String) throws(GitError) {
        var oid = id.oid
        var ref: OpaquePointer?
        try check(git_reference_create(&ref, pointer, name, &oid, 1, log), operation: "git_reference_create \(name)")
        git_reference_free(ref)
    }

    func deleteReference(_ name: String) throws(GitError) {
        var ref: OpaquePointer?
        let rc = git_reference_lookup(&ref, pointer, name)
        if rc == GIT_ENOTFOUND.rawValue { git_error_clear(); return }
        try check(rc, operation: "git_reference_lookup \(name)")
        defer { git_reference_free(ref) }
        try check(git_reference_delete(ref), operation: "git_reference_delete \(name)")
    }
}

/// Runs `body` with a `git_strarray` view of `strings`; the C copies are freed afterwards (internal).
func withStrArray<T>(_ strings: [String], _ body: (UnsafeMutablePointer<git_strarray>) throws(GitError) -> T) throws(GitError) -> T {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var mutableCopies = copies
    return try mutableCopies.withUnsafeMutableBufferPointer { buffer throws(GitError) -> T in
        var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
        return try body(&array)
    }
}
