import Foundation
import Manifests
import Policies

/// The head pipeline, as far as merging cares.
enum PipelineState: Equatable {
    /// No head pipeline (the project runs no CI for the MR); GitLab's `ci_must_pass` covers projects that need one.
    case none
    case green
    /// Still going: running, pending, created, scheduled, manual, waiting…
    case inProgress(String)
    /// failed, canceled, canceling, skipped: needs a person (retry) or a new push.
    case red(String)

    init(_ status: PipelineStatus?) {
        guard let status else { self = .none; return }
        switch status.rawValue {
        case "success": self = .green
        case "failed", "canceled", "canceling", "skipped": self = .red(status.rawValue)
        default: self = .inProgress(status.rawValue)
        }
    }
}

extension Planner {
    /// Gate results about the MR itself, for the plan's evidence. `decide` applies the same rules.
    static func mergeRequestGates(_ input: PlanInput, _ mr: BotMergeRequest) -> [GateResult] {
        let foreign = mr.foreignCommits
            ? GateResult(gate: .foreignCommits, passed: false, reason: "someone other than promobot pushed to the branch")
            : GateResult(gate: .foreignCommits, passed: true, reason: "only promobot pushed to the branch")
        let status = mr.detailedMergeStatus
        let mergeability = GateResult(gate: .mergeability, passed: status == .mergeable,
                                      reason: status == .mergeable ? "GitLab reports mergeable" : statusReason(status, mr))
        let pipeline: GateResult
        switch PipelineState(mr.pipelineStatus) {
        case .none: pipeline = GateResult(gate: .pipeline, passed: true, reason: "no head pipeline")
        case .green: pipeline = GateResult(gate: .pipeline, passed: true, reason: "pipeline succeeded on \(PlannerText.shortSHA(mr.headSHA))")
        case let .inProgress(raw): pipeline = GateResult(gate: .pipeline, passed: false, reason: "pipeline \(raw) on \(PlannerText.shortSHA(mr.headSHA))")
        case let .red(raw): pipeline = GateResult(gate: .pipeline, passed: false, reason: "pipeline \(raw) on \(PlannerText.shortSHA(mr.headSHA)); retry it or fix the branch")
        }
        return [foreign, mergeability, pipeline, approvalsGate(input, mr)]
    }

    static func approvalsGate(_ input: PlanInput, _ mr: BotMergeRequest) -> GateResult {
        switch input.stage.merge {
        case .manual:
            return GateResult(gate: .approvals, passed: false, reason: "merge is manual: a person merges !\(mr.iid)")
        case .approved:
            let required = max(input.stage.approvals, mr.approvalsRequired)
            let count = "\(mr.approvalsGiven) of \(required) approvals"
            if mr.approvalsGiven < required { return GateResult(gate: .approvals, passed: false, reason: count) }
            if mr.detailedMergeStatus == .notApproved {
                return GateResult(gate: .approvals, passed: false, reason: "GitLab reports not_approved (\(count))")
            }
            return GateResult(gate: .approvals, passed: true, reason: count)
        case .auto:
            if mr.detailedMergeStatus == .notApproved {
                return GateResult(gate: .approvals, passed: false,
                                  reason: "GitLab requires approvals: \(mr.approvalsGiven) of \(mr.approvalsRequired)")
            }
            return GateResult(gate: .approvals, passed: true, reason: "merge is auto; GitLab requires no more approvals")
        }
    }

    /// What to do with an MR whose branch is current and whose promotion gates pass.
    static func mergeDecision(_ input: PlanInput, _ mr: BotMergeRequest, mergeGates: [GateResult]) -> Decision {
        func wait(_ gate: GateResult) -> Decision { .waiting(iid: mr.iid, gate: gate.gate, reason: gate.reason, until: gate.until) }
        if let closed = mergeGates.first(where: { !$0.passed }) { return wait(closed) }

        let approvals = approvalsGate(input, mr)
        let status = mr.detailedMergeStatus
        let pipeline = PipelineState(mr.pipelineStatus)
        let sha = PlannerText.shortSHA(mr.headSHA)

        if input.stage.merge == .manual { return wait(approvals) }
        if case let .red(raw) = pipeline {
            return .waiting(iid: mr.iid, gate: .pipeline, reason: "pipeline \(raw) on \(sha); retry it or fix the branch", until: nil)
        }
        if !approvals.passed { return wait(approvals) }

        switch input.stage.merge {
        case .manual:
            return wait(approvals)
        case .approved:
            // Never hand the merge to GitLab's auto-merge here: it could land after the window closes.
            if case let .inProgress(raw) = pipeline {
                return .waiting(iid: mr.iid, gate: .pipeline, reason: "pipeline \(raw) on \(sha); merging once it succeeds", until: nil)
            }
            if status == .mergeable { return .mergeMR(iid: mr.iid, sha: mr.headSHA, autoMerge: false) }
        case .auto:
            let pipelineStatuses: [MergeStatus] = [.mergeable, .ciStillRunning, .ciMustPass]
            if case let .inProgress(raw) = pipeline, pipelineStatuses.contains(status) {
                if mr.autoMergeEnabled {
                    return .waiting(iid: mr.iid, gate: .pipeline, reason: "auto-merge is set; pipeline \(raw) on \(sha)", until: nil)
                }
                // GitLab's auto-merge ignores our windows: with windows, wait and merge directly while one is open.
                if !input.stage.windows.isEmpty {
                    return .waiting(iid: mr.iid, gate: .pipeline,
                                    reason: "pipeline \(raw) on \(sha); merging once it succeeds inside a window (no auto-merge with merge windows)", until: nil)
                }
                return .mergeMR(iid: mr.iid, sha: mr.headSHA, autoMerge: true)
            }
            if status == .mergeable { return .mergeMR(iid: mr.iid, sha: mr.headSHA, autoMerge: false) }
            if status == .ciMustPass {
                return .waiting(iid: mr.iid, gate: .pipeline,
                                reason: "GitLab requires a successful pipeline and \(sha) has none; start one", until: nil)
            }
        }
        return .waiting(iid: mr.iid, gate: .mergeability, reason: statusReason(status, mr), until: nil)
    }

    /// Words for a `detailed_merge_status` that is not `mergeable`; always names the status.
    static func statusReason(_ status: MergeStatus, _ mr: BotMergeRequest) -> String {
        if status.isPending { return "GitLab is still checking mergeability (\(status))" }
        switch status.rawValue {
        case "draft_status": return "the MR is a draft (draft_status)"
        case "discussions_not_resolved": return "unresolved discussions (discussions_not_resolved)"
        case "not_open": return "the MR is not open (not_open); promobot never merges it"
        case "not_approved": return "GitLab reports not_approved (\(mr.approvalsGiven) of \(mr.approvalsRequired) approvals)"
        case "ci_must_pass", "ci_still_running": return "GitLab waits for the pipeline (\(status))"
        case "conflict", "need_rebase": return "GitLab reports \(status); the branch needs a rebuild"
        case "requested_changes": return "a reviewer requested changes (requested_changes)"
        case "merge_time": return "GitLab's merge_after is not reached yet (merge_time)"
        default: return "GitLab reports detailed_merge_status \(status)"
        }
    }
}
