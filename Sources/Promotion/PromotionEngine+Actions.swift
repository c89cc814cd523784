import Foundation
import Git
import GitLab
import Manifests
import Policies

/// Everything acting on one stage's plan needs, gathered while observing it.
struct ActionContext {
    var policy: Policy
    var stage: Stage
    var upstream: Stage
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
        let decision = context.plan.decision
        if configuration.dryRun {
            outcome.action = Self.isWrite(decision) ? "none (dry run): would \(context.plan.summary)" : nil
            return outcome
        }
        do {
            switch decision {
            case .upToDate, .blocked, .waiting:
                break
            case .openMR:
                let mr = try await openMergeRequest(context)
                outcome.action = "opened !\(mr.iid)"
                outcome.mergeRequestIID = mr.iid
                outcome.mergeRequestURL = mr.webURL
            case .updateMR(let iid, _):
                outcome.action = try await updateMergeRequest(context, iid: iid)
            case .closeMR(let iid, let reason):
                try await closeMergeRequest(context.project, iid: iid, sourceBranch: context.sourceBranch, reason: reason)
                outcome.action = "closed !\(iid)"
                outcome.mergeRequestIID = nil
                outcome.mergeRequestURL = nil
            case .mergeMR(let iid, let sha, let autoMerge):
                outcome.action = try await merge(context.project, iid: iid, sha: sha, autoMerge: autoMerge)
                if outcome.action?.hasPrefix("merged") == true {
                    outcome.mergeRequestIID = nil
                    outcome.mergeRequestURL = nil
                }
            case .leaveAlone(let iid, _):
                outcome.action = try await commentOnce(context.project, iid: iid, sourceBranch: context.sourceBranch)
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
    private func buildCommit(_ context: ActionContext) throws -> ObjectID {
        guard let candidate = context.plan.candidate else {
            throw PolicyFailure(policy: context.policy.name, stage: context.stage.name, message: "no candidate to promote")
        }
        let updates = StageReader.updates(for: candidate)
        var changes: [String: Data] = [:]
        for path in context.targetFiles.keys.sorted() {
            guard let text = String(data: context.targetFiles[path]!, encoding: .utf8) else { continue }
            let edit = try ManifestEditor.edit(text, path: path, updates: updates)
            if !edit.changes.isEmpty { changes[path] = Data(edit.text.utf8) }
        }
        guard !changes.isEmpty else {
            throw PolicyFailure(policy: context.policy.name, stage: context.stage.name,
                                message: "none of \(context.policy.images.joined(separator: ", ")) was found under \(context.stage.paths.joined(separator: ", ")) in \(context.stage.repository)@\(context.stage.branch)")
        }
        let time = context.plan.soakedSince ?? context.input.history.first?.time ?? context.input.now
        let signature = GitSignature(name: configuration.authorName, email: configuration.authorEmail, time: time)
        let message = MergeRequestText.commitMessage(policy: context.policy, stage: context.stage, current: context.input.target.tags,
                                                     candidate: candidate, upstreamCommit: context.plan.upstreamCommit ?? context.input.upstream.commit)
        return try context.repository.repository.commit(parent: context.targetTip, changes: changes, author: signature, message: message)
    }

    /// Pushes `commit` to the bot branch unless it is already there, refusing to move a branch that is
    /// not where we believe it is.
    private func pushBranch(_ context: ActionContext, commit: ObjectID, expecting expected: ObjectID?) async throws {
        if context.repository.remoteBranch(context.sourceBranch) == commit { return }
        let (repository, branch) = (context.repository.repository, context.sourceBranch)
        try await BlockingWork.run { try repository.push(commit, to: branch, expecting: expected) }
    }

    // MARK: - Merge requests

    private func openMergeRequest(_ context: ActionContext) async throws -> MergeRequest {
        let commit = try buildCommit(context)
        // No MR: the branch is either absent or left over by a crashed or concurrent run; lease on what we saw.
        try await pushBranch(context, commit: commit, expecting: context.repository.remoteBranch(context.sourceBranch))
        let text = texts(context, head: commit)
        let create = CreateMergeRequest(
            title: text.title, description: text.description, sourceBranch: context.sourceBranch,
            targetBranch: context.stage.branch, labels: context.stage.labels,
            assignees: context.stage.assignees.map(UserRef.username), reviewers: context.stage.reviewers.map(UserRef.username),
            removeSourceBranch: true
        )
        do {
            return try await gitlab.createMergeRequest(context.project.ref, create)
        } catch let error as GitLabError where error.isDuplicateMergeRequest {
            // A concurrent run (or one that died after creating) got there first: adopt its MR.
            guard let iid = error.existingMergeRequestIID else { throw error }
            logger.notice("adopting existing MR !\(iid)", metadata: ["policy": "\(context.policy.name)", "stage": "\(context.stage.name)"])
            return try await gitlab.updateMergeRequest(context.project.ref, iid: iid,
                                                       UpdateMergeRequest(title: text.title, description: text.description))
        }
    }

    private func updateMergeRequest(_ context: ActionContext, iid: Int) async throws -> String {
        let commit = try buildCommit(context)
        let expected = (context.input.mergeRequest?.marker?.head ?? context.existing?.sha).flatMap(ObjectID.init(hex:))
        do {
            try await pushBranch(context, commit: commit, expecting: expected)
        } catch let error as GitError where error.isLeaseRejection {
            // Someone pushed to the bot's branch since we last did: never overwrite their work.
            return try await commentOnce(context.project, iid: iid, sourceBranch: context.sourceBranch)
        }
        let text = texts(context, head: commit)
        _ = try await gitlab.updateMergeRequest(context.project.ref, iid: iid, UpdateMergeRequest(title: text.title, description: text.description))
        return "updated !\(iid)"
    }

    private func closeMergeRequest(_ project: ResolvedProject, iid: Int, sourceBranch: String, reason: String) async throws {
        _ = try await gitlab.createNote(project.ref, iid: iid, body: MergeRequestText.closeComment(reason: reason))
        _ = try await gitlab.updateMergeRequest(project.ref, iid: iid, UpdateMergeRequest(stateEvent: .close))
        _ = try await gitlab.deleteBranch(project.ref, sourceBranch)   // false when already gone
    }

    private func merge(_ project: ResolvedProject, iid: Int, sha: String, autoMerge: Bool) async throws -> String {
        do {
            let merged = try await gitlab.merge(project.ref, iid: iid, MergeOptions(sha: sha, autoMerge: autoMerge, shouldRemoveSourceBranch: true))
            if merged.state == .merged { return "merged !\(iid)" }
            return autoMerge ? "auto-merge set on !\(iid)" : "merge requested on !\(iid) (\(merged.state.rawValue))"
        } catch let error as GitLabError where [.methodNotAllowed, .conflict, .unprocessable].contains(error.kind) {
            // Not mergeable right now (someone pushed, pipeline started, approvals withdrawn): a state, not a failure.
            return "not merged !\(iid): \(error.message)"
        }
    }

    /// Posts the "someone else pushed here" comment unless the MR already has it.
    private func commentOnce(_ project: ResolvedProject, iid: Int, sourceBranch: String) async throws -> String {
        let notes = try await gitlab.notes(project.ref, iid: iid)
        if notes.contains(where: { MergeRequestText.isForeignCommitComment($0.body) }) { return "left alone !\(iid)" }
        _ = try await gitlab.createNote(project.ref, iid: iid, body: MergeRequestText.foreignCommitComment(branch: sourceBranch, iid: iid))
        return "commented on !\(iid) and left it alone"
    }

    private func texts(_ context: ActionContext, head: ObjectID) -> (title: String, description: String) {
        let links = MergeRequestLinks(upstreamProjectWebURL: context.upstreamProject.webURL)
        let title = MergeRequestText.title(policy: context.policy, stage: context.stage, candidate: context.plan.candidate ?? [:])
        let description = MergeRequestText.description(plan: context.plan, input: context.input, links: links, head: head.hex)
        return (title, description)
    }

    // MARK: - Orphans

    /// Closes bot MRs whose policy or stage no longer exists, in projects the cycle looked at.
    func closeOrphans(listed: [(ResolvedProject, [MergeRequest])], report: inout CycleReport) async -> [String] {
        let known = Set(policies.flatMap { policy in policy.stages.map { MergeRequestText.sourceBranch(policy: policy.name, stage: $0.name) } })
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
