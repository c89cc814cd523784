import Foundation
import Policies
import Manifests
import Testing
@testable import Planning

/// Safety rules checked over every combination of MR state, merge mode and gate outcome.
@Suite struct PlannerInvariantTests {
    typealias F = Fixture

    static let statuses = ["mergeable", "checking", "unchecked", "conflict", "need_rebase", "not_approved", "ci_still_running",
                           "ci_must_pass", "draft_status", "discussions_not_resolved", "not_open", "something_new"]
    static let pipelines: [String?] = [nil, "success", "running", "pending", "failed", "canceled", "manual"]

    /// Variations of the world around an MR: (name, stage tweak, input tweak).
    enum World: String, CaseIterable, Sendable {
        case clear, unsoaked, unhealthy, halted, frozen, windowClosed, staleBase, movedElsewhere, changedCandidate, foreign, noMarker, alreadyThere, rollback
    }

    static func input(world: World, mode: MergeMode, status: String, pipeline: String?, approvals: Int, autoMerge: Bool) -> PlanInput {
        var stage = F.testStage(merge: mode, approvals: 2)
        var heldFor = F.minutes(60)
        var current = "1.4.2", candidate = "1.5.0"
        var mr = F.mergeRequest(status: status, pipeline: pipeline, approvalsGiven: approvals, autoMerge: autoMerge)
        var health: [HealthResult]?
        var stop: String?
        switch world {
        case .clear: break
        case .unsoaked: heldFor = F.minutes(5)
        case .unhealthy: health = [HealthResult(check: "c", passed: false, detail: "down", checkedAt: F.now)]
        case .halted: stop = "incident"
        case .frozen: stage.freezes = [Freeze(from: .init(year: 2026, month: 11, day: 27), until: .init(year: 2026, month: 11, day: 27))]
        case .windowClosed: stage.windows = [MergeWindow(days: [.mon], startMinute: 600, endMinute: 660)]
        case .staleBase:
            mr = F.mergeRequest(status: status, pipeline: pipeline, approvalsGiven: approvals, autoMerge: autoMerge, markerBase: "0",
                                stageFilesChanged: true)
        case .movedElsewhere:
            // The target moved in other paths only: the MR is merged as it is (no rebuild, approvals kept).
            mr = F.mergeRequest(status: status, pipeline: pipeline, approvalsGiven: approvals, autoMerge: autoMerge, markerBase: "0")
        case .changedCandidate: mr = F.mergeRequest(status: status, pipeline: pipeline, approvalsGiven: approvals, autoMerge: autoMerge, markerCandidate: "1.4.9")
        case .foreign: mr.foreignCommits = true
        case .noMarker: mr.marker = nil
        case .alreadyThere: current = "1.5.0"
        case .rollback: current = "1.6.0"
        }
        return F.input(stage: stage, current: current, candidate: candidate, heldFor: heldFor, mergeRequest: mr,
                       emergencyStop: stop, health: health)
    }

    @Test(arguments: World.allCases, MergeMode.allCases)
    func neverMergesWhatTheGatesDoNotPassNow(world: World, mode: MergeMode) {
        var merges = 0
        for status in Self.statuses {
            for pipeline in Self.pipelines {
                for approvals in [0, 1, 2] {
                    for autoMerge in [false, true] {
                        let input = Self.input(world: world, mode: mode, status: status, pipeline: pipeline,
                                               approvals: approvals, autoMerge: autoMerge)
                        let plan = Planner.plan(input)
                        let mr = input.mergeRequest!
                        // With an MR the planner never opens a second one, and every decision names that MR.
                        #expect(plan.decision != .openMR && plan.decision != .upToDate)
                        #expect(plan.decision.mergeRequestIID == mr.iid, "\(plan.summary)")
                        if mr.foreignCommits {
                            guard case .leaveAlone = plan.decision else {
                                Issue.record("foreign commits must be left alone, got \(plan.summary)")
                                continue
                            }
                        }
                        guard case let .mergeMR(_, sha, autoMergeRequested) = plan.decision else { continue }
                        merges += 1
                        #expect(world == .clear || world == .movedElsewhere, "merged in world \(world): \(plan.summary)")
                        #expect(mode != .manual)
                        #expect(sha == mr.headSHA)
                        #expect(plan.gates.filter { [.emergencyStop, .version, .downgrade, .soak, .health, .freeze, .window].contains($0.gate) }
                            .allSatisfy { $0.passed })
                        #expect(!["conflict", "need_rebase", "not_approved", "not_open", "checking", "draft_status"].contains(status))
                        #expect(pipeline != "failed" && pipeline != "canceled")
                        if autoMergeRequested {
                            #expect(mode == .auto && !autoMerge)
                        } else {
                            #expect(status == "mergeable")
                            #expect(pipeline == nil || pipeline == "success")
                        }
                        if mode == .approved { #expect(approvals >= 2) }
                    }
                }
            }
        }
        // The clear world does merge in the modes that merge, so the loop above checked something.
        #expect((merges > 0) == ((world == .clear || world == .movedElsewhere) && mode != .manual))
    }

    @Test(arguments: World.allCases)
    func expectedFirstResponse(world: World) {
        let plan = Planner.plan(Self.input(world: world, mode: .auto, status: "mergeable", pipeline: "success", approvals: 0, autoMerge: false))
        switch (world, plan.decision) {
        case (.clear, .mergeMR), (.movedElsewhere, .mergeMR), (.foreign, .leaveAlone), (.alreadyThere, .closeMR), (.rollback, .closeMR),
             (.staleBase, .updateMR), (.changedCandidate, .updateMR), (.noMarker, .updateMR),
             (.unsoaked, .waiting(_, .soak, _, _)), (.unhealthy, .waiting(_, .health, _, _)),
             (.halted, .waiting(_, .emergencyStop, _, _)), (.frozen, .waiting(_, .freeze, _, _)),
             (.windowClosed, .waiting(_, .window, _, _)):
            break
        default:
            Issue.record("\(world): unexpected \(plan.summary)")
        }
    }

    @Test(arguments: World.allCases)
    func withoutAnMergeRequestOnlyOpenBlockOrUpToDate(world: World) {
        var input = Self.input(world: world, mode: .auto, status: "mergeable", pipeline: nil, approvals: 0, autoMerge: false)
        input.mergeRequest = nil
        let plan = Planner.plan(input)
        switch plan.decision {
        case .openMR:
            #expect(plan.gates.prefix(5).allSatisfy { $0.passed }, "\(plan.summary)")
        case .blocked, .upToDate:
            break
        default:
            Issue.record("without an MR: \(plan.summary)")
        }
    }
}
