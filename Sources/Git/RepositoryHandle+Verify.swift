import CGit2
import Foundation

extension RepositoryHandle {
    /// Opens the existing bare repository at `path` (no creation).
    /// - Throws: `GitError` with libgit2's message, e.g. "path is not a repository" when `objects/` is gone.
    static func openBare(at path: URL) throws(GitError) -> RepositoryHandle {
        LibGit2.ensureInitialized()
        var repo: OpaquePointer?
        try check(git_repository_open_bare(&repo, path.path), operation: "git_repository_open_bare \(path.path)")
        guard let repo else {
            throw GitError(kind: .other, operation: "open repository \(path.path)", message: "libgit2 returned no repository")
        }
        return RepositoryHandle(pointer: repo)
    }

    /// Creates an empty bare repository at `path` (no remote in its config).
    /// - Throws: `GitError` (`.diskFull` when there is no room for it).
    static func initBare(at path: URL) throws(GitError) -> RepositoryHandle {
        LibGit2.ensureInitialized()
        var repo: OpaquePointer?
        try? FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
        try check(git_repository_init(&repo, path.path, 1), operation: "git_repository_init \(path.path)")
        guard let repo else {
            throw GitError(kind: .other, operation: "init repository \(path.path)", message: "libgit2 returned no repository")
        }
        return RepositoryHandle(pointer: repo)
    }

    // MARK: - Consistency

    /// Reads back what every later step relies on, and throws the first failure: the config parses, `HEAD`
    /// reads, and every tracking ref (`refs/remotes/origin/*`) names a commit whose whole tree (every
    /// folder and file, each checked against its hash by libgit2's strict verification) is readable.
    ///
    /// Catches the usual damage of a clone: garbage in `config` or `HEAD`, a corrupted ref, a deleted or
    /// truncated packfile or index, a missing or zero-length loose object. Older history is read only when
    /// a step needs it; a failure there is caught by `GitError.indicatesDamage`. Cost: one read of each
    /// tracked tip's tree (a few milliseconds for a deploy repository of some hundred files).
    func verify() throws(GitError) {
        var config: OpaquePointer?
        try check(git_repository_config_snapshot(&config, pointer), operation: "read config")
        git_config_free(config)
        try check(git_repository_head_unborn(pointer), operation: "read HEAD")
        var visitedTrees = Set<ObjectID>()
        for name in try referenceNames(matching: "refs/remotes/origin/*", looseUnder: "refs/remotes/origin") {
            var oid = git_oid()
            try check(git_reference_name_to_id(&oid, pointer, name), operation: "read \(name)")
            var commit: OpaquePointer?
            try check(git_commit_lookup(&commit, pointer, &oid), operation: "read the commit \(ObjectID(oid).hex) of \(name)")
            defer { git_commit_free(commit) }
            guard let tree = git_commit_tree_id(commit)?.pointee else {
                throw GitError(kind: .other, operation: "read the tree of \(name)", message: "the commit names no tree")
            }
            try readTree(tree, visited: &visitedTrees)
        }
    }

    /// Names of the references matching `glob`, plus every loose ref file under `folder` (libgit2's
    /// iterator silently skips a loose ref it cannot parse, which is exactly the damage to find).
    private func referenceNames(matching glob: String, looseUnder folder: String) throws(GitError) -> [String] {
        var iterator: OpaquePointer?
        try check(git_reference_iterator_glob_new(&iterator, pointer, glob), operation: "list \(glob)")
        defer { git_reference_iterator_free(iterator) }
        var names: [String] = []
        var name: UnsafePointer<CChar>?
        while true {
            let rc = git_reference_next_name(&name, iterator)
            if rc == GIT_ITEROVER.rawValue { git_error_clear(); break }
            try check(rc, operation: "list \(glob)")
            if let name { names.append(String(cString: name)) }
        }
        let gitDirectory = String(cString: git_repository_path(pointer))
        let loose = URL(fileURLWithPath: gitDirectory).appendingPathComponent(folder).path
        if let walker = FileManager.default.enumerator(atPath: loose) {
            while let relative = walker.nextObject() as? String {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: loose + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                    names.append(folder + "/" + relative)
                }
            }
        }
        return Array(Set(names)).sorted()
    }

    /// Reads the tree `oid` and, recursively, every tree and blob under it (each tree once).
    private func readTree(_ oid: git_oid, visited: inout Set<ObjectID>) throws(GitError) {
        guard visited.insert(ObjectID(oid)).inserted else { return }
        var children: [(git_oid, git_object_t)] = []
        try withTree(oid) { tree in
            for index in 0..<git_tree_entrycount(tree) {
                guard let entry = git_tree_entry_byindex(tree, index) else { continue }
                children.append((git_tree_entry_id(entry).pointee, git_tree_entry_type(entry)))
            }
        }
        for (child, type) in children {
            if type == GIT_OBJECT_TREE {
                try readTree(child, visited: &visited)
            } else if type == GIT_OBJECT_BLOB {
                var blobID = child
                var blob: OpaquePointer?
                try check(git_blob_lookup(&blob, pointer, &blobID), operation: "read the file \(ObjectID(child).hex)")
                git_blob_free(blob)
            }
        }
    }

    /// Reads every object a push of `commit` would send (reachable from it, not from any tracking ref),
    /// exactly as the push builds its pack, but sending the bytes nowhere: a push then never starts from an
    /// object store with a half-written or corrupted object in it.
    /// - Throws: `GitError` naming the object that cannot be read.
    func verifyOutgoing(_ commit: ObjectID) throws(GitError) {
        try withPackBuilder(walking: { walk throws(GitError) in
            var oid = commit.oid
            try check(git_revwalk_push(walk, &oid), operation: "read the commit \(commit.hex) to push")
            try check(git_revwalk_hide_glob(walk, "refs/remotes/origin/*"), operation: "read the tracking refs")
        }) { builder throws(GitError) in
            try check(git_packbuilder_foreach(builder, { _, _, _ in 0 }, nil), operation: "read the objects to push")
        }
    }

    /// Runs `body` with a pack builder (one thread) holding every object of the commits a revision walk
    /// reaches; `setUp` pushes and hides the walk's starting points. Both are freed afterwards.
    func withPackBuilder<T>(walking setUp: (OpaquePointer) throws(GitError) -> Void,
                            _ body: (OpaquePointer) throws(GitError) -> T) throws(GitError) -> T {
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, pointer), operation: "git_revwalk_new")
        defer { git_revwalk_free(walk) }
        guard let walk else { throw GitError(kind: .other, operation: "git_revwalk_new", message: "no revision walk") }
        try setUp(walk)
        var builder: OpaquePointer?
        try check(git_packbuilder_new(&builder, pointer), operation: "git_packbuilder_new")
        defer { git_packbuilder_free(builder) }
        guard let builder else { throw GitError(kind: .other, operation: "git_packbuilder_new", message: "no pack builder") }
        git_packbuilder_set_threads(builder, 1)
        try check(git_packbuilder_insert_walk(builder, walk), operation: "read the objects to pack")
        return try body(builder)
    }
}
