import Foundation
import Planning
import Git
import GitLab
import Manifests
import Policies

/// Everything acting on one stage's plan needs, gathered while observing it.
struct ActionContext {
    var policy: Policy
    var stage: Stage
    var input: PlanInput
    var plan: StagePlan
    var project: ResolvedProject
    var upstreamProject: ResolvedProject
    var repository: RefreshedRepository
    var targetFiles: [String: Data]
    var targetTip: ObjectID
    var sourceBranch: String
    var existing: MergeRequest?
}

extension PromotionEngine {
    /// Carries out a plan's decision. In a dry run, says what it would do and writes nothing.
    func act(_ context: ActionContext) async -> StageOutcome {
        var outcome = StageOutcome(plan: context.plan, upstreamTags: context.input.upstream.tags,
                                   mergeRequestIID: context.existing?.iid, mergeRequestURL: context.existing?.webURL)
        outcome.recentChanges = Array(context.input.targetHistory.prefix(5))
        // The engine reads approvals only for `merge: approved`, which always requires at least one.
        if let mr = context.input.mergeRequest, mr.approvalsRequired > 0 { outcome.approvals = (mr.approvalsGiven, mr.approvalsRequired) }
        let decision = context.plan.decision
        if configuration.dryRun {
            if Self.isWrite(decision) { outcome.actions = [.wouldAct(context.plan.summary)] }
            return outcome
        }
        do {
            switch decision {
            case .upToDate, .blocked, .waiting:
                break
            case .openMR:
                guard let opened = try await openMergeRequest(context) else {
                    outcome.note = baseMovedNote(context, "open the MR")
                    break
                }
                outcome.actions = [opened.adopted ? .adopted(iid: opened.mr.iid) : .opened(iid: opened.mr.iid)]
                if opened.adopted {
                    outcome.note = "adopted MR !\(opened.mr.iid): another promobot run opened it for the same promotion"
                }
                outcome.mergeRequestIID = opened.mr.iid
                outcome.mergeRequestURL = opened.mr.webURL
                if opened.pushed { try await mergeInSameCycle(context, iid: opened.mr.iid, answer: opened.mr, outcome: &outcome) }
            case .updateMR(let iid, _):
                let updated = try await updateMergeRequest(context, iid: iid)
                outcome.actions = [updated.action]
                outcome.note = updated.note
                if updated.note == nil { try await mergeInSameCycle(context, iid: iid, outcome: &outcome) }
            case .closeMR(let iid, let reason):
                try await closeMergeRequest(context.project, iid: iid, sourceBranch: context.sourceBranch, reason: reason)
                outcome.actions = [.closed(iid: iid)]
                outcome.mergeRequestIID = nil
                outcome.mergeRequestURL = nil
            case .mergeMR(let iid, let sha, let autoMerge):
                try await merge(context.project, iid: iid, sha: sha, autoMerge: autoMerge, outcome: &outcome)
            case .leaveAlone(let iid, _):
                let commit = context.input.mergeRequest?.foreignCommit ?? context.existing?.sha ?? ""
                outcome.actions = [try await commentOnce(context.project, iid: iid, sourceBranch: context.sourceBranch, commit: commit)]
            }
        } catch {
            outcome.error = "\(error)"
        }
        return outcome
    }

    static func isWrite(_ decision: Decision) -> Bool {
        switch decision {
        case .upToDate, .blocked, .waiting: false
        case .openMR, .updateMR, .closeMR, .mergeMR, .leaveAlone: true
        }
    }

    // MARK: - Branch

