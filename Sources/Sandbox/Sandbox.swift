import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A GitLab-compatible server (REST v4 subset + git smart HTTP), with Argo CD and Prometheus
/// stand-ins, for tests and `promobot demo`. One loopback host and port serves everything.
///
/// Thread-safety: all state sits behind one `Mutex`; repository mutations (commits, merges,
/// branch deletions) are serialised on one dispatch queue; git runs in child processes on
/// dispatch threads, never on Swift concurrency's cooperative pool while serving requests.
/// The synchronous in-process methods (`commit`, `createProject`...) block their caller for
/// the duration of a git command or two.
public final class Sandbox: Sendable {
    /// Where the bare repositories live (`<data>/repos/<group>/<name>.git`).
    let reposRoot: URL
    let state = Mutex(SandboxState())
    /// Where commit and merge times come from; a demo or test with simulated time sets its own.
    private let clock = Mutex<@Sendable () -> Date>({ Date() })
    let server = Mutex(ServerHandle())
    /// Serialises every repository mutation done by the sandbox itself.
    let repoQueue = DispatchQueue(label: "sandbox.repositories")
    /// Sends webhooks off the request path and logs each delivery.
    let webhookDispatcher = WebhookDispatcher()

    struct ServerHandle: Sendable {
        var task: Task<Void, Never>?
        var group: ServiceGroup?
        var baseURL = URL(string: "http://127.0.0.1:0")!
    }

    /// Prepares a sandbox whose repositories live under `dataDirectory/repos` (created if needed;
    /// repositories from an earlier run are removed, since users, MRs and pipelines live in memory).
    /// Throws when the directory cannot be created or `git` is not installed.
    public init(dataDirectory: URL) throws {
        reposRoot = dataDirectory.appendingPathComponent("repos", isDirectory: true)
        // State is in memory only: repositories left by an earlier run would be orphans.
        try? FileManager.default.removeItem(at: reposRoot)
        try FileManager.default.createDirectory(at: reposRoot, withIntermediateDirectories: true)
        let probe = try ProcessRunner.run("/usr/bin/env", ["git", "--version"])
        guard probe.status == 0 else { throw SandboxError("sandbox: `git` is not runnable: \(probe.errorText); install git 2.38 or newer") }
        addUser("root", token: nil, role: .admin, name: "Administrator")
    }

    /// Makes commits (pushed through the API, seeded, or merges) carry `clock`'s time instead of the
    /// wall clock, so a story with simulated time ("a day later") gets a history that agrees with it.
    public func setClock(_ clock: @escaping @Sendable () -> Date) { self.clock.withLock { $0 = clock } }

    /// The sandbox's idea of now (see `setClock`).
    var now: Date { clock.withLock { $0 }() }

    // MARK: - Server lifecycle

