import Foundation
import Planning
import Git
import GitLab
import Manifests
import Policies
import Logging

/// What `promobot rollback` asks for.
public struct RollbackCommandRequest: Sendable {
    /// `--to`: a tag (or digest) the stage ran before; nil: the state before the current one.
    public var to: String?
    /// `--reason`; nil: "requested by <user>".
    public var reason: String?
    /// Who runs the command (`GITLAB_USER_LOGIN` in GitLab CI, else the OS user).
    public var requestedBy: String

    public init(to: String? = nil, reason: String? = nil, requestedBy: String) {
        self.to = to
        self.reason = reason
        self.requestedBy = requestedBy
    }
}

/// Why an on-demand command (`rollback`, `promote`) cannot run at all.
public enum OnDemandError: Error, Sendable, CustomStringConvertible {
    /// No loaded policy has that name (exit 2: fix the command line).
    case unknownPolicy(String, known: [String])
    /// The policy has no such stage, or it cannot be promoted into (exit 2).
    case unknownStage(String, policy: String, known: [String])
    /// The history says no: nothing earlier to roll back to, or `--to` names a version not run before (exit 1).
    case refused(String)

    public var description: String {
        switch self {
        case let .unknownPolicy(name, known):
            return "no policy named '\(EchoText.escapingControls(name))'; policies: \(known.joined(separator: ", "))"
        case let .unknownStage(name, policy, known):
            return "policy '\(EchoText.escapingControls(policy))' has no stage '\(EchoText.escapingControls(name))' to do that to; stages: \(known.joined(separator: ", "))"
        case let .refused(message):
            return message
        }
    }

    /// The exit code the CLI uses for this error.
    public var exitCode: Int32 {
        switch self {
        case .unknownPolicy, .unknownStage: 2
        case .refused: 1
        }
    }
}

/// A stage's branch as one observation: the project, the refreshed clone, the tip and what its paths hold.
struct ObservedStage {
    var project: ResolvedProject
    var repository: RefreshedRepository
    var tip: ObjectID
    var files: [String: Data]
    var snapshot: StageSnapshot
}

extension PromotionEngine {
    // MARK: - Commands

    /// `promobot rollback POLICY STAGE`: opens (or finishes) the stage's rollback MR, closes its promotion
    /// MR as superseded, and merges at once when the stage's `rollback.merge` allows it.
    ///
    /// Soak, upstream health, version rules, holds, merge windows, freezes and the emergency stop do not
    /// apply: the way back must never be blocked by what guards the way forward.
    public func rollback(policy policyName: String, stage stageName: String, request: RollbackCommandRequest) async throws -> StageOutcome {
        let (policy, stage) = try find(policy: policyName, stage: stageName, promotedOnly: false)
        let now = clock()
        var projects = ProjectCache(engine: self)
        let observed = try await observe(stage, policy: policy, projects: &projects)
        let history = try await changes(of: stage, policy: policy, in: observed.repository.repository, tip: observed.tip, since: .distantPast)
        let target: RollbackTarget
        switch Planner.rollbackTarget(stage: stage.name, current: observed.snapshot.tags, history: history,
                                      images: policy.images, to: request.to) {
        case .success(let found): target = found
        case .failure(let refusal): throw OnDemandError.refused("\(policy.name)/\(stage.name): \(refusal)")
        }
        let record = RollbackRecord(from: target.from, reason: request.reason ?? "requested by \(request.requestedBy)",
                                    requestedBy: request.requestedBy, introducedBy: target.introducedBy?.commit)
        let open = try await projects.openMergeRequests(in: observed.project)
        let existing = open.bot(MergeRequestText.rollbackBranch(policy: policy.name, stage: stage.name), into: stage)
        let outcome = try await executeRollback(policy: policy, stage: stage, observed: observed, history: history, record: record,
                                                to: target.to.tags, existing: existing, openMergeRequests: open, now: now)
        log(outcome)
        return outcome
    }