    /// Builds the promotion commit on the target tip. Deterministic: the same tip and candidate give
    /// the same commit id, so a rerun after a crash finds its push already done.
    private func buildCommit(_ context: ActionContext) async throws -> BuiltCommit {
        guard let candidate = context.plan.candidate else {
            throw PolicyFailure(policy: context.policy.name, stage: context.stage.name, message: "no candidate to promote")
        }
        let updates = candidate.updates
        var changes: [String: Data] = [:]
        var records: [ImageChange] = []
        for (path, data) in context.targetFiles.sorted(by: { $0.key < $1.key }) {
            guard let text = String(data: data, encoding: .utf8) else { continue }
            let edit = try ManifestEditor.edit(text, path: path, updates: updates)
            if !edit.changes.isEmpty { changes[path] = Data(edit.text.utf8) }
            records += edit.changes
        }
        guard !changes.isEmpty else {
            throw PolicyFailure(policy: context.policy.name, stage: context.stage.name,
                                message: "none of \(context.policy.images.joined(separator: ", ")) was found under \(context.stage.paths.joined(separator: ", ")) in \(context.stage.repository)@\(context.stage.branch)")
        }
        // Times that follow from the inputs, so the same inputs give the same commit id.
        let time: Date
        let message: String
        if let rollback = context.plan.rollback {
            time = context.input.targetHistory.first?.time ?? context.input.now
            message = MergeRequestText.rollbackCommitMessage(policy: context.policy, stage: context.stage, record: rollback,
                                                             to: candidate, changes: records)
        } else {
            time = context.plan.soakedSince ?? context.input.history.first?.time ?? context.input.now
            message = MergeRequestText.commitMessage(policy: context.policy, stage: context.stage, candidate: candidate, changes: records,
                                                     upstreamCommit: context.plan.upstreamCommit ?? context.input.upstream.commit)
        }
        let signature = GitSignature(name: configuration.authorName, email: configuration.authorEmail, time: time)
        let id = try await context.repository.repository.commit(parent: context.targetTip, changes: changes, author: signature, message: message)
        return BuiltCommit(id: id, changes: records)
    }

    /// A promotion commit and the editor's records of what it changes (for the commit message and the MR table).
    struct BuiltCommit {
        var id: ObjectID
        var changes: [ImageChange]
    }

    /// Pushes `commit` to the bot branch unless it is already there, refusing to move a branch that is
    /// not where we believe it is, and refusing when the target branch moved since this cycle read it
    /// (another run may have finished this very promotion meanwhile: re-plan next cycle instead).
    private func pushBranch(_ context: ActionContext, commit: ObjectID, expecting expected: ObjectID?) async throws {
        if context.repository.remoteBranch(context.sourceBranch) == commit { return }
        try await context.repository.repository.push(commit, to: context.sourceBranch, expecting: expected,
                                                      unchanged: [context.stage.branch: context.targetTip])
    }

    /// The note for a push refused because the target branch moved during the cycle.
    private func baseMovedNote(_ context: ActionContext, _ what: String) -> String {
        "did not \(what): \(context.stage.branch) moved while this cycle ran (another promobot run or CI); the next cycle plans again"
    }

    // MARK: - Merge requests

    /// Pushes the branch and opens the MR. Losing a race to another run is normal: when the branch
    /// moved under the lease or GitLab answers 409, the winner's MR is adopted (and its text, which
    /// describes its branch, is left as it is).
    private func openMergeRequest(_ context: ActionContext) async throws -> (mr: MergeRequest, adopted: Bool, pushed: Bool)? {
        let commit = try await buildCommit(context)
        var pushed = true
        do {
            // No MR: the branch is absent, or left over by a crashed or concurrent run; lease on what we saw.
            try await pushBranch(context, commit: commit.id, expecting: context.repository.remoteBranch(context.sourceBranch))
        } catch let error as GitError where error.baseMoved {
            return nil
        } catch let error as GitError where error.isLeaseRejection {
            // Another run pushed the branch since this cycle listed it. Open (or adopt) the MR on the branch as
            // it is: the next cycle reads who committed there before anything is merged.
            pushed = error.leaseActual == commit.id
            if !pushed, let winner = try await openMergeRequest(from: context) {
                return (winner, true, false)
            }
        }
        let text = texts(context, commit: commit)
        let create = CreateMergeRequest(
            title: text.title, description: text.description, sourceBranch: context.sourceBranch,
            targetBranch: context.stage.branch, labels: context.stage.labels,
            assignees: context.stage.assignees.map(UserRef.username), reviewers: context.stage.reviewers.map(UserRef.username),
            removeSourceBranch: true
        )
        do {
            return (try await gitlab.createMergeRequest(context.project.ref, create), false, pushed)
        } catch let error as GitLabError where error.isDuplicateMergeRequest {
            // A concurrent run (or one that died after creating) got there first: adopt its MR.
            guard let iid = error.existingMergeRequestIID else { throw error }
            if !pushed { return (try await gitlab.mergeRequest(context.project.ref, iid: iid), true, false) }
            let mr = try await gitlab.updateMergeRequest(context.project.ref, iid: iid,
                                                         UpdateMergeRequest(title: text.title, description: text.description))
            return (mr, true, true)
        }
    }

    /// The open MR from the stage's bot branch, if another run already opened it.
    private func openMergeRequest(from context: ActionContext) async throws -> MergeRequest? {
        try await gitlab.mergeRequests(context.project.ref, MergeRequestQuery(state: .opened, sourceBranch: context.sourceBranch))
            .first { $0.targetBranch == context.stage.branch }
    }

