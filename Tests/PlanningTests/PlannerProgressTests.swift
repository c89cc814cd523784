import Foundation
import Policies
import Manifests
import Testing
@testable import Planning

/// Progress before perfection (issue: promotions must finish on a busy deploy repo): an `auto` MR whose
/// own, older candidate still passes every gate is merged as it is instead of chased onto every newer
/// upstream state.
@Suite struct PlannerProgressTests {
    typealias F = Fixture

    /// dev has held 1.5.1 for `newHeld`; before that 1.5.0 for `oldHeld`; test runs 1.4.2; the MR proposes 1.5.0.
    static func busyInput(stage: Stage = F.testStage(), newHeld: TimeInterval = F.minutes(5), oldHeld: TimeInterval = F.minutes(90),
                          proposalHealth: [HealthResult]? = F.healthy(), status: String = "mergeable") -> PlanInput {
        var input = F.input(stage: stage, candidate: "1.5.1", heldFor: newHeld,
                            mergeRequest: F.mergeRequest(status: status, markerCandidate: "1.5.0"))
        input.history = [
            HistoryEntry(commit: F.upstreamTip, time: F.now.addingTimeInterval(-newHeld), tags: F.tags("1.5.1")),
            HistoryEntry(commit: String(repeating: "8", count: 40), time: F.now.addingTimeInterval(-newHeld - oldHeld), tags: F.tags("1.5.0")),
            HistoryEntry(commit: String(repeating: "9", count: 40), time: F.now.addingTimeInterval(-86_400), tags: F.tags("1.4.2")),
        ]
        input.proposalHealth = proposalHealth
        return input
    }

    @Test func olderProposalThatPassesIsMergedAsItIs() {
        let plan = Planner.plan(Self.busyInput())
        #expect(plan.decision == .mergeMR(iid: 12, sha: F.head, autoMerge: false))
    }

    @Test func olderProposalWithRunningPipelineKeepsWaitingForItsAutoMerge() {
        var input = Self.busyInput()
        input.mergeRequest?.pipelineStatus = "running"
        input.mergeRequest?.detailedMergeStatus = "ci_still_running"
        input.mergeRequest?.autoMergeEnabled = true
        guard case .waiting(12, .pipeline, let reason, _) = Planner.plan(input).decision else {
            Issue.record("expected waiting on the pipeline, got \(Planner.plan(input).decision)"); return
        }
        #expect(reason.contains("auto-merge is set"))
    }

    @Test(arguments: [
        ("proposal not soaked", busyInput(oldHeld: F.minutes(20))),
        ("proposal unhealthy", busyInput(proposalHealth: [HealthResult(check: "argocd oms-dev", passed: false, detail: "not running 1.5.0", checkedAt: F.now)])),
        ("no proposal health checked", busyInput(proposalHealth: nil)),
        ("GitLab needs a rebase", busyInput(status: "need_rebase")),
    ])
    func proposalThatCannotMergeIsNotMerged(name: String, input: PlanInput) {
        let decision = Planner.plan(input).decision
        if case .mergeMR = decision { Issue.record("\(name): merged \(decision)") }
    }

    @Test func proposalNotSoakedAndNewerSoakedRebuildsForTheNewer() {
        let decision = Planner.plan(Self.busyInput(newHeld: F.minutes(45), oldHeld: F.minutes(20))).decision
        guard case .updateMR(12, let reason) = decision else { Issue.record("expected an update, got \(decision)"); return }
        #expect(reason.contains("candidate changed"))
    }

    @Test func approvedStagesNeverMergeAnOlderProposal() {
        var input = Self.busyInput(stage: F.testStage(merge: .approved, approvals: 1), newHeld: F.minutes(45))
        input.mergeRequest?.approvalsGiven = 1
        guard case .updateMR = Planner.plan(input).decision else {
            Issue.record("expected an update, got \(Planner.plan(input).decision)"); return
        }
    }
}
