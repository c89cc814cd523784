import Foundation

// GitLab REST v4 subset (apis.md §1–§9): routing, authentication, pagination and the handlers. Handlers are
// synchronous and run off the cooperative pool; the JSON of each entity is in `Sandbox+GitLabJSON.swift`.
extension Sandbox {
    /// The GitLab version the sandbox claims (`/version`, webhooks' `User-Agent: GitLab/<version>`).
    static let gitlabVersion = "17.11.0-sandbox"

    /// The authenticated caller and the request being served.
    struct APICall {
        let req: SandboxRequest
        let user: UserRecord
        var params: Params { req.params }
    }

    func handleGitLab(_ req: SandboxRequest) -> SandboxResponse {
        let raw = req.path.dropFirst("/api/v4".count)
        let segments = raw.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncoding ?? String($0) }
        if segments == ["version"] || segments == ["metadata"] {
            if authenticate(req) == nil { return .unauthorized }
            return .json(200, ["version": .string(Self.gitlabVersion), "revision": "sandbox", "enterprise": true])
        }
        guard let user = authenticate(req) else { return .unauthorized }
        let call = APICall(req: req, user: user)
        let m = req.method == "HEAD" ? "GET" : req.method
        switch (m, segments.count, segments.first) {
        case ("GET", 1, "user"): return .json(200, userJSON(user, full: true))
        case ("GET", 1, "users"):
            // GitLab matches `username` exactly (case-insensitively) and answers a list, `[]` when no one matches.
            let users = state.withLock { s in s.users.values.sorted { $0.id < $1.id } }
            let wanted = call.params.string("username")?.lowercased()
            return paginate(call, users.filter { wanted == nil || $0.username.lowercased() == wanted }.map { userJSON($0) })
        case ("GET", 2, "users"):
            guard let id = Int(segments[1]), let found = state.withLock({ $0.users[id] }) else { return .message(404, "404 User Not Found") }
            return .json(200, userJSON(found))
        case ("GET", 1, "projects"): return paginate(call, state.withLock { $0.projects.values.sorted { $0.id > $1.id } }.map { projectJSON($0, user) })
        case ("GET", 1, "merge_requests"): return listInstanceMergeRequests(call)
        default: break
        }
        guard segments.first == "projects", segments.count >= 2 else { return .routeNotFound }
        guard let project = state.withLock({ $0.project(segments[1]) }) else { return .message(404, "404 Project Not Found") }
        let rest = Array(segments.dropFirst(2))
        let isWrite = !["GET", "HEAD"].contains(req.method)
        if isWrite && !user.role.canWrite {
            // Reporters get GitLab's bare 403 on every write except the ones that answer 401.
            let last = rest.last ?? ""
            if last == "approve" || last == "merge" { return .unauthorized }
            return .forbidden
        }
        switch (m, rest.count) {
        case ("GET", 0): return .json(200, projectJSON(project, user))
        default: break
        }
        switch rest.first {
        case "repository": return handleRepository(call, project, Array(rest.dropFirst()))
        case "merge_requests": return handleMergeRequests(call, project, Array(rest.dropFirst()))
        case "pipelines": return handlePipelines(call, project, Array(rest.dropFirst()))
        case "protected_branches": return handleProtectedBranches(call, project, Array(rest.dropFirst()))
        case "hooks": return handleHooks(call, project, Array(rest.dropFirst()))
        default: return .routeNotFound
        }
    }

    func authenticate(_ req: SandboxRequest) -> UserRecord? {
        var token = req.header("private-token")
        if token == nil, let auth = req.header("authorization"), auth.lowercased().hasPrefix("bearer ") {
            token = String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        if token == nil { token = req.params.string("private_token") ?? req.params.string("access_token") }
        guard let token, !token.isEmpty else { return nil }
        return user(forToken: token)
    }

    // MARK: - Pagination

    /// Slices `items` by `page`/`per_page` and sets GitLab's pagination headers and `Link`.
    func paginate(_ call: APICall, _ items: [JSON], status: Int = 200) -> SandboxResponse {
        let perPage = min(100, max(1, call.params.int("per_page") ?? 20))
        let total = items.count
        let totalPages = max(1, (total + perPage - 1) / perPage)
        let page = max(1, call.params.int("page") ?? 1)
        let start = min(total, (page - 1) * perPage)
        let slice = Array(items[start..<min(total, start + perPage)])
        func link(_ target: Int) -> String {
            var pairs = call.req.query.split(separator: "&").map(String.init).filter {
                !$0.hasPrefix("page=") && !$0.hasPrefix("per_page=") && !$0.isEmpty
            }
            pairs += ["page=\(target)", "per_page=\(perPage)"]
            return "<\(baseURL.absoluteString)\(call.req.path)?\(pairs.joined(separator: "&"))>"
        }
        var links: [String] = []
        if page > 1 { links.append("\(link(page - 1)); rel=\"prev\"") }
        if page < totalPages { links.append("\(link(page + 1)); rel=\"next\"") }
        links.append("\(link(1)); rel=\"first\"")
        links.append("\(link(totalPages)); rel=\"last\"")
        let headers: [(String, String)] = [
            ("X-Page", String(page)), ("X-Per-Page", String(perPage)),
            ("X-Next-Page", page < totalPages ? String(page + 1) : ""), ("X-Prev-Page", page > 1 ? String(page - 1) : ""),
            ("X-Total", String(total)), ("X-Total-Pages", String(totalPages)), ("Link", links.joined(separator: ", ")),
        ]
        return .json(status, .array(slice), headers: headers)
    }

    // MARK: - Repository

    func handleRepository(_ call: APICall, _ p: ProjectRecord, _ rest: [String]) -> SandboxResponse {
        let m = call.req.method == "HEAD" ? "GET" : call.req.method
        let repo = p.repository
        switch (m, rest.first, rest.count) {
        case ("GET", "branches", 1):
            var branches = (try? repo.branches()) ?? []
            if let search = call.params.string("search"), !search.isEmpty {
                branches = branches.filter { b in
                    if search.hasPrefix("^") { return b.name.hasPrefix(search.dropFirst()) }
                    if search.hasSuffix("$") { return b.name.hasSuffix(search.dropLast()) }
                    return b.name.contains(search)
                }
            }
            return paginate(call, branches.map { branchJSON(p, $0.name, $0.sha) })
        case ("GET", "branches", 2):
            guard let sha = repo.branchSHA(rest[1]) else { return .message(404, "404 Branch Not Found") }
            if call.req.method == "HEAD" { return SandboxResponse(status: 204) }
            return .json(200, branchJSON(p, rest[1], sha))
        case ("POST", "branches", 1):
            guard let name = call.params.string("branch") ?? call.params.string("branch_name") else { return .error(400, "branch is missing") }
            guard let ref = call.params.string("ref") else { return .error(400, "ref is missing") }
            if repo.branchSHA(name) != nil { return .message(400, "Branch already exists") }
            guard let sha = repo.branchSHA(ref) ?? repo.resolve(ref) else { return .message(400, "Invalid reference name: \(ref)") }
            do { try repoQueue.sync { try repo.updateBranch(name, to: sha) } } catch { return .message(400, "Branch name is invalid") }
            branchMoved(projectID: p.id, branch: name, from: nil, to: sha, userID: call.user.id)
            return .json(201, branchJSON(p, name, sha))
        case ("DELETE", "branches", 2):
            let name = rest[1]
            guard let old = repo.branchSHA(name) else { return .message(404, "404 Branch Not Found") }
            if name == p.defaultBranch { return .message(400, "The default branch of a project cannot be deleted.") }
            if p.protected[name] != nil, call.user.role < .maintainer {
                return .message(400, "You are not allowed to delete protected branches from this project. Only a project maintainer or owner can delete a protected branch.")
            }
            do { try repoQueue.sync { try repo.deleteBranch(name) } } catch { return .message(400, "Failed to remove branch") }
            branchMoved(projectID: p.id, branch: name, from: old, to: nil, userID: call.user.id)
            return SandboxResponse(status: 204)
        case ("GET", "files", 2), ("GET", "files", 3):
            let raw = rest.count == 3 && rest[2] == "raw"
            if rest.count == 3 && !raw { return .routeNotFound }
            let filePath = rest[1]
            let ref = call.params.string("ref") ?? (raw ? "HEAD" : nil)
            guard let ref else { return .error(400, "ref is missing") }
            let resolvedRef = ref == "HEAD" ? p.defaultBranch : ref
            guard let commit = repo.resolve(resolvedRef) else { return .message(404, "404 Commit Not Found") }
            guard let content = repo.fileContent(ref: commit, path: filePath) else { return .message(404, "404 File Not Found") }
            let blob = (try? repo.git(["rev-parse", "\(commit):\(filePath)"]))?.output ?? ""
            let last = (try? repo.log([commit, "--", filePath], limit: 1))?.first?.id ?? commit
            let data = Data(content.utf8)
            let headers: [(String, String)] = [
                ("X-Gitlab-Blob-Id", blob), ("X-Gitlab-Commit-Id", commit), ("X-Gitlab-Encoding", "base64"),
                ("X-Gitlab-File-Name", (filePath as NSString).lastPathComponent), ("X-Gitlab-File-Path", filePath),
                ("X-Gitlab-Last-Commit-Id", last), ("X-Gitlab-Ref", ref), ("X-Gitlab-Size", String(data.count)),
            ]
            if raw { return SandboxResponse(status: 200, headers: [("Content-Type", "text/plain; charset=utf-8")] + headers, body: data) }
            return .json(200, [
                "file_name": .string((filePath as NSString).lastPathComponent), "file_path": .string(filePath), "size": .int(data.count),
                "encoding": "base64", "content": .string(data.base64EncodedString()), "content_sha256": "", "ref": .string(ref),
                "blob_id": .string(blob), "commit_id": .string(commit), "last_commit_id": .string(last), "execute_filemode": false,
            ], headers: headers)
        case ("GET", "commits", 1):
            let ref = call.params.string("ref_name") ?? p.defaultBranch
            guard let sha = repo.resolve(ref) else { return .message(404, "404 Commit Not Found") }
            var range = [sha]
            if let path = call.params.string("path") { range += ["--", path] }
            let commits = (try? repo.log(range, limit: 1000)) ?? []
            return paginate(call, commits.map { commitJSON($0, p) })
        case ("GET", "commits", 2):
            guard let sha = repo.resolve(rest[1]), let c = (try? repo.log([sha], limit: 1))?.first else { return .message(404, "404 Commit Not Found") }
            var json = commitJSON(c, p)
            if case .object(var fields) = json {
                let pipeline = headPipeline(p, sha: c.id)
                fields.append(("status", .string(pipeline?.status)))
                fields.append(("last_pipeline", pipeline.map { pipelineJSON($0, p) } ?? nil))
                json = .object(fields)
            }
            return .json(200, json)
        case ("POST", "commits", 1):
            return createCommit(call, p)
        default:
            return .routeNotFound
        }
    }

    /// `POST /projects/:id/repository/commits` with `create`/`update`/`delete` actions.
    func createCommit(_ call: APICall, _ p: ProjectRecord) -> SandboxResponse {
        guard let branch = call.params.string("branch") else { return .error(400, "branch is missing") }
        guard let message = call.params.string("commit_message") else { return .error(400, "commit_message is missing") }
        guard let object = try? JSONSerialization.jsonObject(with: call.req.body) as? [String: Any],
              let actions = object["actions"] as? [[String: Any]] else { return .error(400, "actions is missing") }
        if let level = p.protected[branch], level == 0 || call.user.role.accessLevel < level {
            return .message(403, "403 Forbidden - You are not allowed to push into this branch")
        }
        let repo = p.repository
        let startRef = call.params.string("start_sha") ?? call.params.string("start_branch") ?? branch
        let existing = repo.branchSHA(branch)
        if existing != nil, let start = call.params.string("start_branch"), start != branch, call.params.bool("force") != true {
            return .message(400, "A branch called \(branch) already exists. Switch to that branch in order to make changes")
        }
        guard let parent = repo.branchSHA(startRef) ?? repo.resolve(startRef) else {
            return .message(400, "You can only create or edit files when you are on a branch")
        }
        var files: [String: String] = [:], deletes: [String] = []
        for action in actions {
            guard let path = action["file_path"] as? String else { return .error(400, "actions[file_path] is missing") }
            var content = action["content"] as? String ?? ""
            if (action["encoding"] as? String) == "base64", let data = Data(base64Encoded: content) { content = String(decoding: data, as: UTF8.self) }
            let exists = repo.fileContent(ref: parent, path: path) != nil
            switch action["action"] as? String {
            case "create":
                if exists { return .message(400, "A file with this name already exists") }
                files[path] = content
            case "update":
                if !exists { return .message(400, "A file with this name doesn't exist") }
                files[path] = content
            case "delete":
                if !exists { return .message(400, "A file with this name doesn't exist") }
                deletes.append(path)
            default:
                return .error(400, "actions[action] does not have a valid value")
            }
        }
        let author = call.params.string("author_name").map { name in "\(name) <\(call.params.string("author_email") ?? "\(call.user.username)@sandbox.invalid")>" }
            ?? "\(call.user.name) <\(call.user.username)@sandbox.invalid>"
        do {
            let sha = try repoQueue.sync { () throws -> String in
                if let existing, repo.branchSHA(branch) != existing { throw SandboxError("concurrent update") }
                return try repo.commit(branch: branch, parent: parent, files: files, deleting: deletes, message: message, author: author, date: now)
            }
            branchMoved(projectID: p.id, branch: branch, from: existing, to: sha, userID: call.user.id)
            guard let c = (try? repo.log([sha], limit: 1))?.first else { return .message(500, "500 Internal Server Error") }
            return .json(201, commitJSON(c, p))
        } catch {
            return .message(400, "\(error)")
        }
    }

    // MARK: - Protected branches and pipelines

    func handleProtectedBranches(_ call: APICall, _ p: ProjectRecord, _ rest: [String]) -> SandboxResponse {
        func json(_ name: String, _ level: Int) -> JSON {
            let describe = level == 0 ? "No one" : (level >= 40 ? "Maintainers" : "Developers + Maintainers")
            return ["id": .int(abs(name.hashValue % 100000)), "name": .string(name),
                    "push_access_levels": [["id": 1, "access_level": .int(level), "access_level_description": .string(describe), "user_id": nil, "group_id": nil, "deploy_key_id": nil]],
                    "merge_access_levels": [["id": 2, "access_level": 40, "access_level_description": "Maintainers", "user_id": nil, "group_id": nil, "deploy_key_id": nil]],
                    "unprotect_access_levels": [], "allow_force_push": false, "code_owner_approval_required": false]
        }
        switch (call.req.method, rest.count) {
        case ("GET", 0): return paginate(call, p.protected.sorted { $0.key < $1.key }.map { json($0.key, $0.value) })
        case ("GET", 1):
            guard let level = p.protected[rest[0]] else { return .message(404, "404 Not found") }
            return .json(200, json(rest[0], level))
        case ("POST", 0):
            guard let name = call.params.string("name") else { return .error(400, "name is missing") }
            if p.protected[name] != nil { return .message(409, "Protected branch '\(name)' already exists") }
            let level = call.params.int("push_access_level") ?? 40
            protectBranch(project: String(p.id), branch: name, allowPush: SandboxRole.allCases.first { $0.accessLevel >= level && level > 0 })
            return .json(201, json(name, level > 0 ? level : 0))
        case ("DELETE", 1):
            guard p.protected[rest[0]] != nil else { return .message(404, "404 Not found") }
            let updated = state.withLock { s -> ProjectRecord? in
                guard var proj = s.projects[p.id] else { return nil }
                proj.protected[rest[0]] = nil
                s.projects[p.id] = proj
                return proj
            }
            if let updated { try? updated.repository.writeProtected(updated.protected) }
            return SandboxResponse(status: 204)
        default: return .routeNotFound
        }
    }

    func handlePipelines(_ call: APICall, _ p: ProjectRecord, _ rest: [String]) -> SandboxResponse {
        guard call.req.method == "GET" || call.req.method == "HEAD" else { return .routeNotFound }
        if rest.isEmpty {
            var pipelines = Array(p.pipelines.reversed())
            if let ref = call.params.string("ref") { pipelines = pipelines.filter { $0.ref == ref } }
            if let sha = call.params.string("sha") { pipelines = pipelines.filter { $0.sha == sha } }
            if let status = call.params.string("status") { pipelines = pipelines.filter { $0.status == status } }
            if call.params.string("sort") == "asc" { pipelines.reverse() }
            return paginate(call, pipelines.map { pipelineJSON($0, p) })
        }
        if rest == ["latest"] {
            let ref = call.params.string("ref") ?? p.defaultBranch
            guard let pipeline = headPipeline(p, sha: p.repository.branchSHA(ref)) else { return .forbidden }
            return .json(200, pipelineJSON(pipeline, p))
        }
        guard rest.count == 1, let id = Int(rest[0]), let pipeline = p.pipelines.first(where: { $0.id == id }) else {
            return .message(404, "404 Not found")
        }
        return .json(200, pipelineJSON(pipeline, p))
    }
}
