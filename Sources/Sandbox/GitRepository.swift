import Foundation

/// A bare repository on disk, driven through the `git` CLI. Synchronous: callers run it off
/// the cooperative pool (see `BlockingWork`). Thread-safe as far as git itself is.
struct GitRepository: Sendable {
    let url: URL

    /// The name of the file (inside the bare repo) listing protected branches, one per line
    /// as `<branch> <push level>`; read by the pre-receive hook.
    static let protectedFile = "sandbox-protected-branches"

    /// Environment for git: no user config, no prompts, fixed identity.
    static var baseEnvironment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["HOME"] = FileManager.default.temporaryDirectory.path
        env["GIT_COMMITTER_NAME"] = "Sandbox"
        env["GIT_COMMITTER_EMAIL"] = "sandbox@sandbox.invalid"
        env["GIT_AUTHOR_NAME"] = "Sandbox"
        env["GIT_AUTHOR_EMAIL"] = "sandbox@sandbox.invalid"
        return env
    }

    /// Runs `git --git-dir=<repo> args...`.
    @discardableResult
    func git(_ args: [String], stdin: Data? = nil, environment extra: [String: String] = [:]) throws -> ProcessResult {
        var env = Self.baseEnvironment
        for (k, v) in extra { env[k] = v }
        return try ProcessRunner.run("/usr/bin/env", ["git", "--git-dir=\(url.path)"] + args, environment: env, stdin: stdin)
    }

    /// Runs git and throws `SandboxError` on a non-zero exit.
    @discardableResult
    func checked(_ what: String, _ args: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
        let result = try git(args, stdin: stdin, environment: environment)
        guard result.status == 0 else { throw SandboxError.git("\(what) in \(url.lastPathComponent)", result) }
        return result
    }

    /// Creates the bare repository with its pre-receive hook.
    static func create(at url: URL, defaultBranch: String) throws -> GitRepository {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let result = try ProcessRunner.run("/usr/bin/env", ["git", "init", "--bare", "--quiet", "--initial-branch=\(defaultBranch)", url.path],
                                           environment: baseEnvironment)
        guard result.status == 0 else { throw SandboxError.git("init \(url.path)", result) }
        let repo = GitRepository(url: url)
        try repo.checked("config", ["config", "http.receivepack", "true"])
        try repo.checked("config", ["config", "core.logAllRefUpdates", "false"])
        try repo.checked("config", ["config", "gc.auto", "0"])
        for (name, script) in [("pre-receive", preReceiveHook), ("post-receive", postReceiveHook)] {
            let hook = url.appendingPathComponent("hooks/\(name)")
            try script.write(to: hook, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook.path)
        }
        try "".write(to: url.appendingPathComponent(protectedFile), atomically: true, encoding: .utf8)
        return repo
    }

    /// Enforces GitLab's access checks for pushes: role (SANDBOX_ROLE_LEVEL) against each
    /// protected branch's push level, force pushes and deletions of protected branches.
    static let preReceiveHook = #"""
    #!/bin/sh
    # Installed by promobot's Sandbox: GitLab-like checks on pushes.
    zero=0000000000000000000000000000000000000000
    level="${SANDBOX_ROLE_LEVEL:-0}"
    status=0
    while read old new ref; do
      case "$ref" in refs/heads/*) ;; *) continue ;; esac
      branch="${ref#refs/heads/}"
      if [ "$level" -lt 30 ]; then
        echo "GitLab: You are not allowed to push code to this project."; status=1; continue
      fi
      push=$(awk -v b="$branch" '$1 == b { print $2 }' "$GIT_DIR/sandbox-protected-branches" 2>/dev/null)
      [ -z "$push" ] && continue
      if [ "$new" = "$zero" ]; then
        echo "GitLab: You can only delete protected branches using the web interface."; status=1; continue
      fi
      if [ "$old" = "$zero" ]; then
        if [ "$level" -lt "$push" ] || [ "$push" -eq 0 ]; then
          echo "GitLab: You are not allowed to create protected branches on this project."; status=1
        fi
        continue
      fi
      if [ "$push" -eq 0 ] || [ "$level" -lt "$push" ]; then
        echo "GitLab: You are not allowed to push code to protected branches on this project."; status=1; continue
      fi
      if ! git merge-base --is-ancestor "$old" "$new" 2>/dev/null; then
        echo "GitLab: You are not allowed to force push code to a protected branch on this project."; status=1
      fi
    done
    exit $status
    """#

    /// Appends the refs a push updated (`<old> <new> <ref>` per line, as git hands them to the hook) to the
    /// file named by `SANDBOX_PUSH_LOG`, which the sandbox's git smart-HTTP handler reads to send Push Hooks.
    static let postReceiveHook = #"""
    #!/bin/sh
    # Installed by promobot's Sandbox: reports updated refs for webhooks.
    if [ -n "$SANDBOX_PUSH_LOG" ]; then cat >> "$SANDBOX_PUSH_LOG"; else cat > /dev/null; fi
    exit 0
    """#

    /// Rewrites the protected-branches file read by the hook.
    func writeProtected(_ branches: [String: Int]) throws {
        let text = Self.protectedText(branches)
        try text.write(to: url.appendingPathComponent(Self.protectedFile), atomically: true, encoding: .utf8)
    }

    /// The protected-branches file's text: `<branch> <push level>` a line, sorted.
    static func protectedText(_ branches: [String: Int]) -> String {
        branches.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined()
    }

    // MARK: - Refs

    /// The SHA of `refs/heads/<branch>`, read from the loose ref or packed-refs (no process).
    func branchSHA(_ branch: String) -> String? {
        let ref = "refs/heads/\(branch)"
        if let text = try? String(contentsOf: url.appendingPathComponent(ref), encoding: .utf8) {
            let sha = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if sha.count == 40 { return sha }
        }
        guard let packed = try? String(contentsOf: url.appendingPathComponent("packed-refs"), encoding: .utf8) else { return nil }
        for line in packed.split(separator: "\n") where line.hasSuffix(" " + ref) {
            return String(line.prefix(40))
        }
        return nil
    }

    /// All branches and their SHAs, sorted by name.
    func branches() throws -> [(name: String, sha: String)] {
        let out = try checked("for-each-ref", ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"]).output
        return out.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (String(parts[1].dropFirst("refs/heads/".count)), String(parts[0]))
        }.sorted { $0.name < $1.name }
    }

    /// Moves (or creates) a branch; with `old`, only if it still points there.
    func updateBranch(_ branch: String, to sha: String, from old: String? = nil) throws {
        var args = ["update-ref", "refs/heads/\(branch)", sha]
        if let old { args.append(old) }
        try checked("update-ref \(branch)", args)
    }

    /// Deletes a branch.
    func deleteBranch(_ branch: String) throws {
        try checked("delete branch \(branch)", ["update-ref", "-d", "refs/heads/\(branch)"])
    }

    /// Resolves any revision (branch, tag, SHA) to a commit SHA, or nil.
    func resolve(_ rev: String) -> String? {
        guard let result = try? git(["rev-parse", "--verify", "--quiet", "\(rev)^{commit}"]), result.status == 0 else { return nil }
        return result.output
    }

    // MARK: - Content

    /// The text of `path` at `ref`, or nil when the ref or the file does not exist.
    func fileContent(ref: String, path: String) -> String? {
        guard let result = try? git(["cat-file", "blob", "\(ref):\(path)"]), result.status == 0 else { return nil }
        return String(decoding: result.stdout, as: UTF8.self)
    }

    /// Commits `files` (path -> content; other files kept) onto `parent` as one commit on
    /// `branch`, via `git fast-import`. Returns the new SHA.
    func commit(branch: String, parent: String?, files: [String: String], deleting: [String] = [], message: String, author: String, date: Date = Date()) throws -> String {
        let identity = Self.identity(author)
        let when = "\(Int(date.timeIntervalSince1970)) +0000"
        var stream = Data()
        func add(_ text: String) { stream.append(contentsOf: Array(text.utf8)) }
        func data(_ text: String) { let bytes = Array(text.utf8); add("data \(bytes.count)\n"); stream.append(contentsOf: bytes); add("\n") }
        add("commit refs/heads/\(branch)\n")
        add("author \(identity) \(when)\n")
        add("committer \(identity) \(when)\n")
        data(message)
        if let parent { add("from \(parent)\n") }
        for (path, content) in files.sorted(by: { $0.key < $1.key }) {
            add("M 100644 inline \(Self.quotePath(path))\n")
            data(content)
        }
        for path in deleting { add("D \(Self.quotePath(path))\n") }
        add("done\n")
        try checked("fast-import onto \(branch)", ["fast-import", "--quiet", "--done", "--force"], stdin: stream)
        guard let sha = branchSHA(branch) ?? resolve("refs/heads/\(branch)") else {
            throw SandboxError("sandbox: commit on \(branch) in \(url.lastPathComponent) left no branch tip")
        }
        return sha
    }

    static func identity(_ author: String) -> String {
        if author.contains("<") { return author }
        let email = author.lowercased().replacingOccurrences(of: " ", with: ".")
        return "\(author) <\(email)@sandbox.invalid>"
    }

    static func quotePath(_ path: String) -> String {
        guard path.contains(where: { $0 == " " || $0 == "\"" || $0 == "\\" || $0 == "\n" }) else { return path }
        let escaped = path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }

    // MARK: - Merging

    /// Whether `ancestor` is reachable from `descendant`.
    func isAncestor(_ ancestor: String, of descendant: String) throws -> Bool {
        let result = try git(["merge-base", "--is-ancestor", ancestor, descendant])
        switch result.status {
        case 0: return true
        case 1: return false
        default: throw SandboxError.git("merge-base", result)
        }
    }

    /// Three-way merges `source` into `target` without touching refs: the merged tree, or nil on conflict.
    func mergeTree(target: String, source: String) throws -> String? {
        let result = try git(["merge-tree", "--write-tree", "--no-messages", target, source])
        switch result.status {
        case 0: return result.output.split(separator: "\n").first.map(String.init)
        case 1: return nil
        default: throw SandboxError.git("merge-tree", result)
        }
    }

    /// Creates a commit object for `tree` with `parents`.
    func commitTree(_ tree: String, parents: [String], message: String, author: String, date: Date = Date()) throws -> String {
        let identity = Self.identity(author)
        let (name, email) = Self.split(identity)
        let when = "@\(Int(date.timeIntervalSince1970)) +0000"
        let env = ["GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
                   "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when]
        var args = ["commit-tree", tree]
        for parent in parents { args += ["-p", parent] }
        return try checked("commit-tree", args, stdin: Data(message.utf8), environment: env).output
    }

    static func split(_ identity: String) -> (String, String) {
        guard let open = identity.firstIndex(of: "<"), let close = identity.firstIndex(of: ">") else { return (identity, "") }
        return (identity[..<open].trimmingCharacters(in: .whitespaces), String(identity[identity.index(after: open)..<close]))
    }

    /// The tree of a commit.
    func tree(of commit: String) throws -> String {
        try checked("rev-parse tree", ["rev-parse", "\(commit)^{tree}"]).output
    }

    // MARK: - History

    /// Commit metadata as GitLab's commit entity needs it.
    struct Commit: Sendable {
        var id: String
        var parents: [String]
        var authorName: String
        var authorEmail: String
        var authoredDate: String
        var committerName: String
        var committerEmail: String
        var committedDate: String
        var message: String
        var title: String { String(message.split(separator: "\n", omittingEmptySubsequences: false).first ?? "") }
    }

    /// Commits reachable from `range` (e.g. `main..feature` or a SHA), newest first.
    func log(_ range: [String], limit: Int? = nil) throws -> [Commit] {
        var args = ["log", "--format=\(Self.commitFormat)%x1e"]
        if let limit { args.append("-n\(limit)") }
        args += range
        args.append("--")
        let result = try git(args)
        guard result.status == 0 else { throw SandboxError.git("log", result) }
        return result.output.split(separator: "\u{1e}").compactMap { Self.parseCommit($0) }
    }

    /// One commit of a push as GitLab's Push Hook lists it: the commit and the paths it added, modified and removed.
    struct PushedCommit: Sendable {
        var commit: Commit
        var added: [String]
        var modified: [String]
        var removed: [String]
    }

    /// The commits of `range` for a Push Hook: the newest `limit`, newest first, with their changed paths
    /// (renames as a removal and an addition), and how many commits the range holds in all.
    func pushCommits(_ range: [String], limit: Int = 20) throws -> (commits: [PushedCommit], total: Int) {
        let count = try git(["rev-list", "--count"] + range + ["--"])
        guard count.status == 0 else { throw SandboxError.git("rev-list --count", count) }
        let result = try git(["log", "--no-renames", "--name-status", "-n\(limit)", "--format=%x1e\(Self.commitFormat)%x1d"] + range + ["--"])
        guard result.status == 0 else { throw SandboxError.git("log", result) }
        let commits = result.output.split(separator: "\u{1e}").compactMap { record -> PushedCommit? in
            let parts = record.split(separator: "\u{1d}", maxSplits: 1, omittingEmptySubsequences: false)
            guard let commit = Self.parseCommit(parts[0]) else { return nil }
            var pushed = PushedCommit(commit: commit, added: [], modified: [], removed: [])
            for line in (parts.count > 1 ? parts[1] : "").split(separator: "\n") {
                let fields = line.split(separator: "\t", maxSplits: 1)
                guard fields.count == 2 else { continue }
                switch fields[0].first {
                case "A": pushed.added.append(String(fields[1]))
                case "D": pushed.removed.append(String(fields[1]))
                default: pushed.modified.append(String(fields[1]))
                }
            }
            return pushed
        }
        return (commits, Int(count.output) ?? commits.count)
    }

    /// `git log --format` fields of `Commit`, separated by 0x1f; the message last.
    static let commitFormat = "%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%ce%x1f%cI%x1f%B"

    static func parseCommit(_ record: Substring) -> Commit? {
        let f = record.trimmingCharacters(in: .newlines).split(separator: "\u{1f}", omittingEmptySubsequences: false).map(String.init)
        guard f.count >= 9 else { return nil }
        return Commit(id: f[0], parents: f[1].split(separator: " ").map(String.init), authorName: f[2], authorEmail: f[3],
                      authoredDate: f[4], committerName: f[5], committerEmail: f[6], committedDate: f[7],
                      message: f[8...].joined(separator: "\u{1f}").trimmingCharacters(in: .newlines))
    }
}
