import Foundation
import Planning
import Git
import GitLab

/// A GitLab project as the engine needs it: how to address it in the API, where to clone it, where to link.
struct ResolvedProject: Sendable {
    var ref: ProjectRef
    var path: String
    var cloneURL: String
    var webURL: String
}

/// A cached clone after this cycle's ref probe.
struct RefreshedRepository {
    var repository: CachedRepository
    /// Tips of the target branches, as the remote has them now.
    var tips: [String: ObjectID]
    /// Every branch the remote advertised (`promobot/oms/test` …), for push leases.
    var remoteRefs: [String: ObjectID]

    func remoteBranch(_ name: String) -> ObjectID? { remoteRefs[name] }
}

/// Per-cycle memo so each project is resolved once, probed once, and its MRs listed once,
/// however many policies and stages share it.
struct ProjectCache {
    let engine: PromotionEngine
    private var projects: [String: ResolvedProject] = [:]
    private var repositories: [String: RefreshedRepository] = [:]
    /// Repositories that could not be refreshed this cycle: every stage on them reports the same error
    /// without trying the network again.
    private var unreachable: [String: any Error] = [:]
    private var mergeRequests: [String: [MergeRequest]] = [:]

    init(engine: PromotionEngine) { self.engine = engine }

    /// Resolves a policy's `repository` (path or numeric id). Paths need no API call: the clone URL
    /// follows from the GitLab URL; numeric ids are looked up once.
    mutating func project(_ repository: String) async throws -> ResolvedProject {
        if let known = projects[repository] { return known }
        let ref = ProjectRef(repository)
        let resolved: ResolvedProject
        switch ref {
        case .path(let path):
            let base = engine.configuration.gitlabURL.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            resolved = ResolvedProject(ref: ref, path: path, cloneURL: "\(base)/\(path).git", webURL: "\(base)/\(path)")
        case .id:
            let project = try await engine.gitlab.project(ref)
            resolved = ResolvedProject(ref: ref, path: project.pathWithNamespace, cloneURL: project.httpURLToRepo, webURL: project.webURL)
        }
        projects[repository] = resolved
        return resolved
    }

    /// The project's cached clone, refreshed once per cycle (one ref listing when nothing changed).
    /// The Git adapter runs the clone and fetch on a thread of its own, off the cooperative pool.
    mutating func repository(for project: ResolvedProject, branches: [String]) async throws -> RefreshedRepository {
        if let known = repositories[project.cloneURL] { return known }
        if let failure = unreachable[project.cloneURL] { throw failure }
        let remote = GitRemote(url: project.cloneURL, credentials: engine.configuration.gitCredentials)
        let cache = engine.repositories
        let repository: CachedRepository, result: RefreshResult
        do {
            repository = try await cache.repository(for: remote)
            result = try await repository.refresh(branches: branches)
        } catch {
            unreachable[project.cloneURL] = error
            throw error
        }
        let refreshed = RefreshedRepository(repository: repository, tips: result.tips, remoteRefs: result.remoteRefs)
        repositories[project.cloneURL] = refreshed
        return refreshed
    }

    /// The bot's open MRs in a project (all pages), listed once per cycle.
    mutating func openMergeRequests(in project: ResolvedProject) async throws -> [MergeRequest] {
        if let known = mergeRequests[project.cloneURL] { return known }
        let all = try await engine.gitlab.mergeRequests(project.ref, MergeRequestQuery(state: .opened, scope: .createdByMe))
        let mine = all.filter { $0.sourceBranch.hasPrefix(MergeRequestText.branchPrefix) }
        mergeRequests[project.cloneURL] = mine
        return mine
    }

    /// The bot's open MRs in a project if this cycle listed them already; nil otherwise (no request).
    func listedOpenMergeRequests(in project: ResolvedProject) -> [MergeRequest]? { mergeRequests[project.cloneURL] }

    /// Projects whose MRs were listed this cycle, with those MRs.
    var listedMergeRequests: [(ResolvedProject, [MergeRequest])] {
        projects.values.compactMap { project in mergeRequests[project.cloneURL].map { (project, $0) } }
    }

    mutating func forget(mergeRequestsOf project: ResolvedProject) { mergeRequests[project.cloneURL] = nil }
}
