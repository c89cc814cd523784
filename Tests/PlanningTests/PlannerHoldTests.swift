import Foundation
import Manifests
import Policies
import Testing
@testable import Planning

/// Rollbacks are sticky: a version a person took out of a stage is not proposed to it again.
@Suite struct PlannerHoldTests {
    typealias F = Fixture

    static func change(_ version: String, hoursAgo: Double, byPromotion: Bool, author: String = "promobot",
                       subject: String = "Promote oms to test", commit: Character = "1") -> HistoryEntry {
        HistoryEntry(commit: String(repeating: commit, count: 40), time: F.now.addingTimeInterval(-hoursAgo * 3600),
                    tags: F.tags(version), author: author, subject: subject, byPromotion: byPromotion)
    }

    /// test ran 1.4.2, the bot promoted 1.5.0, then Dana reverted test to 1.4.2 by hand.
    static let reverted = [
        change("1.4.2", hoursAgo: 1, byPromotion: false, author: "Dana Ops", subject: "Revert test to 1.4.2: checkout errors", commit: "3"),
        change("1.5.0", hoursAgo: 5, byPromotion: true, commit: "2"),
        change("1.4.2", hoursAgo: 48, byPromotion: true, commit: "1"),
    ]

    @Test func aRevertedVersionIsNotProposedAgain() {
        var input = F.input(current: "1.4.2", candidate: "1.5.0")
        input.targetHistory = Self.reverted
        let plan = Planner.plan(input)
        guard case let .blocked(.hold, reason, nil) = plan.decision else { Issue.record("expected a hold, got \(plan.summary)"); return }
        #expect(reason == "held: app 1.5.0, web 1.5.0 were rolled back from test in 33333333 by Dana Ops, 11:00Z (\"Revert test to 1.4.2: checkout errors\")")
    }

    @Test func anOpenMRProposingTheRolledBackVersionIsClosedWithTheReason() {
        var input = F.input(current: "1.4.2", candidate: "1.5.0", mergeRequest: F.mergeRequest())
        input.targetHistory = Self.reverted
        guard case let .closeMR(12, reason) = Planner.plan(input).decision else {
            Issue.record("expected close, got \(Planner.plan(input).summary)"); return
        }
        #expect(reason.contains("rolled back from test in 33333333 by Dana Ops"))
    }

    @Test func aNewerCandidateFlows() {
        var input = F.input(current: "1.4.2", candidate: "1.5.1")
        input.targetHistory = Self.reverted
        #expect(Planner.plan(input).decision == .openMR)
    }

    @Test func thePromotionsOfTheBotAreNotRollbacks() {
        var input = F.input(current: "1.4.2", candidate: "1.5.0")
        // The bot itself moved test down (an allowed downgrade): not a person's rollback.
        input.targetHistory = [Self.change("1.4.2", hoursAgo: 1, byPromotion: true, commit: "3")] + Self.reverted.dropFirst()
        #expect(Planner.plan(input).decision == .openMR)
    }

    @Test func aForwardChangeByAPersonIsNotARollback() {
        var input = F.input(current: "1.5.0", candidate: "1.6.0")
        input.targetHistory = [
            Self.change("1.5.0", hoursAgo: 1, byPromotion: false, author: "Dana Ops", subject: "hotfix forward", commit: "3"),
            Self.change("1.4.2", hoursAgo: 48, byPromotion: true, commit: "1"),
        ]
        #expect(Planner.holds(input).isEmpty)
        #expect(Planner.plan(input).decision == .openMR)
    }

    @Test func runningTheVersionAgainLiftsTheHold() {
        var input = F.input(current: "1.5.0", candidate: "1.5.0")
        input.targetHistory = [Self.change("1.5.0", hoursAgo: 0.5, byPromotion: true, commit: "4")] + Self.reverted
        #expect(Planner.holds(input).isEmpty)
    }
}
