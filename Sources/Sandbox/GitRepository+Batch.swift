import Foundation

// Creating many repositories at once, for seed files with `generate:` (docs/sandbox.md "Seed files").
//
// `create` + `commit` cost five git processes per repository (init, three configs, fast-import): 1,000
// projects took 37.5 s on the 2-core development machine (load average 3.5). Here one `git init` makes a pool
// repository, one `git fast-import` writes every first commit into it (0.13 s for 1,000), and each project is
// a bare repository written as plain files (git's own config text from the pool, HEAD, the branch ref, the
// hooks) that borrows the pool's objects through `objects/info/alternates`, as GitLab's object pools do for
// forks: 0.8 s for 1,000 projects idle, 2.3 s under the same load. Later commits, merges and pushes write into
// the project's own object store; the pool is only read.
extension GitRepository {
    /// One repository to create: where, its default branch, the files of its first commit and its protected
    /// branches (branch -> push access level, as `writeProtected` takes them).
    struct Initial {
        var url: URL
        var defaultBranch: String
        var files: [String: String]
        var protected: [String: Int] = [:]
    }

    /// Creates every repository of `initials` with one root commit (`message` by `author` at `date`) on its
    /// default branch, sharing the objects of a new pool repository at `pool`. Returns each repository
    /// with its commit SHA, in order. Throws `SandboxError` when git fails or a file cannot be written;
    /// repositories already written are left for the caller to discard (the sandbox's data folder is
    /// recreated on every start). Blocking: two git processes in all.
    static func createMany(_ initials: [Initial], pool poolURL: URL, message: String, author: String, date: Date) throws
        -> [(repository: GitRepository, sha: String)] {
        let pool = try create(at: poolURL, defaultBranch: "main")
        let config = try String(contentsOf: poolURL.appendingPathComponent("config"), encoding: .utf8)

        let marks = poolURL.appendingPathComponent("seed-marks")
        var stream = Data()
        let identity = identity(author), when = "\(Int(date.timeIntervalSince1970)) +0000"
        func add(_ text: String) { stream.append(contentsOf: Array(text.utf8)) }
        func data(_ text: String) { let bytes = Array(text.utf8); add("data \(bytes.count)\n"); stream.append(contentsOf: bytes); add("\n") }
        for (index, initial) in initials.enumerated() {
            // `reset` first: each commit is a root commit, not a child of the previous project's.
            add("reset refs/seed/import\ncommit refs/seed/import\nmark :\(index + 1)\n")
            add("author \(identity) \(when)\ncommitter \(identity) \(when)\n")
            data(message)
            for (path, content) in initial.files.sorted(by: { $0.key < $1.key }) {
                add("M 100644 inline \(quotePath(path))\n")
                data(content)
            }
        }
        add("done\n")
        try pool.checked("fast-import of \(initials.count) first commits",
                         ["fast-import", "--quiet", "--done", "--force", "--export-marks=\(marks.path)"], stdin: stream)
        // The pool keeps no ref: a push to a project would otherwise be told about it (`.have`).
        try? FileManager.default.removeItem(at: poolURL.appendingPathComponent("refs/seed"))

        var shas = [String](repeating: "", count: initials.count)
        for line in try String(contentsOf: marks, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, parts[0].hasPrefix(":"), let mark = Int(parts[0].dropFirst()), (1...initials.count).contains(mark) else { continue }
            shas[mark - 1] = String(parts[1])
        }
        let objects = poolURL.appendingPathComponent("objects").path
        return try initials.enumerated().map { index, initial in
            guard shas[index].count == 40 else {
                throw SandboxError("sandbox: git fast-import wrote no commit for \(initial.url.lastPathComponent)")
            }
            let repository = try writeBorrowing(initial, tip: shas[index], config: config, alternates: objects)
            return (repository, shas[index])
        }
    }

    /// Writes a bare repository as plain files: what `git init --bare` and `create` would leave (without git's
    /// sample hooks), whose objects live in `alternates` and whose default branch points at `tip`.
    ///
    /// Plain POSIX calls: Foundation's `createFile(atPath:contents:attributes:)` writes through a temporary
    /// file, renames it and then sets the mode, which made these seven files cost 5 ms a repository.
    private static func writeBorrowing(_ initial: Initial, tip: String, config: String, alternates: String) throws -> GitRepository {
        let root = initial.url.path, defaultBranch = initial.defaultBranch
        for folder in ["objects/info", "objects/pack", "refs/tags", "hooks", "info",
                       "refs/heads/" + defaultBranch.split(separator: "/").dropLast().joined(separator: "/")] {
            try makeFolders(root + "/" + folder)
        }
        let files: [(String, String, mode_t)] = [
            ("HEAD", "ref: refs/heads/\(defaultBranch)\n", 0o644),
            ("config", config, 0o644),
            ("objects/info/alternates", alternates + "\n", 0o644),
            ("refs/heads/\(defaultBranch)", tip + "\n", 0o644),
            ("hooks/pre-receive", preReceiveHook, 0o755),
            ("hooks/post-receive", postReceiveHook, 0o755),
            (protectedFile, protectedText(initial.protected), 0o644),
        ]
        for (path, text, mode) in files {
            let file = root + "/" + path
            let descriptor = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
            let bytes = Array(text.utf8)
            let written = descriptor < 0 ? -1 : bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if descriptor >= 0 { close(descriptor) }
            guard written == bytes.count else {
                throw SandboxError("sandbox: cannot write \(file): \(String(cString: strerror(errno))); check that the data folder is writable")
            }
        }
        return GitRepository(url: initial.url)
    }

    /// `mkdir -p`: creates `path` and the folders above it that are missing.
    private static func makeFolders(_ path: String) throws {
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
        guard errno == ENOENT else {
            throw SandboxError("sandbox: cannot create the folder \(path): \(String(cString: strerror(errno)))")
        }
        try makeFolders((path as NSString).deletingLastPathComponent)
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw SandboxError("sandbox: cannot create the folder \(path): \(String(cString: strerror(errno)))")
        }
    }
}
