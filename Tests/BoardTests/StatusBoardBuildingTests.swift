import Foundation
import Manifests
import Planning
import Policies
import Testing
@testable import Board

/// The board built from a cycle's report: every fact lands on the right (policy, stage).
@Suite struct StatusBoardBuildingTests {
    typealias F = BoardFixtures

    @Test func rowsFollowThePoliciesAndTheirStages() {
        let board = F.board
        #expect(board.rows.map(\.policy) == ["oms", "billing"])
        #expect(board.rows[0].stages.map(\.name) == ["dev", "test", "prod"])
        #expect(board.stageColumns == ["dev", "test", "prod", "staging"])
        #expect(board.cycleTime == F.now)
    }

    @Test func firstStageShowsWhatItsDownstreamRead() throws {
        let dev = try #require(F.board.rows[0].stage(named: "dev"))
        #expect(dev.tags == F.tags("1.5.0"))
        #expect(dev.plan == nil && dev.blocking == nil && dev.error == nil)
    }

    @Test func blockedStageCarriesGateReasonAndUntil() throws {
        let prod = try #require(F.board.rows[0].stage(named: "prod"))
        let block = try #require(prod.blocking)
        #expect(block.gate == .soak)
        #expect(block.reason == F.soakReason)
        #expect(block.until == F.soakEnd)
        #expect(block.mergeRequest == nil)
        #expect(block.label == "blocked (soak)")
        #expect(prod.pendingCandidate == F.tags("1.4.2"))
        #expect(prod.tags == F.tags("1.4.1"))
    }

    @Test func waitingMergeRequestCarriesItsApprovals() throws {
        let row = F.board.rows[0]
        let block = try #require(row.stage(named: "test")?.blocking)
        #expect(block.label == "waiting (approvals)")
        #expect(block.mergeRequest == 12)
        let mr = try #require(row.mergeRequests.first)
        #expect(row.mergeRequests.count == 1)
        #expect(mr.stage == "test" && mr.iid == 12 && mr.webURL == F.mrURL)
        #expect(mr.approvals == StatusMergeRequest.Approvals(given: 1, required: 2))
        #expect(mr.state == "waiting (approvals)")
        #expect(!mr.isRollback)
    }

    @Test func notCheckedGateIsKeptAsNotChecked() throws {
        let prod = try #require(F.board.rows[0].stage(named: "prod"))
        let health = try #require(prod.plan?.gates.first { $0.gate == .health })
        #expect(!health.checked)
        // The stage is blocked by its soak, not by the gate nobody checked.
        #expect(prod.blocking?.gate == .soak)
        let summary = try #require(F.board.stageSummary(F.board.rows[0], prod))
        #expect(summary.notes.contains("not checked: health (nothing to promote yet)"))
        #expect(!summary.notes.contains { $0.contains("health") && $0.contains("fail") })
        #expect(!summary.notes.contains { $0.contains("not checked: not checked") })
    }

    @Test func holdsAndTheRollbackBehindThem() throws {
        let prod = try #require(F.board.rows[0].stage(named: "prod"))
        #expect(prod.held.map(\.version) == ["1.4.3"])
        #expect(prod.held.first?.rollback.author == "alice via promobot rollback")
        #expect(prod.recentChanges.map { StatusBoard.kind(of: $0, in: prod) } == ["rollback", "promotion"])
    }

    @Test func rollbackOutcomeJoinsItsStageAndMergeRequest() throws {
        let row = F.board.rows[1]
        let staging = try #require(row.stage(named: "staging"))
        #expect(staging.plan?.decision.mergeRequestIID == nil)
        #expect(staging.blocking?.gate == .rollback)
        let rollback = try #require(staging.rollback?.rollback)
        #expect(rollback.requestedBy == "bob")
        #expect(rollback.reason == F.hostileReason)
        let mr = try #require(row.mergeRequests.first)
        #expect(mr.isRollback && mr.iid == 7)
        #expect(mr.state == "rollback, waiting (pipeline)")
        #expect(mr.approvals == nil)
    }

    @Test func errorsOfTheCycleReachTheHeaderAndTheirStage() throws {
        var report = F.report
        report.stages[0].error = "GitLab answered 500 after 3 tries"
        let board = StatusBoard(policies: [F.oms, F.billing], report: report, cycleTime: F.now, emergencyStop: "stop file policies/STOP exists")
        #expect(board.errors.map(\.description) == ["billing/prod: clone failed: HTTP 500", "oms/test: GitLab answered 500 after 3 tries"])
        #expect(board.rows[0].stage(named: "test")?.error == "GitLab answered 500 after 3 tries")
        #expect(board.rows[0].stage(named: "test")?.tags == F.tags("1.4.2"))
        #expect(board.rows[1].stage(named: "prod")?.error == "clone failed: HTTP 500")
        #expect(board.emergencyStop == "stop file policies/STOP exists")
    }

    @Test func stageTheCycleNeverReachedSaysSo() throws {
        let board = StatusBoard(policies: [F.oms], report: CycleReport(), cycleTime: nil, emergencyStop: nil)
        #expect(board.rows[0].stages.map(\.error) == ["not read", "not read", "not read"])
    }

    @Test(arguments: [
        (Decision.upToDate, "up to date"), (.openMR, "open MR"), (.blocked(gate: .window, reason: "r", until: nil), "blocked (window)"),
        (.updateMR(iid: 1, reason: "r"), "updating"), (.closeMR(iid: 1, reason: "r"), "closing"),
        (.mergeMR(iid: 1, sha: "s", autoMerge: true), "auto-merge"), (.mergeMR(iid: 1, sha: "s", autoMerge: false), "merging"),
        (.waiting(iid: 1, gate: .freeze, reason: "r", until: nil), "waiting (freeze)"), (.leaveAlone(iid: 1, reason: "r"), "left alone"),
    ])
    func stateOfEveryDecision(decision: Decision, state: String) {
        #expect(StatusBoard.state(of: decision) == state)
    }
}