    /// `promobot promote POLICY STAGE [--to TAG]`: plans and acts on the stage's promotion now, as a
    /// person's request: every promotion gate applies except the hold; with `to`, the candidate is the
    /// newest upstream state in which one of the policy's images ran that tag.
    public func promote(policy policyName: String, stage stageName: String, to tag: String?, requestedBy: String) async throws -> StageOutcome {
        let (policy, stage) = try find(policy: policyName, stage: stageName, promotedOnly: true)
        guard let upstream = policy.upstream(of: stage) else { throw OnDemandError.unknownStage(stageName, policy: policyName, known: []) }
        let now = clock()
        var projects = ProjectCache(engine: self)
        var pinned: ImageVersions?
        if let tag {
            let observed = try await observe(upstream, policy: policy, projects: &projects)
            let history = try await changes(of: upstream, policy: policy, in: observed.repository.repository, tip: observed.tip,
                                            since: now.addingTimeInterval(-configuration.historyHorizon))
            switch Planner.state(named: tag, stage: upstream.name, current: observed.snapshot.tags, history: history, images: policy.images) {
            case .success(let tags): pinned = tags
            case .failure(let refusal): throw OnDemandError.refused("\(policy.name)/\(stage.name): \(refusal)")
            }
        }
        let request = PromotionRequest(requestedBy: requestedBy, pinned: pinned)
        let outcome = try await reconcile(policy: policy, stage: stage, upstream: upstream, now: now, projects: &projects, request: request)
        log(outcome)
        return outcome
    }

    private func find(policy policyName: String, stage stageName: String, promotedOnly: Bool) throws -> (Policy, Stage) {
        guard let policy = policies.first(where: { $0.name == policyName }) else {
            throw OnDemandError.unknownPolicy(policyName, known: policies.map(\.name))
        }
        let stages = policy.stages.filter { !promotedOnly || $0.from != nil }
        guard let stage = stages.first(where: { $0.name == stageName }) else {
            throw OnDemandError.unknownStage(stageName, policy: policyName, known: stages.map(\.name))
        }
        return (policy, stage)
    }

    // MARK: - Cycles

    /// A cycle's part in rollbacks for one stage: finish an open rollback MR (rebuild, merge once
    /// allowed, close when no longer needed), or, for a stage with `rollback.auto`, roll back a promotion
    /// whose stage turned unhealthy (confirmed). Nil when there is nothing to do, which costs no request.
    func reconcileRollback(policy: Policy, stage: Stage, now: Date, projects: inout ProjectCache) async throws -> StageOutcome? {
        let project = try await projects.project(stage.repository)
        let open: [MergeRequest]
        if stage.from == nil {
            guard let listed = projects.listedOpenMergeRequests(in: project) else { return nil }
            open = listed
        } else {
            open = try await projects.openMergeRequests(in: project)
        }
        let branch = MergeRequestText.rollbackBranch(policy: policy.name, stage: stage.name)
        if let existing = open.bot(branch, into: stage) {
            let observed = try await observe(stage, policy: policy, projects: &projects)
            guard let marker = MergeRequestText.marker(in: existing.description), let record = marker.rollback,
                  marker.policy == policy.name, marker.stage == stage.name else {
                var plan = StagePlan(policy: policy.name, stage: stage.name, upstream: stage.from ?? "", current: observed.snapshot.tags.restricted(to: policy.images),
                                     candidate: nil, soakedSince: nil, gates: [],
                                     decision: .waiting(iid: existing.iid, gate: .mergeability,
                                                        reason: "its description has no readable promobot marker, so promobot cannot tell what it rolls back to; merge or close !\(existing.iid) by hand", until: nil),
                                     imageOrder: policy.images)
                plan.rollback = RollbackRecord(from: plan.current, reason: "unknown", requestedBy: "unknown")
                return StageOutcome(plan: plan, mergeRequestIID: existing.iid, mergeRequestURL: existing.webURL)
            }
            let history = try await changes(of: stage, policy: policy, in: observed.repository.repository, tip: observed.tip,
                                            since: now.addingTimeInterval(-configuration.historyHorizon))
            let outcome = try await executeRollback(policy: policy, stage: stage, observed: observed, history: history, record: record,
                                                    to: marker.candidate, existing: existing, openMergeRequests: open, now: now)
            if !outcome.actions.isEmpty { await projects.forget(mergeRequestsOf: observed.project) }
            return outcome
        }
        guard stage.rollback.auto, stage.from != nil, !stage.health.isEmpty else { return nil }
        return try await automaticRollback(policy: policy, stage: stage, now: now, open: open, projects: &projects)
    }