    /// Starts listening on `host:port` (port 0 picks a free one) and returns once the socket is bound.
    /// Calling it again while running does nothing. Throws when binding fails.
    public func start(host: String = "127.0.0.1", port: Int = 0) async throws {
        if server.withLock({ $0.task != nil }) { return }
        var logger = Logger(label: "promobot.sandbox")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let failure = Mutex<(any Error)?>(nil)
        let app = Application(
            responder: SandboxResponder(sandbox: self),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? port)
                continuation.finish()
            },
            logger: logger
        )
        // Run under a ServiceGroup so `shutdown` can stop the server gracefully: cancelling `app.run()`
        // while a connection is open trips an assertion inside NIO.
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            do { try await group.run() } catch { failure.withLock { $0 = error } }
            continuation.finish()
        }
        var bound: Int?
        for await p in ports { bound = p; break }
        guard let bound else {
            task.cancel()
            let reason = failure.withLock { $0 }.map { "\($0)" } ?? "server stopped"
            throw SandboxError("sandbox: could not listen on \(host):\(port): \(reason)")
        }
        let urlHost = host.contains(":") ? "[\(host)]" : host
        server.withLock {
            $0.task = task
            $0.group = group
            $0.baseURL = URL(string: "http://\(urlHost):\(bound)")!
        }
    }

    /// The server's root, e.g. `http://127.0.0.1:PORT` (REST at `baseURL/api/v4`).
    /// Before `start` the port is 0.
    public var baseURL: URL { server.withLock { $0.baseURL } }

    /// Stops the server and waits for it to finish. Idempotent; no child process outlives it. Webhook
    /// deliveries still queued or in flight are canceled (and recorded as such).
    public func shutdown() async {
        await webhookDispatcher.cancelAll()
        let (task, group) = server.withLock { handle -> (Task<Void, Never>?, ServiceGroup?) in
            defer { handle.task = nil; handle.group = nil }
            return (handle.task, handle.group)
        }
        guard let task else { return }
        await group?.triggerGracefulShutdown()
        await task.value
    }

    // MARK: - Users

    /// Adds (or updates) a user whose API/git token is `token`. The token is kept in memory only.
    @discardableResult
    public func addUser(_ username: String, token: String, role: SandboxRole = .maintainer) -> SandboxUser {
        addUser(username, token: Optional(token), role: role, name: nil)
    }

    /// Adds `token` as another credential of the root/admin user.
    public func setRootToken(_ token: String) {
        state.withLock { s in
            if let root = s.user(named: "root") { s.tokens[token] = root.id }
        }
    }

    @discardableResult
    func addUser(_ username: String, token: String?, role: SandboxRole, name: String?) -> SandboxUser {
        state.withLock { s in
            var record: UserRecord
            if let existing = s.user(named: username) {
                record = existing
                record.role = role
                if let name { record.name = name }
            } else {
                record = UserRecord(id: s.nextUserID, username: username, name: name ?? username.capitalized, role: role, createdAt: Date())
                s.nextUserID += 1
            }
            s.users[record.id] = record
            if let token { s.tokens[token] = record.id }
            return record.publicValue
        }
    }

    /// Looks a user up by token (used by the HTTP layer).
    func user(forToken token: String) -> UserRecord? {
        state.withLock { s in s.tokens[token].flatMap { s.users[$0] } }
    }

    // MARK: - Projects

    /// Creates a project with a bare repository whose default branch holds `files` (one initial
    /// commit; a README is added when `files` is empty). Throws when the path is taken or git fails.
    @discardableResult
    public func createProject(path: String, defaultBranch: String = "main", files: [String: String] = [:],
                              mergeMethod: SandboxMergeMethod = .merge) throws -> SandboxProject {
        let trimmed = try Self.checkedProjectPath(path)
        if state.withLock({ $0.projectIDsByPath[trimmed] != nil }) {
            throw SandboxError("sandbox: project '\(trimmed)' already exists")
        }
        let repo = try GitRepository.create(at: reposRoot.appendingPathComponent(trimmed + ".git"), defaultBranch: defaultBranch)
        let initial = files.isEmpty ? ["README.md": "# \(trimmed)\n"] : files
        _ = try repoQueue.sync {
            try repo.commit(branch: defaultBranch, parent: nil, files: initial, message: "Initial commit", author: "Administrator", date: now)
        }
        let id = state.withLock { s -> Int in
            let id = s.nextProjectID
            s.nextProjectID += 1
            s.projects[id] = ProjectRecord(id: id, path: trimmed, defaultBranch: defaultBranch, mergeMethod: mergeMethod, createdAt: Date(), repository: repo)
            s.projectIDsByPath[trimmed] = id
            return id
        }
        return SandboxProject(id: id, path: trimmed, defaultBranch: defaultBranch,
                              httpURLToRepo: repoURL(trimmed), webURL: webURL(trimmed))
    }

    /// `path` without surrounding slashes; throws when it cannot name a project's repository.
    static func checkedProjectPath(_ path: String) throws -> String {
        let trimmed = path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard !trimmed.isEmpty, !trimmed.contains(".."), !trimmed.hasSuffix(".git") else {
            throw SandboxError("sandbox: invalid project path '\(path)'; use 'group/name'")
        }
        return trimmed
    }

    func repoURL(_ path: String) -> String { baseURL.absoluteString + "/" + path + ".git" }

    /// The project's SSH clone URL (`ssh_url_to_repo`): `git@127.0.0.1:<path>.git`, which nothing serves, unless
    /// `serveGitOverSSH(at:)` named an sshd that reaches this sandbox's repositories on disk.
    func sshURL(_ path: String) -> String {
        guard let host = state.withLock({ $0.sshHost }) else { return "git@127.0.0.1:\(path).git" }
        return host + reposRoot.path + "/" + path + ".git"
    }

    /// Reports SSH clone URLs that an sshd on this machine serves: `host` (`ssh://user@127.0.0.1:2222`)
    /// followed by the repository's folder, so a test can run promobot's SSH transport against the
    /// sandbox's own repositories. The sshd must set `SANDBOX_ROLE_LEVEL` (e.g. `SetEnv SANDBOX_ROLE_LEVEL=30`)
    /// for the push checks the repositories' hook makes.
    public func serveGitOverSSH(at host: String) { state.withLock { $0.sshHost = host } }
    func webURL(_ path: String) -> String { baseURL.absoluteString + "/" + path }

    /// The project's snapshot, or nil.
    public func project(_ path: String) -> SandboxProject? {
        guard let p = state.withLock({ $0.project(path) }) else { return nil }
        return SandboxProject(id: p.id, path: p.path, defaultBranch: p.defaultBranch, httpURLToRepo: repoURL(p.path), webURL: webURL(p.path))
    }

    func requireProject(_ key: String) throws -> ProjectRecord {
        guard let p = state.withLock({ $0.project(key) }) else { throw SandboxError.projectNotFound(key) }
        return p
    }

    /// Commits `files` onto `branch` as CI would push them (bypasses protection), creating the
    /// branch from the default branch when it does not exist. Returns the new commit SHA.
    /// Hooks get a Push Hook (by the administrator), and open MRs from `branch` an `update`.
    @discardableResult
    public func commit(project: String, branch: String, files: [String: String], message: String, author: String = "CI") throws -> String {
        let p = try requireProject(project)
        let (old, sha) = try repoQueue.sync { () throws -> (String?, String) in
            let old = p.repository.branchSHA(branch)
            let parent = old ?? p.repository.branchSHA(p.defaultBranch)
            return (old, try p.repository.commit(branch: branch, parent: parent, files: files, message: message, author: author, date: now))
        }
        branchMoved(projectID: p.id, branch: branch, from: old, to: sha, userID: nil)
        return sha
    }

    /// Creates `branch` at `ref` (branch name or SHA; default: the default branch), or moves it there.
    @discardableResult
    public func createBranch(project: String, branch: String, ref: String? = nil) throws -> String {
        let p = try requireProject(project)
        let from = ref ?? p.defaultBranch
        guard let sha = p.repository.branchSHA(from) ?? p.repository.resolve(from) else {
            throw SandboxError("sandbox: ref '\(from)' not found in \(p.path)")
        }
        let old = try repoQueue.sync { () throws -> String? in
            let old = p.repository.branchSHA(branch)
            try p.repository.updateBranch(branch, to: sha)
            return old
        }
        branchMoved(projectID: p.id, branch: branch, from: old, to: sha, userID: nil)
        return sha
    }

    /// The text of `path` at `ref` (branch, tag or SHA), or nil when the file or ref is missing.
    public func fileContent(project: String, ref: String, path: String) throws -> String? {
        try requireProject(project).repository.fileContent(ref: ref, path: path)
    }

    /// The tip SHA of `branch`, or nil when it does not exist.
    public func branchSHA(project: String, branch: String) throws -> String? {
        try requireProject(project).repository.branchSHA(branch)
    }

    /// Protects `branch`: pushes need `allowPush` or above (nil = no one may push; merge via MR only).
    /// Unknown projects are ignored.
    public func protectBranch(project: String, branch: String, allowPush: SandboxRole? = nil) {
        let updated = state.withLock { s -> ProjectRecord? in
            guard var p = s.project(project) else { return nil }
            p.protected[branch] = allowPush?.accessLevel ?? 0
            s.projects[p.id] = p
            return p
        }
        if let updated { try? updated.repository.writeProtected(updated.protected) }
    }

    /// Applies `change` to the project's settings (unknown projects are ignored).
    private func updateProject(_ project: String, _ change: (inout ProjectRecord) -> Void) {
        state.withLock { s in
            guard var p = s.project(project) else { return }
            change(&p)
            s.projects[p.id] = p
        }
    }

    /// Sets how many approvals each MR of the project needs (GitLab `approvals_before_merge`).
    public func setApprovalsRequired(project: String, count: Int) {
        updateProject(project) { p in p.approvalsRequired = max(0, count) }
    }

    /// GitLab's "Remove all approvals when commits are added to the source branch" (default on).
    public func setResetApprovalsOnPush(project: String, _ value: Bool) {
        updateProject(project) { p in p.resetApprovalsOnPush = value }
    }

    /// How long `detailed_merge_status` stays `checking` after an MR's head changes, as GitLab
    /// computes mergeability asynchronously (default 0: at once).
    public func setMergeabilityDelay(project: String, seconds: TimeInterval) {
        updateProject(project) { p in p.mergeabilityDelay = max(0, seconds) }
    }

    /// Whether a failed/canceled head pipeline blocks merging (`only_allow_merge_if_pipeline_succeeds`,
    /// default true). Running pipelines always report `ci_still_running`; no pipeline never blocks.
    public func setPipelineMustSucceed(project: String, _ value: Bool) {
        updateProject(project) { p in p.pipelineMustSucceed = value }
    }

    /// Changes the project's merge method.
    public func setMergeMethod(project: String, _ method: SandboxMergeMethod) {
        updateProject(project) { p in p.mergeMethod = method }
    }

    // MARK: - Argo CD and Prometheus

    /// Sets (replaces) what `GET /api/v1/applications/{name}` reports.
    public func setArgoApplication(_ app: SandboxArgoApplication) {
        state.withLock { $0.argo[app.name] = app }
    }

    /// Sets the instant-vector value `query` returns; nil returns an empty vector.
    public func setPrometheus(query: String, value: Double?) {
        state.withLock { $0.prometheus[query] = .some(value) }
    }

    // MARK: - Faults and request log

    /// Injects `fault` into the next `fault.count` matching requests (checked before routing and auth).
    public func injectFault(_ fault: SandboxFault) {
        guard fault.count > 0 else { return }
        state.withLock { $0.faults.append(FaultRecord(fault: fault, remaining: fault.count)) }
    }

    /// Removes every pending fault.
    public func clearFaults() {
        state.withLock { $0.faults.removeAll() }
    }

    /// Takes the first fault matching the request, decrementing its count.
    func takeFault(method: String, path: String) -> SandboxFault.Kind? {
        state.withLock { s in
            guard let index = s.faults.firstIndex(where: { f in
                (f.fault.method == nil || f.fault.method!.uppercased() == method) && path.hasPrefix(f.fault.pathPrefix)
            }) else { return nil }
            let kind = s.faults[index].fault.kind
            s.faults[index].remaining -= 1
            if s.faults[index].remaining <= 0 { s.faults.remove(at: index) }
            return kind
        }
    }

    /// Total requests served since start or the last `resetRequestLog()`.
    public var requestCount: Int { state.withLock { $0.requestLog.count } }

    /// Requests other than GET/HEAD since start or the last `resetRequestLog()` (e.g. to assert a dry run wrote nothing).
    public var writeRequestCount: Int { state.withLock { $0.requestLog.filter { $0.method != "GET" && $0.method != "HEAD" }.count } }

    /// How many requests had a path starting with `prefix` (raw path, e.g. `/api/v4/projects/1/merge_requests`).
    public func requests(matching prefix: String) -> Int {
        state.withLock { $0.requestLog.filter { $0.path.hasPrefix(prefix) }.count }
    }

    /// Raw paths of the requests seen, oldest first (for debugging tests).
    public func requestLog() -> [String] { state.withLock { $0.requestLog.map(\.path) } }

    /// Requests seen as `METHOD path`, oldest first.
    public func requestLines() -> [String] { state.withLock { $0.requestLog.map { "\($0.method) \($0.path)" } } }

    /// Forgets every logged request.
    public func resetRequestLog() { state.withLock { $0.requestLog.removeAll() } }

    func logRequest(method: String, path: String) {
        state.withLock { $0.requestLog.append((method, path)) }
    }
}
