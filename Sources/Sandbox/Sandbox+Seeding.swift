import BlockingWork
import Foundation

extension Sandbox {
    /// Puts `seed` into the sandbox: its users (with `tokens`, username -> token, which must hold one for
    /// every user), its projects (see ``createProjects(_:)``), its Argo CD applications (synced
    /// `syncedAgo` before now, at the default-branch tip of their `project`), its Prometheus values and its
    /// registry images (and token auth).
    ///
    /// Throws `SandboxError` when a token is missing, a project path is taken or git fails; what was applied
    /// before stays. The git work runs on a thread of its own (two processes for all the projects), never on
    /// the cooperative pool.
    public func apply(_ seed: SandboxSeed, tokens: [String: String]) async throws {
        try await BlockingWork.run(name: "promobot.sandbox.seed") { [self] in try applyBlocking(seed, tokens: tokens) }
    }

    private func applyBlocking(_ seed: SandboxSeed, tokens: [String: String]) throws {
        for user in seed.users {
            guard let token = tokens[user.username], !token.isEmpty else {
                throw SandboxError("sandbox: no token for seeded user '\(user.username)'; resolve every user's token before applying the seed")
            }
            addUser(user.username, token: token, role: user.role, name: user.name)
        }
        let created = try createProjects(seed.projects)
        let tips = Dictionary(uniqueKeysWithValues: created.map { ($0.project.path, $0.sha) })
        let now = self.now
        for application in seed.argoApplications {
            setArgoApplication(SandboxArgoApplication(
                name: application.name, health: application.health, sync: application.sync, images: application.images,
                operationFinishedAt: application.syncedAgo.map { now.addingTimeInterval(-$0) },
                revision: application.project.flatMap { tips[$0] },
                sourceProject: application.project, sourcePath: application.path))
        }
        for value in seed.prometheus { setPrometheus(query: value.query, value: value.value) }
        for image in seed.registryImages {
            for tag in image.tags { pushImage(image.repository, tag: tag) }
        }
        if seed.registryTokenAuth { setRegistryTokenAuth(true) }
    }

    /// Creates `projects` with their settings (protected branches, approvals, merge method...), each with one
    /// initial commit on its default branch (a README when it has no files), as `createProject` does but in
    /// one batch: two git processes in all instead of five per project (their repositories share the objects
    /// of one pool repository; see `GitRepository.createMany`). Returns each project with its first commit.
    ///
    /// Throws `SandboxError`, creating nothing, when a path is invalid, taken or given twice; when git fails,
    /// nothing is registered (repositories already written stay on disk until the next start).
    @discardableResult
    public func createProjects(_ projects: [SandboxSeed.Project]) throws -> [(project: SandboxProject, sha: String)] {
        guard !projects.isEmpty else { return [] }
        var paths: [String] = []
        var seen: Set<String> = []
        for project in projects {
            let path = try Self.checkedProjectPath(project.path)
            guard seen.insert(path.lowercased()).inserted else { throw SandboxError("sandbox: project '\(path)' is given twice") }
            paths.append(path)
        }
        if let taken = state.withLock({ s in paths.first { s.projectIDsByPath[$0] != nil } }) {
            throw SandboxError("sandbox: project '\(taken)' already exists")
        }
        let initials = zip(paths, projects).map { path, project in
            GitRepository.Initial(url: reposRoot.appendingPathComponent(path + ".git"), defaultBranch: project.defaultBranch,
                                  files: project.files.isEmpty ? ["README.md": "# \(path)\n"] : project.files,
                                  protected: Self.protectedLevels(project.protectedBranches))
        }
        let pool = reposRoot.appendingPathComponent(".seed-pool-\(UUID().uuidString).git")
        let date = now
        let repositories = try repoQueue.sync {
            try GitRepository.createMany(initials, pool: pool, message: "Initial commit", author: "Administrator", date: date)
        }
        let records = state.withLock { s in
            zip(paths, zip(projects, repositories)).map { path, pair -> ProjectRecord in
                let (project, (repository, _)) = pair
                var record = ProjectRecord(id: s.nextProjectID, path: path, defaultBranch: project.defaultBranch,
                                           mergeMethod: project.mergeMethod ?? .merge, createdAt: Date(), repository: repository)
                s.nextProjectID += 1
                record.approvalsRequired = project.approvalsRequired ?? record.approvalsRequired
                record.resetApprovalsOnPush = project.resetApprovalsOnPush ?? record.resetApprovalsOnPush
                record.pipelineMustSucceed = project.pipelineMustSucceed ?? record.pipelineMustSucceed
                record.protected = Self.protectedLevels(project.protectedBranches)
                s.projects[record.id] = record
                s.projectIDsByPath[path] = record.id
                return record
            }
        }
        return zip(records, repositories).map { record, created in
            (SandboxProject(id: record.id, path: record.path, defaultBranch: record.defaultBranch,
                            httpURLToRepo: repoURL(record.path), webURL: webURL(record.path)), created.sha)
        }
    }

    /// Branch -> push access level (0: no one), as `ProjectRecord.protected` keeps them.
    static func protectedLevels(_ branches: [SandboxSeed.ProtectedBranch]) -> [String: Int] {
        Dictionary(branches.map { ($0.name, $0.allowPush?.accessLevel ?? 0) }) { _, last in last }
    }
}