    /// Rolls the stage back by itself when its newest change is promobot's promotion, merged less than
    /// `rollback.within` ago, and the stage's own health checks fail twice, `rollbackConfirmation` apart
    /// (the same check `failed` both times; `unknown` never counts). A dry run samples once and says what
    /// a live run would do.
    private func automaticRollback(policy: Policy, stage: Stage, now: Date, open: [MergeRequest],
                                   projects: inout ProjectCache) async throws -> StageOutcome? {
        let observed = try await observe(stage, policy: policy, projects: &projects)
        let since = now.addingTimeInterval(-max(configuration.historyHorizon, stage.rollback.within.timeInterval))
        let history = try await changes(of: stage, policy: policy, in: observed.repository.repository, tip: observed.tip, since: since)
        guard let last = Planner.lastPromotion(history: history, images: policy.images),
              last.current == observed.snapshot.tags.restricted(to: policy.images) else { return nil }
        var mergedAt = last.promotion.time
        if !last.promotion.isMerge, now.timeIntervalSince(mergedAt) >= stage.rollback.within.timeInterval {
            // Fast-forwarded: the commit's time is when promobot built it. GitLab knows when it merged
            // (one request, only for such a promotion that looks older than the window).
            mergedAt = try await mergeTime(of: last.promotion.commit, policy: policy, stage: stage, project: observed.project) ?? mergedAt
        }
        guard let watched = Planner.watchedPromotion(history: history, images: policy.images, within: stage.rollback.within,
                                                     now: now, mergedAt: mergedAt) else { return nil }
        let references = Self.references(policy: policy, tags: watched.current)
        let first = await health.run(stage.health, candidate: references, now: now)
        let failing = first.filter { $0.state == .failed }
        guard !failing.isEmpty else { return nil }
        let metadata: Logger.Metadata = ["policy": "\(policy.name)", "stage": "\(stage.name)"]
        let evidence = { (results: [HealthResult]) in results.map { "\($0.check): \($0.detail)" }.joined(separator: "; ") }
        let confirmation = PlannerText.duration(max(1, Int(configuration.rollbackConfirmation.components.seconds)))
        if configuration.dryRun {
            var plan = Planner.planRollback(rollbackInput(policy: policy, stage: stage, observed: observed, history: history, now: now),
                                            record: RollbackRecord(from: watched.current, reason: evidence(failing), requestedBy: RollbackRecord.automaticRequester, automatic: true,
                                                                   introducedBy: watched.promotion.commit),
                                            to: watched.previous.tags)
            plan.decision = .blocked(gate: .health, reason: "\(stage.name) failed its health checks once since promotion \(PlannerText.shortSHA(watched.promotion.commit)) (\(evidence(failing))); a live run samples again after \(confirmation) and rolls back if they still fail", until: nil)
            return StageOutcome(plan: plan)
        }
        logger.warning("\(stage.name) failed health checks after promotion \(PlannerText.shortSHA(watched.promotion.commit)): \(evidence(failing)); sampling again in \(confirmation) to confirm before rolling back", metadata: metadata)
        try await Task.sleep(for: configuration.rollbackConfirmation)
        let second = await health.run(stage.health, candidate: references, now: clock())
        guard let confirmed = Planner.confirmedFailure(first: first, second: second) else {
            logger.info("\(stage.name) health failure not confirmed \(confirmation) later (\(evidence(second))); no rollback", metadata: metadata)
            return nil
        }
        let reason = "automatic rollback: \(stage.name) failed its health checks twice, \(confirmation) apart, within \(stage.rollback.within) of promotion \(PlannerText.shortSHA(watched.promotion.commit)): \(evidence(confirmed))"
        let record = RollbackRecord(from: watched.current, reason: reason, requestedBy: RollbackRecord.automaticRequester, automatic: true,
                                    introducedBy: watched.promotion.commit)
        logger.warning("\(reason)", metadata: metadata)
        let outcome = try await executeRollback(policy: policy, stage: stage, observed: observed, history: history, record: record,
                                                to: watched.previous.tags, existing: nil, openMergeRequests: open, now: now)
        if !outcome.actions.isEmpty { await projects.forget(mergeRequestsOf: observed.project) }
        return outcome
    }

    /// When GitLab merged the bot's promotion MR whose commit is `commit`, if it can tell.
    private func mergeTime(of commit: String, policy: Policy, stage: Stage, project: ResolvedProject) async throws -> Date? {
        let branch = MergeRequestText.sourceBranch(policy: policy.name, stage: stage.name)
        let merged = try await gitlab.mergeRequests(project.ref, MergeRequestQuery(state: .merged, sourceBranch: branch, targetBranch: stage.branch))
        return merged.first { $0.sha == commit || $0.mergeCommitSHA == commit || $0.squashCommitSHA == commit }?.mergedAt
    }