    /// Rebuilds the branch and rewrites the title and description.
    ///
    /// The lease expects the head the planner checked (the bot's own commit, by identity and trailers):
    /// so a push by a person after that check is never overwritten, and a head left by a run killed
    /// between push and description update is simply replaced. A lost lease is not someone else's push
    /// by itself (another promobot run may have won); the next cycle reads who committed.
    private func updateMergeRequest(_ context: ActionContext, iid: Int) async throws -> (action: EngineAction, note: String?) {
        let commit = try await buildCommit(context)
        // A vanished branch is pushed again (lease: still absent); otherwise the lease is the checked head.
        let checkedHead = context.input.mergeRequest?.branchMissing == true ? nil
            : context.input.mergeRequest?.headSHA ?? context.existing?.sha
        do {
            try await pushBranch(context, commit: commit.id, expecting: checkedHead.flatMap(ObjectID.init(hex:)))
        } catch let error as GitError where error.baseMoved {
            return (.leftAsIs(iid: iid), baseMovedNote(context, "update MR !\(iid)"))
        } catch let error as GitError where error.isLeaseRejection {
            // When the branch is already at this very commit, another run built and pushed the same thing:
            // finish the update. Anything else is for the next cycle to judge.
            if error.leaseActual != commit.id {
                let now = error.leaseActual.map { PlannerText.shortSHA($0.hex) } ?? "<absent>"
                return (.leftAsIs(iid: iid),
                        "did not update MR !\(iid): \(context.sourceBranch) moved to \(now) while this cycle ran (another promobot run or a person); the next cycle checks who pushed")
            }
        }
        let text = texts(context, commit: commit)
        _ = try await gitlab.updateMergeRequest(context.project.ref, iid: iid, UpdateMergeRequest(title: text.title, description: text.description))
        return (.updated(iid: iid), nil)
    }

