import Foundation
import Planning
import Git
import GitLab
import Health
import Logging
import Manifests
import Policies
import Registry

/// One reconcile cycle: observe every stage (git + GitLab + health + registries), plan (pure), act (MRs).
///
/// Git and the MRs are the only state, so a cycle can be repeated, run twice at once, or killed at
/// any point: commits are deterministic for a given (target tip, candidate), pushes carry a lease,
/// and a duplicate MR answer from GitLab is adopted rather than fought.
public struct PromotionEngine: Sendable {
    public var policies: [Policy]
    public var gitlab: GitLabClient
    public var repositories: RepositoryCache
    public var health: HealthChecker
    /// Asked about the candidate's tags (image-exists, `pin: digest`) only for stages that consider a promotion;
    /// nil leaves the gate out of every plan.
    public var registry: (any ImageRegistry)?
    public var configuration: EngineConfiguration
    public var logger: Logger
    public var clock: @Sendable () -> Date
    /// GitLab's SSH clone URLs, learned once per engine (with `git.transport: ssh`).
    let sshCloneURLs = SSHCloneURLs()

    public init(policies: [Policy], gitlab: GitLabClient, repositories: RepositoryCache, health: HealthChecker,
                configuration: EngineConfiguration, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() },
                registry: (any ImageRegistry)? = nil) {
        self.registry = registry
        self.policies = policies
        self.gitlab = gitlab
        self.repositories = repositories
        self.health = health
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
    }

    /// Runs one cycle. Never throws: failures are recorded per policy so one bad policy never stops the others.
    ///
    /// Policies that share a repository run one after the other in one lane (so a repository is probed
    /// once and never written by two tasks at once); lanes run concurrently, up to `configuration.concurrency`.
    /// The report keeps policy and stage order whatever order the lanes finish in.
    public func runCycle() async -> CycleReport {
        let now = clock()
        let lanes = Self.lanes(of: policies)
        let listing = MergeRequestListing()
        var results: [LaneResult] = []
        await withTaskGroup(of: LaneResult.self) { group in
            var pending = lanes.makeIterator()
            for _ in 0..<configuration.concurrency {
                guard let lane = pending.next() else { break }
                group.addTask { await reconcile(lane: lane, now: now, listing: listing) }
            }
            for await result in group {
                results.append(result)
                if let lane = pending.next() { group.addTask { await reconcile(lane: lane, now: now, listing: listing) } }
            }
        }
        var stages: [Int: [StageOutcome]] = [:], errors: [Int: [PolicyFailure]] = [:]
        for result in results {
            stages.merge(result.stages) { $0 + $1 }
            errors.merge(result.errors) { $0 + $1 }
        }
        var report = CycleReport()
        for index in policies.indices {
            report.stages += stages[index] ?? []
            report.errors += errors[index] ?? []
        }
        if configuration.closeOrphans {
            report.orphans = await closeOrphans(listed: results.flatMap(\.listedMergeRequests), report: &report)
            await pruneCache(resolved: results.flatMap(\.cloneURLs))
        }
        return report
    }

    /// What one lane saw and did, keyed by policy index.
    private struct LaneResult: Sendable {
        var stages: [Int: [StageOutcome]] = [:]
        var errors: [Int: [PolicyFailure]] = [:]
        var listedMergeRequests: [(ResolvedProject, [MergeRequest])] = []
        /// Clone URLs of the projects the lane resolved (those named by id included).
        var cloneURLs: [String] = []
    }

    /// Reconciles a lane's policies in order, stage by stage, sharing one per-cycle project cache.
    private func reconcile(lane: [Int], now: Date, listing: MergeRequestListing) async -> LaneResult {
        var result = LaneResult()
        var projects = ProjectCache(engine: self, listing: listing)
        for index in lane {
            let policy = policies[index]
            // Stages promobot promotes into first (they list their projects' MRs anyway); then first
            // stages, whose rollback MRs are looked for only in projects already listed, so a no-op cycle
            // costs no extra request.
            let ordered = policy.stages.filter { $0.from != nil } + policy.stages.filter { $0.from == nil }
            for stage in ordered {
                do {
                    if let rollback = try await reconcileRollback(policy: policy, stage: stage, now: now, projects: &projects) {
                        log(rollback)
                        result.stages[index, default: []].append(rollback)
                        // What this cycle read of the stage is stale once its rollback wrote: plan it next cycle.
                        if !configuration.dryRun, rollback.actions.contains(where: Self.changesBranches) { continue }
                    }
                    guard let upstream = policy.upstream(of: stage) else { continue }
                    let outcome = try await reconcile(policy: policy, stage: stage, upstream: upstream, now: now, projects: &projects)
                    log(outcome)
                    result.stages[index, default: []].append(outcome)
                } catch {
                    let failure = PolicyFailure(policy: policy.name, stage: stage.name, message: "\(error)")
                    logger.error("\(failure.message)", metadata: ["policy": "\(policy.name)", "stage": "\(stage.name)"])
                    result.errors[index, default: []].append(failure)
                }
            }
            let order = policy.stages.map(\.name)
            result.stages[index]?.sort { (order.firstIndex(of: $0.plan.stage) ?? 0) < (order.firstIndex(of: $1.plan.stage) ?? 0) }
        }
        result.listedMergeRequests = projects.listedMergeRequests
        result.cloneURLs = projects.cloneURLs
        return result
    }

    /// Groups policies (by index, in order) so that two policies naming a common repository share a lane.
    static func lanes(of policies: [Policy]) -> [[Int]] {
        var laneOfRepository: [String: Int] = [:]
        var lanes: [[Int]] = []
        for (index, policy) in policies.enumerated() {
            let repositories = Set(policy.stages.map(\.repository))
            let touched = Set(repositories.compactMap { laneOfRepository[$0] }).sorted()
            guard let target = touched.first else {
                lanes.append([index])
                repositories.forEach { laneOfRepository[$0] = lanes.count - 1 }
                continue
            }
            // Merge every other lane this policy connects into the first one.
            for other in touched.dropFirst() {
                lanes[target] += lanes[other]
                lanes[other] = []
                for (repository, lane) in laneOfRepository where lane == other { laneOfRepository[repository] = target }
            }
            lanes[target].append(index)
            lanes[target].sort()
            repositories.forEach { laneOfRepository[$0] = target }
        }
        return lanes.filter { !$0.isEmpty }
    }

    /// Observes, plans and acts on one promotion into `stage`.
    ///
    /// - Parameter request: set by `promobot promote`; otherwise taken from the open MR's marker, so a
    ///   promotion a person asked for is honoured the same way by every later cycle.
    func reconcile(policy: Policy, stage: Stage, upstream: Stage, now: Date, projects: inout ProjectCache,
                   request: PromotionRequest? = nil) async throws -> StageOutcome {
        let targetSide = try await observe(stage, policy: policy, projects: &projects)
        let upstreamSide = try await observe(upstream, policy: policy, projects: &projects)
        let (targetProject, targetRepo, targetTip, targetFiles, target) =
            (targetSide.project, targetSide.repository, targetSide.tip, targetSide.files, targetSide.snapshot)
        let (upstreamRepo, upstreamTip, upstreamState) = (upstreamSide.repository, upstreamSide.tip, upstreamSide.snapshot)

        let sourceBranch = MergeRequestText.sourceBranch(policy: policy.name, stage: stage.name)
        let open = try await projects.openMergeRequests(in: targetProject)
        let existing = open.bot(sourceBranch, into: stage)

        // Fast path: nothing to promote and nothing open: no history walk, no health probes, no API call.
        let needsWork = existing != nil || request != nil
            || policy.images.contains { !Self.runsOffered(target.tags[$0], offered: upstreamState.tags[$0], stage: stage) }
        var input = PlanInput(
            policy: policy, stage: stage, target: target, upstream: upstreamState, history: [],
            historyHorizon: now.addingTimeInterval(-configuration.historyHorizon), health: [],
            mergeRequest: nil, now: now, emergencyStop: configuration.emergencyStop
        )
        input.rollbackMergeRequest = open.bot(MergeRequestText.rollbackBranch(policy: policy.name, stage: stage.name), into: stage)?.iid
        input.request = request ?? existing.flatMap { MergeRequestText.marker(in: $0.description)?.request }
        input.healthChecked = needsWork
        if configuration.readsStageHistory && !needsWork {
            input.targetHistory = try await changes(of: stage, policy: policy, in: targetRepo.repository, tip: targetTip, since: input.historyHorizon)
        }
        if needsWork {
            input.history = try await history(of: upstream, policy: policy, in: upstreamRepo.repository, tip: upstreamTip, since: input.historyHorizon)
            input.targetHistory = try await changes(of: stage, policy: policy, in: targetRepo.repository, tip: targetTip, since: input.historyHorizon)
            let offered = input.request?.pinned ?? upstreamState.tags
            let candidate = Self.references(policy: policy, tags: offered)
            input.health = await health.run(upstream.health, candidate: candidate, now: now)
            if let existing {
                let mr = try await botMergeRequest(existing, project: targetProject, policy: policy, stage: stage,
                                                   repository: targetRepo.repository, targetFiles: targetFiles, targetTip: targetTip,
                                                   branchMissing: targetRepo.remoteBranch(sourceBranch) == nil)
                input.mergeRequest = mr
                input.proposalHealth = await proposalHealth(mr, policy: policy, stage: stage, upstream: upstream,
                                                            upstreamTags: upstreamState.tags, now: now)
            }
            if let registry, let candidate = Planner.plan(input).candidate {
                // The planner picks the candidate (pick, a pinned request); the registry is asked about exactly that.
                input.registry = await registry.lookups(candidate, order: policy.images)
            }
        }

        let plan = Planner.plan(input)
        let context = ActionContext(policy: policy, stage: stage, input: input, plan: plan,
                                    project: targetProject, upstreamProject: upstreamSide.project, repository: targetRepo,
                                    targetFiles: targetFiles, targetTip: targetTip, sourceBranch: sourceBranch, existing: existing)
        return await act(context)
    }

    private func history(of upstream: Stage, policy: Policy, in repository: CachedRepository, tip: ObjectID, since: Date) async throws -> [HistoryEntry] {
        try await repository.history(from: tip, paths: upstream.paths, since: since, maxCommits: configuration.maxHistoryCommits).map {
            HistoryEntry(commit: $0.commit.hex, time: $0.time, tags: StageReader.tags(in: $0.files, images: policy.images))
        }
    }

    /// The target stage's changes, newest first, with who made each (for holds and rollbacks).
    ///
    /// Reads back to `since`, and further when that shows no change of the policy's images, so the
    /// last such change is always seen; either way at most `maxHistoryCommits` commits.
    /// A change made by a bot rollback names who asked for it and why, rather than the merge commit's author.
    func changes(of stage: Stage, policy: Policy, in repository: CachedRepository, tip: ObjectID, since: Date) async throws -> [HistoryEntry] {
        func read(_ since: Date) async throws -> [HistoryEntry] {
            try await repository.history(from: tip, paths: stage.paths, since: since, maxCommits: configuration.maxHistoryCommits).map { snapshot in
                var entry = HistoryEntry(commit: snapshot.commit.hex, time: snapshot.time, tags: StageReader.tags(in: snapshot.files, images: policy.images),
                                         author: snapshot.author, subject: String(snapshot.messages.first?.split(separator: "\n").first ?? ""),
                                         byPromotion: snapshot.messages.contains { MergeRequestText.isPromotion($0, policy: policy.name, stage: stage.name) })
                entry.isMerge = snapshot.messages.count > 1
                if let rollback = snapshot.messages.lazy.compactMap(MergeRequestText.rollbackRequest(in:)).first {
                    entry.author = rollback.requestedBy == RollbackRecord.automaticRequester
                        ? "promobot (automatic rollback)" : "\(rollback.requestedBy) via promobot rollback"
                    entry.subject = rollback.reason
                }
                return entry
            }
        }
        let recent = try await read(since)
        if Planner.states(history: recent, images: policy.images).count >= 2 { return recent }
        return try await read(.distantPast)
    }

    /// Whether the target already runs what the upstream offers: the same version, or, for a `pin: digest` stage,
    /// the same tag pinned to a digest while the upstream writes the tag alone (what the stage's own promotion wrote).
    static func runsOffered(_ running: ImageVersion?, offered: ImageVersion?, stage: Stage) -> Bool {
        if running == offered { return true }
        guard stage.pin == .digest, let running, let offered, offered.digest == nil, running.digest != nil else { return false }
        return running.tag == offered.tag
    }

    /// The references health checks compare running images with: each policy image at its version.
    static func references(policy: Policy, tags: ImageVersions) -> [ImageReference] {
        tags.ordered(by: policy.images).compactMap { $0.version.reference(of: $0.image) }
    }

    /// The newest commit on the MR's branch that is not the bot's, or nil when every commit is its own.
    ///
    /// A commit is recognised by what it is, not by where the bot expected it: the head the marker
    /// records is the bot's; any other head (a run killed between push and description update, a
    /// concurrent run, a PUT that failed past its retries) is the bot's when every commit GitLab lists
    /// for the MR carries the bot's identity and its policy/stage trailers.
    ///
    /// - Returns: `.foreign(sha)` for the newest commit by someone else, `.unverified(reason)` when GitLab
    ///   does not list the head among the MR's commits (it computes them asynchronously after a push),
    ///   `.own` otherwise.
    func authorship(_ mr: MergeRequest, head: String, marker: PromotionMarker?, project: ResolvedProject,
                    policy: Policy, stage: Stage) async throws -> BranchAuthorship {
        if let marker, marker.head == head { return .own }
        let commits = try await gitlab.commits(project.ref, iid: mr.iid)
        if let foreign = commits.first(where: { !isOwnCommit($0, policy: policy, stage: stage) }) { return .foreign(foreign.id) }
        guard commits.contains(where: { $0.id == head }) else {
            return .unverified("GitLab does not list the branch head \(PlannerText.shortSHA(head)) among the commits of !\(mr.iid) yet; promobot checks who pushed it next cycle")
        }
        return .own
    }

    enum BranchAuthorship {
        case own
        case foreign(String)
        case unverified(String)
    }

    /// The bot's identity and trailers for this (policy, stage): what makes a commit the bot's own.
    func isOwnCommit(_ commit: GitLabCommit, policy: Policy, stage: Stage) -> Bool {
        commit.authorEmail.caseInsensitiveCompare(configuration.authorEmail) == .orderedSame
            && MergeRequestText.hasTrailers(commit.message, policy: policy.name, stage: stage.name)
    }

    /// Whether the target's files under the stage's paths differ between `base` and the tip (the
    /// bot's edit no longer applies as built). A base the cache cannot read counts as changed.
    private func stageFilesChanged(since base: String, stage: Stage, repository: CachedRepository,
                                   targetFiles: [String: Data], targetTip: ObjectID) async -> Bool {
        if base == targetTip.hex { return false }
        guard let commit = ObjectID(hex: base),
              let files = try? await StageReader.files(in: repository, paths: stage.paths, at: commit) else { return true }
        return files != targetFiles
    }

    /// - Parameter isDetailed: `mr` is already a single-MR answer (a GET, or the answer to a create or
    ///   update), with `detailed_merge_status` and the head pipeline: no second read is needed.
    func botMergeRequest(_ mr: MergeRequest, project: ResolvedProject, policy: Policy, stage: Stage,
                         repository: CachedRepository, targetFiles: [String: Data], targetTip: ObjectID,
                         branchMissing: Bool, isDetailed: Bool = false) async throws -> BotMergeRequest {
        let marker = MergeRequestText.marker(in: mr.description)
        var detailed = mr
        var approvalsGiven = 0
        if stage.merge != .manual && !isDetailed {
            detailed = try await gitlab.mergeRequest(project.ref, iid: mr.iid)
        }
        if stage.merge == .approved {
            let approvals = try await gitlab.approvals(project.ref, iid: mr.iid)
            approvalsGiven = approvals.approvedBy.count
        }
        // A vanished branch has no head to attribute: nobody's commit can be overwritten by pushing it again.
        let authorship = branchMissing ? .own
            : try await authorship(mr, head: detailed.sha, marker: marker, project: project, policy: policy, stage: stage)
        var foreign: String?, unverified: String?
        switch authorship {
        case .own: break
        case .foreign(let commit): foreign = commit
        case .unverified(let reason): unverified = reason
        }
        var filesChanged = false
        if let marker {
            filesChanged = await stageFilesChanged(since: marker.base, stage: stage, repository: repository,
                                                   targetFiles: targetFiles, targetTip: targetTip)
        }
        return BotMergeRequest(
            iid: mr.iid, webURL: mr.webURL, headSHA: detailed.sha,
            marker: marker,
            foreignCommits: foreign != nil, foreignCommit: foreign, headUnverified: unverified, stageFilesChanged: filesChanged,
            branchMissing: branchMissing,
            detailedMergeStatus: MergeStatus(rawValue: detailed.detailedMergeStatus.rawValue),
            approvalsGiven: approvalsGiven, approvalsRequired: stage.approvals,
            pipelineStatus: detailed.headPipeline.map { PipelineStatus(rawValue: $0.status.rawValue) },
            autoMergeEnabled: detailed.mergeWhenPipelineSucceeds
        )
    }

    /// Upstream health checked for what an `auto` MR proposes, when that is not what the upstream
    /// holds now; the planner then may merge the MR as it is (progress before perfection).
    private func proposalHealth(_ mr: BotMergeRequest, policy: Policy, stage: Stage, upstream: Stage, upstreamTags: ImageVersions,
                                now: Date) async -> [HealthResult]? {
        guard stage.merge == .auto, !mr.foreignCommits, let marker = mr.marker,
              marker.candidate != upstreamTags.restricted(to: policy.images) else { return nil }
        return await health.run(upstream.health, candidate: Self.references(policy: policy, tags: marker.candidate), now: now)
    }

    /// One line per stage: the plan's decision, or, when the engine did something else (a lease lost
    /// to another run, a same-cycle merge), what it did and why, so a line never contradicts itself.
    func log(_ outcome: StageOutcome) {
        var metadata: Logger.Metadata = ["policy": "\(outcome.plan.policy)", "stage": "\(outcome.plan.stage)"]
        if let action = outcome.action { metadata["action"] = "\(action)" }
        let line = outcome.note ?? outcome.plan.summary
        if let error = outcome.error {
            logger.error("\(line): \(error)", metadata: metadata)
        } else {
            logger.info("\(line)", metadata: metadata)
        }
    }
}
