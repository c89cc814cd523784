import Foundation
import Planning
import Git
import GitLab
import Policies

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
    /// The cycle's one instance-level listing, shared by every lane.
    private let listing: MergeRequestListing

    init(engine: PromotionEngine, listing: MergeRequestListing = MergeRequestListing()) {
        self.engine = engine
        self.listing = listing
    }

    /// Resolves a policy's `repository` (path or numeric id). Paths need no API call: the clone URL
    /// follows from the GitLab URL; numeric ids are looked up once.
    mutating func project(_ repository: String) async throws -> ResolvedProject {
        if let known = projects[repository] { return known }
        let ref = ProjectRef(repository)
        var resolved: ResolvedProject
        switch ref {
        case .path(let path):
            resolved = Self.resolved(path: path, gitlabURL: engine.configuration.gitlabURL)
        case .id:
            let project = try await engine.gitlab.project(ref)
            resolved = ResolvedProject(ref: ref, path: project.pathWithNamespace, cloneURL: project.httpURLToRepo, webURL: project.webURL)
        }
        if engine.configuration.gitTransport == .ssh {
            resolved.cloneURL = try await engine.sshCloneURLs.url(for: resolved, gitlab: engine.gitlab)
        }
        projects[repository] = resolved
        return resolved
    }

    /// A project named by its path: everything follows from GitLab's URL, no API call.
    static func resolved(path: String, gitlabURL: URL) -> ResolvedProject {
        let base = gitlabURL.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return ResolvedProject(ref: .path(path), path: path, cloneURL: "\(base)/\(path).git", webURL: "\(base)/\(path)")
    }

    /// Clone URLs of every project resolved so far this cycle.
    var cloneURLs: [String] { projects.values.map(\.cloneURL) }

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
        for recovery in result.recovered {
            engine.logger.warning("\(recovery)", metadata: ["repository": "\(project.path)"])
        }
        if let failure = result.compactionFailure {
            engine.logger.warning("\(failure)", metadata: ["repository": "\(project.path)"])
        }
        let refreshed = RefreshedRepository(repository: repository, tips: result.tips, remoteRefs: result.remoteRefs)
        repositories[project.cloneURL] = refreshed
        return refreshed
    }

    /// The bot's open MRs in a project, from one listing per cycle for all projects together
    /// (`GET /merge_requests?scope=created_by_me&state=opened`, paged at 100), so a no-op cycle costs
    /// `ceil(open bot MRs / 100)` REST calls in total, however many repositories the policies name.
    ///
    /// An MR belongs to the project whose web path its `web_url` starts with (or whose id it carries, for
    /// projects named by id). When GitLab refuses the instance-level list (403 or 404), the cycle falls back
    /// to one listing per project, logged once.
    mutating func openMergeRequests(in project: ResolvedProject) async throws -> [MergeRequest] {
        if let known = mergeRequests[project.cloneURL] { return known }
        let query = MergeRequestQuery(state: .opened, scope: .createdByMe)
        let listed: [MergeRequest]
        let gitlab = engine.gitlab, logger = engine.logger
        let everywhere = try await listing.list {
            do {
                return try await gitlab.mergeRequests(query)
            } catch let error as GitLabError where [.forbidden, .notFound].contains(error.kind) {
                logger.warning("GitLab refused the instance-level merge request list (\(error.message)); listing per project this cycle")
                return nil
            }
        }
        if let everywhere {
            listed = everywhere.filter { Self.belongs($0, to: project) }
        } else {
            listed = try await gitlab.mergeRequests(project.ref, query)
        }
        let mine = listed.filter { $0.sourceBranch.hasPrefix(MergeRequestText.branchPrefix) }
        mergeRequests[project.cloneURL] = mine
        return mine
    }

    /// Whether `mr` is in `project`: by id for projects named by id, else by the project path in its web URL
    /// (hosts are not compared: GitLab's external URL may differ from the API URL promobot uses).
    static func belongs(_ mr: MergeRequest, to project: ResolvedProject) -> Bool {
        if case .id(let id) = project.ref { return mr.projectID == id }
        guard let marker = mr.webURL.range(of: "/-/merge_requests/"),
              let mrProject = URL(string: String(mr.webURL[..<marker.lowerBound]))?.path,
              let ownPath = URL(string: project.webURL)?.path else { return false }
        return mrProject.caseInsensitiveCompare(ownPath) == .orderedSame
    }

    /// The bot's open MRs in a project if this cycle listed them already; nil otherwise (no request).
    func listedOpenMergeRequests(in project: ResolvedProject) -> [MergeRequest]? { mergeRequests[project.cloneURL] }

    /// Projects whose MRs were listed this cycle, with those MRs.
    var listedMergeRequests: [(ResolvedProject, [MergeRequest])] {
        projects.values.compactMap { project in mergeRequests[project.cloneURL].map { (project, $0) } }
    }

    mutating func forget(mergeRequestsOf project: ResolvedProject) async {
        mergeRequests[project.cloneURL] = nil
        await listing.invalidate()
    }
}

/// The bot's open MRs across all projects, listed once per cycle however many lanes ask: the first asker
/// starts the listing, the others wait for the same answer. Nil when GitLab refused the instance-level list.
actor MergeRequestListing {
    private var listing: Task<[MergeRequest]?, any Error>?

    func list(_ fetch: @escaping @Sendable () async throws -> [MergeRequest]?) async throws -> [MergeRequest]? {
        if let listing { return try await listing.value }
        let task = Task { try await fetch() }
        listing = task
        return try await task.value
    }

    /// After the cycle changed MRs: the next asker lists again.
    func invalidate() { listing = nil }
}

extension [MergeRequest] {
    /// The bot's MR from `branch` into `stage`'s branch, if this list has it.
    func bot(_ branch: String, into stage: Stage) -> MergeRequest? {
        first { $0.sourceBranch == branch && $0.targetBranch == stage.branch }
    }
}
