import Foundation
import Manifests
import Planning
import Policies

extension StatusBoard {
    /// The board of one cycle: one row per policy, stages in policy order. Pure.
    ///
    /// A stage shows its promotion's outcome (what it runs, the plan, its MR) and, when there is one, its
    /// rollback's; a first stage shows what its downstream read from it. A stage the cycle did not reach
    /// shows the policy's failure, or `not read`.
    /// - Parameters:
    ///   - policies: the policies the cycle ran, in the order to show them.
    ///   - report: the cycle's report.
    ///   - cycleTime: when the cycle ran (the engine's clock), for the header and relative times.
    ///   - emergencyStop: the reason, while the bot is halted (`EngineConfiguration.emergencyStop`).
    public init(policies: [Policy], report: CycleReport, cycleTime: Date?, emergencyStop: String?) {
        let rows = policies.map { Self.row(policy: $0, report: report) }
        let stageErrors = report.stages.compactMap { outcome in
            outcome.error.map { PolicyFailure(policy: outcome.plan.policy, stage: outcome.plan.stage, message: $0) }
        }
        self.init(rows: rows, cycleTime: cycleTime, emergencyStop: emergencyStop, errors: report.errors + stageErrors)
    }

    static func row(policy: Policy, report: CycleReport) -> StatusRow {
        let outcomes = report.stages.filter { $0.plan.policy == policy.name }
        let promotions = outcomes.filter { $0.plan.rollback == nil }
        let rollbacks = outcomes.filter { $0.plan.rollback != nil }
        let stages = policy.stages.map { stage -> StatusStage in
            let promotion = promotions.first { $0.plan.stage == stage.name }
            let rollback = rollbacks.first { $0.plan.stage == stage.name }
            // The promotion's outcome holds what the board shows; a rollback's has no upstream tags or holds.
            if let own = promotion ?? rollback {
                let errors = [promotion?.error, rollback?.error].compactMap { $0 }
                return StatusStage(name: stage.name, upstream: stage.from, tags: own.plan.current,
                                   error: errors.isEmpty ? nil : errors.joined(separator: "; "),
                                   plan: promotion?.plan, rollback: rollback?.plan,
                                   recentChanges: [promotion?.recentChanges, rollback?.recentChanges].compactMap { $0 }.first { !$0.isEmpty } ?? [])
            }
            if let downstream = promotions.first(where: { $0.plan.upstream == stage.name }) {
                return StatusStage(name: stage.name, upstream: stage.from, tags: downstream.upstreamTags)
            }
            let failure = report.errors.first { $0.policy == policy.name && ($0.stage == nil || $0.stage == stage.name) }
            return StatusStage(name: stage.name, upstream: stage.from, tags: [:], error: failure?.message ?? "not read")
        }
        let mergeRequests = outcomes.compactMap { outcome -> StatusMergeRequest? in
            guard let iid = outcome.mergeRequestIID, let url = outcome.mergeRequestURL else { return nil }
            return StatusMergeRequest(stage: outcome.plan.stage, iid: iid, webURL: url, decision: outcome.plan.decision,
                                      approvals: outcome.approvals.map { StatusMergeRequest.Approvals(given: $0.given, required: $0.required) },
                                      isRollback: outcome.plan.rollback != nil)
        }
        return StatusRow(policy: policy.name, images: policy.images, stages: stages, mergeRequests: mergeRequests)
    }
}