    /// For `auto` stages, merges the MR just opened or rebuilt in this same cycle, so a promotion never
    /// waits a whole cycle (by which time a busy upstream has moved again).
    ///
    /// GitLab computes mergeability asynchronously, so the MR is read again until its
    /// `detailed_merge_status` settles (at most `mergeabilityWait`); the planner then decides with the
    /// fresh MR exactly as in a later cycle: merge when `mergeable`, GitLab's auto-merge while a pipeline
    /// runs (not with merge windows), otherwise wait.
    ///
    /// - Parameter answer: GitLab's answer to creating the MR, used as the first read: when it already says
    ///   `mergeable`, a promotion costs no extra GET (see "What a promotion costs" in docs/how-it-works.md).
    func mergeInSameCycle(_ context: ActionContext, iid: Int, answer: MergeRequest? = nil, outcome: inout StageOutcome) async throws {
        let mergingStage = context.plan.rollback == nil ? context.stage : Planner.rollbackStage(context.stage)
        guard mergingStage.merge == .auto else { return }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: configuration.mergeabilityWait)
        var mr: BotMergeRequest
        var known = answer
        while true {
            let read: MergeRequest
            if let first = known {
                read = first
                known = nil
            } else {
                read = try await gitlab.mergeRequest(context.project.ref, iid: iid)
            }
            mr = try await botMergeRequest(read, project: context.project, policy: context.policy, stage: mergingStage,
                                           repository: context.repository.repository, targetFiles: context.targetFiles,
                                           targetTip: context.targetTip, branchMissing: false, isDetailed: true)
            guard mr.detailedMergeStatus.isPending, clock.now < deadline else { break }
            try await Task.sleep(for: configuration.mergeabilityPoll)
        }
        var input = context.input
        input.mergeRequest = mr
        input.proposalHealth = nil
        let plan: StagePlan
        if let rollback = context.plan.rollback, let to = context.plan.candidate {
            plan = Planner.planRollback(input, record: rollback, to: to)
        } else {
            plan = Planner.plan(input)
        }
        guard case let .mergeMR(_, sha, autoMerge) = plan.decision else {
            outcome.note = "\(outcome.note ?? context.plan.summary); then \(plan.decision.summary)"
            return
        }
        try await merge(context.project, iid: iid, sha: sha, autoMerge: autoMerge, outcome: &outcome)
        outcome.note = "\(outcome.note ?? context.plan.summary); then \(outcome.actions.last?.description ?? plan.decision.summary) in the same cycle"
    }

    func closeMergeRequest(_ project: ResolvedProject, iid: Int, sourceBranch: String, reason: String) async throws {
        _ = try await gitlab.createNote(project.ref, iid: iid, body: MergeRequestText.closeComment(reason: reason))
        _ = try await gitlab.updateMergeRequest(project.ref, iid: iid, UpdateMergeRequest(stateEvent: .close))
        _ = try await gitlab.deleteBranch(project.ref, sourceBranch)   // false when already gone
    }

    /// Merges pinned to `sha` (or sets GitLab's auto-merge) and records what happened in `outcome`.
    private func merge(_ project: ResolvedProject, iid: Int, sha: String, autoMerge: Bool, outcome: inout StageOutcome) async throws {
        do {
            let merged = try await gitlab.merge(project.ref, iid: iid, MergeOptions(sha: sha, autoMerge: autoMerge, shouldRemoveSourceBranch: true))
            if merged.state == .merged {
                outcome.actions.append(.merged(iid: iid))
                outcome.mergedCommit = merged.mergeCommitSHA ?? merged.squashCommitSHA ?? merged.sha
                outcome.mergeRequestIID = nil
                outcome.mergeRequestURL = nil
            } else {
                outcome.actions.append(autoMerge ? .autoMergeSet(iid: iid) : .mergeRequested(iid: iid, state: merged.state.rawValue))
            }
        } catch let error as GitLabError where [.methodNotAllowed, .conflict, .unprocessable].contains(error.kind) {
            // Not mergeable right now (someone pushed, pipeline started, approvals withdrawn): a state, not a failure.
            outcome.actions.append(.notMerged(iid: iid))
            outcome.note = "did not merge MR !\(iid): GitLab refused (\(error.message)); the next cycle looks again"
        }
    }

    /// Posts the "someone else pushed here" comment unless the MR already has one about `commit`.
    private func commentOnce(_ project: ResolvedProject, iid: Int, sourceBranch: String, commit: String) async throws -> EngineAction {
        let notes = try await gitlab.notes(project.ref, iid: iid)
        if notes.contains(where: { MergeRequestText.isForeignCommitComment($0.body, commit: commit) }) { return .leftAlone(iid: iid) }
        _ = try await gitlab.createNote(project.ref, iid: iid, body: MergeRequestText.foreignCommitComment(branch: sourceBranch, iid: iid, commit: commit))
        return .commented(iid: iid)
    }

    private func texts(_ context: ActionContext, commit: BuiltCommit) -> (title: String, description: String) {
        var input = context.input
        input.promobotVersion = configuration.promobotVersion
        if let rollback = context.plan.rollback {
            // The change a rollback takes out is in the stage's own project.
            let links = MergeRequestLinks(upstreamProjectWebURL: context.project.webURL)
            let title = MergeRequestText.rollbackTitle(policy: context.policy, stage: context.stage, from: rollback.from,
                                                       to: context.plan.candidate ?? [:])
            let description = MergeRequestText.rollbackDescription(plan: context.plan, input: input, links: links,
                                                                   head: commit.id.hex, changes: commit.changes)
            return (title, description)
        }
        let links = MergeRequestLinks(upstreamProjectWebURL: context.upstreamProject.webURL)
        let title = MergeRequestText.title(policy: context.policy, stage: context.stage, candidate: context.plan.candidate ?? [:])
        let description = MergeRequestText.description(plan: context.plan, input: input, links: links,
                                                       head: commit.id.hex, changes: commit.changes)
        return (title, description)
    }

    // MARK: - Orphans

    /// Closes bot MRs whose policy or stage no longer exists, in projects the cycle looked at.
    func closeOrphans(listed: [(ResolvedProject, [MergeRequest])], report: inout CycleReport) async -> [String] {
        let known = Set(policies.flatMap { policy in
            policy.stages.flatMap { [MergeRequestText.sourceBranch(policy: policy.name, stage: $0.name),
                                     MergeRequestText.rollbackBranch(policy: policy.name, stage: $0.name)] }
        })
        var closed: [String] = []
        for (project, mergeRequests) in listed {
            for mr in mergeRequests where !known.contains(mr.sourceBranch) && MergeRequestText.marker(in: mr.description) != nil {
                let reason = "its policy or stage no longer exists (branch `\(mr.sourceBranch)`)"
                if configuration.dryRun {
                    closed.append("\(project.path)!\(mr.iid) (dry run: would close)")
                    continue
                }
                do {
                    try await closeMergeRequest(project, iid: mr.iid, sourceBranch: mr.sourceBranch, reason: reason)
                    closed.append("\(project.path)!\(mr.iid)")
                } catch {
                    report.errors.append(PolicyFailure(policy: mr.sourceBranch, message: "closing orphan MR !\(mr.iid): \(error)"))
                }
            }
        }
        return closed
    }
}
