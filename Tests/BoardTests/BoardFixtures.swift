import Foundation
import Manifests
import Planning
import Policies
@testable import Board

/// One cycle's report with every fact the board shows: a stage waiting for approvals on an open MR, a
/// stage blocked by its soak (until 12:18Z) with a gate that was not checked and a hold, a rollback MR on
/// its way, a stage that could not be read, recent promotions and a rollback, and text that would be
/// markup if it were not escaped. The clock is 2026-11-27T12:00:00Z.
enum BoardFixtures {
    static let app = "registry.example.com/oms/app"
    static let web = "registry.example.com/oms/web"
    static let api = "registry.example.com/billing/api"
    static let now = date("2026-11-27T12:00:00Z")
    static let soakEnd = date("2026-11-27T12:18:00Z")
    static let mrURL = "https://gitlab.example.com/group/oms-deploy/-/merge_requests/12"
    static let soakReason = "app 1.4.2 in test for 12m of 30m, 18m left (until 12:18Z)"
    /// A rollback reason typed by a person: it must reach every page as text.
    static let hostileReason = "errors spiked <script>alert(1)</script> & \"quotes\""

    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
    static func tags(_ version: String) -> ImageVersions { [app: ImageVersion(version), web: ImageVersion(version)] }

    static let oms = Policy(name: "oms", sourcePath: "policies/oms.yaml", images: [app, web], stages: [
        Stage(name: "dev", repository: "group/oms-deploy", branch: "main", paths: ["dev"]),
        Stage(name: "test", from: "dev", repository: "group/oms-deploy", branch: "main", paths: ["test"], merge: .approved, approvals: 2),
        Stage(name: "prod", from: "test", repository: "group/oms-deploy", branch: "main", paths: ["prod"],
              soak: PolicyDuration(seconds: 1800), merge: .approved, approvals: 2),
    ])

    static let billing = Policy(name: "billing", sourcePath: "policies/billing.yaml", images: [api], stages: [
        Stage(name: "dev", repository: "group/billing-deploy", branch: "main", paths: ["dev"]),
        Stage(name: "staging", from: "dev", repository: "group/billing-deploy", branch: "main", paths: ["staging"]),
        Stage(name: "prod", from: "staging", repository: "group/billing-deploy", branch: "main", paths: ["prod"]),
    ])

    /// promobot's promotion into oms/test at 11:40Z.
    static let testPromotion = HistoryEntry(commit: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", time: date("2026-11-27T11:40:00Z"),
                                            tags: tags("1.4.2"), author: "promobot", subject: "Promote oms to test: app 1.4.1 -> 1.4.2",
                                            byPromotion: true)
    /// alice rolled oms/prod back from 1.4.3 to 1.4.1 at 10:02Z: 1.4.3 is held.
    static let prodRollback = HistoryEntry(commit: "b2c3d4e5f60718293a4b5c6d7e8f901234567890", time: date("2026-11-27T10:02:00Z"),
                                           tags: tags("1.4.1"), author: "alice via promobot rollback", subject: "app 1.4.3 leaks memory",
                                           byPromotion: false)
    static let prodPromotion = HistoryEntry(commit: "c3d4e5f60718293a4b5c6d7e8f90123456789012", time: date("2026-11-26T09:00:00Z"),
                                            tags: tags("1.4.3"), author: "promobot", subject: "Promote oms to prod: app 1.4.1 -> 1.4.3",
                                            byPromotion: true)

    static var testOutcome: StageOutcome {
        let plan = StagePlan(policy: "oms", stage: "test", upstream: "dev", current: tags("1.4.2"), candidate: tags("1.5.0"),
                             soakedSince: nil, gates: [
                                 GateResult(gate: .version, passed: true, reason: "1.5.0 matches"),
                                 GateResult(gate: .approvals, passed: false, reason: "1 of 2 approvals"),
                             ], decision: .waiting(iid: 12, gate: .approvals, reason: "1 of 2 approvals", until: nil), imageOrder: [app, web])
        var outcome = StageOutcome(plan: plan, upstreamTags: tags("1.5.0"), mergeRequestIID: 12, mergeRequestURL: mrURL)
        outcome.approvals = (1, 2)
        outcome.recentChanges = [testPromotion]
        return outcome
    }

    static var prodOutcome: StageOutcome {
        var plan = StagePlan(policy: "oms", stage: "prod", upstream: "test", current: tags("1.4.1"), candidate: tags("1.4.2"),
                             soakedSince: date("2026-11-27T11:48:00Z"), gates: [
                                 GateResult(gate: .version, passed: true, reason: "1.4.2 matches"),
                                 GateResult(gate: .soak, passed: false, reason: soakReason, until: soakEnd),
                                 GateResult(gate: .health, passed: true, reason: "not checked: nothing to promote yet", checked: false),
                             ], decision: .blocked(gate: .soak, reason: soakReason, until: soakEnd), imageOrder: [app, web])
        plan.held = [Hold(image: app, version: "1.4.3", rollback: prodRollback)]
        var outcome = StageOutcome(plan: plan, upstreamTags: tags("1.4.2"))
        outcome.recentChanges = [prodRollback, prodPromotion]
        return outcome
    }

    static var stagingPromotion: StageOutcome {
        StageOutcome(plan: StagePlan(policy: "billing", stage: "staging", upstream: "dev", current: [api: "2.0.0"], candidate: [api: "2.0.0"],
                                     soakedSince: nil, gates: [GateResult(gate: .rollback, passed: false, reason: "rollback !7 for staging is open; promotions wait until it is merged or closed")],
                                     decision: .blocked(gate: .rollback, reason: "rollback !7 for staging is open; promotions wait until it is merged or closed", until: nil),
                                     imageOrder: [api]),
                     upstreamTags: [api: "2.1.0"])
    }

    static var stagingRollback: StageOutcome {
        var plan = StagePlan(policy: "billing", stage: "staging", upstream: "dev", current: [api: "2.0.0"], candidate: [api: "1.9.0"],
                             soakedSince: nil, gates: [], decision: .waiting(iid: 7, gate: .pipeline, reason: "pipeline running on cccccccc", until: nil),
                             imageOrder: [api])
        plan.rollback = RollbackRecord(from: [api: "2.0.0"], reason: hostileReason, requestedBy: "bob")
        // A crafted URL: never a link.
        return StageOutcome(plan: plan, mergeRequestIID: 7, mergeRequestURL: "javascript:alert(1)")
    }

    static var report: CycleReport {
        CycleReport(stages: [testOutcome, prodOutcome, stagingRollback, stagingPromotion],
                    errors: [PolicyFailure(policy: "billing", stage: "prod", message: "clone failed: HTTP 500")])
    }

    static var board: StatusBoard {
        StatusBoard(policies: [oms, billing], report: report, cycleTime: now, emergencyStop: nil)
    }
}