    /// Whether an action moved a branch or an MR (so what the cycle read before is out of date).
    static func changesBranches(_ action: EngineAction) -> Bool {
        switch action {
        case .opened, .adopted, .updated, .closed, .merged, .autoMergeSet, .mergeRequested: true
        default: false
        }
    }

    // MARK: - Shared

    /// Reads a stage's branch: project, refreshed clone (once per cycle), tip, files and images.
    func observe(_ stage: Stage, policy: Policy, projects: inout ProjectCache) async throws -> ObservedStage {
        let project = try await projects.project(stage.repository)
        // Every branch any policy reads in this repository, so one refresh serves all of them this cycle.
        let branches = Array(Set(policies.flatMap(\.stages).filter { $0.repository == stage.repository }.map(\.branch))).sorted()
        let repository = try await projects.repository(for: project, branches: branches)
        guard let tip = repository.tips[stage.branch] else {
            throw PolicyFailure(policy: policy.name, stage: stage.name, message: "branch '\(stage.branch)' does not exist in \(stage.repository): create it, or fix 'branch' for stage '\(stage.name)' in \(policy.sourcePath)")
        }
        let files = try await StageReader.files(in: repository.repository, paths: stage.paths, at: tip)
        let snapshot = StageSnapshot(commit: tip.hex, tags: StageReader.tags(in: files, images: policy.images))
        return ObservedStage(project: project, repository: repository, tip: tip, files: files, snapshot: snapshot)
    }

    private func rollbackInput(policy: Policy, stage: Stage, observed: ObservedStage, history: [HistoryEntry], now: Date) -> PlanInput {
        var input = PlanInput(policy: policy, stage: stage, target: observed.snapshot, upstream: observed.snapshot, history: [],
                              historyHorizon: now.addingTimeInterval(-configuration.historyHorizon), health: [], mergeRequest: nil, now: now)
        input.targetHistory = history
        return input
    }

    /// Plans and acts on the stage's rollback MR; once it is open (or merged), closes the stage's
    /// promotion MR as superseded by it.
    private func executeRollback(policy: Policy, stage: Stage, observed: ObservedStage, history: [HistoryEntry], record: RollbackRecord,
                                 to: ImageVersions, existing: MergeRequest?, openMergeRequests: [MergeRequest], now: Date) async throws -> StageOutcome {
        let branch = MergeRequestText.rollbackBranch(policy: policy.name, stage: stage.name)
        var input = rollbackInput(policy: policy, stage: stage, observed: observed, history: history, now: now)
        if let existing {
            input.mergeRequest = try await botMergeRequest(existing, project: observed.project, policy: policy, stage: Planner.rollbackStage(stage),
                                                           repository: observed.repository.repository, targetFiles: observed.files,
                                                           targetTip: observed.tip, branchMissing: observed.repository.remoteBranch(branch) == nil)
        }
        let plan = Planner.planRollback(input, record: record, to: to)
        let context = ActionContext(policy: policy, stage: stage, input: input, plan: plan, project: observed.project,
                                    upstreamProject: observed.project, repository: observed.repository, targetFiles: observed.files,
                                    targetTip: observed.tip, sourceBranch: branch, existing: existing)
        var outcome = await act(context)
        guard outcome.error == nil else { return outcome }

        let rollbackIID = outcome.actions.lazy.compactMap { action -> Int? in
            switch action {
            case .opened, .adopted, .updated, .merged, .autoMergeSet, .mergeRequested, .notMerged: action.iid
            default: nil
            }
        }.first ?? (existing != nil ? plan.decision.mergeRequestIID : nil)
        let promotionBranch = MergeRequestText.sourceBranch(policy: policy.name, stage: stage.name)
        var closing = false
        if case .closeMR = plan.decision { closing = true }
        guard !closing, let promotion = openMergeRequests.bot(promotionBranch, into: stage) else {
            return outcome
        }
        if configuration.dryRun {
            outcome.actions.append(.wouldAct("close MR !\(promotion.iid): superseded by the rollback"))
            return outcome
        }
        guard let rollbackIID else { return outcome }
        do {
            try await closeMergeRequest(observed.project, iid: promotion.iid, sourceBranch: promotionBranch,
                                        reason: "superseded by rollback !\(rollbackIID)")
            outcome.actions.append(.closed(iid: promotion.iid))
        } catch {
            outcome.error = "closing promotion MR !\(promotion.iid): \(error)"
        }
        return outcome
    }
}
