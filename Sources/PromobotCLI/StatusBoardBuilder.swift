import Foundation
import Planning
import Policies

/// Turns a cycle's report into the status board's rows. Pure.
enum StatusBoardBuilder {
    /// One row per policy, stages in policy order; a first stage shows what its downstream read from it.
    static func rows(policies: [Policy], report: CycleReport) -> [StatusRow] {
        policies.map { policy in
            let outcomes = report.stages.filter { $0.plan.policy == policy.name }
            let stages = policy.stages.map { stage -> StatusStage in
                // The promotion's outcome holds what the board shows (a rollback outcome has no holds or upstream tags).
                let promotions = outcomes.filter { $0.plan.rollback == nil }
                if let own = promotions.first(where: { $0.plan.stage == stage.name }) ?? outcomes.first(where: { $0.plan.stage == stage.name }) {
                    return StatusStage(name: stage.name, upstream: stage.from, tags: own.plan.current, error: own.error,
                                       held: own.plan.held.map { "\(PlannerText.shortImage($0.image)) \($0.version.display)" })
                }
                if let downstream = promotions.first(where: { $0.plan.upstream == stage.name }) {
                    return StatusStage(name: stage.name, upstream: stage.from, tags: downstream.upstreamTags)
                }
                let failure = report.errors.first { $0.policy == policy.name && ($0.stage == nil || $0.stage == stage.name) }
                return StatusStage(name: stage.name, upstream: stage.from, tags: [:], error: failure?.message ?? "not read")
            }
            let mergeRequests = outcomes.compactMap { outcome -> StatusMergeRequest? in
                guard let iid = outcome.mergeRequestIID, let url = outcome.mergeRequestURL else { return nil }
                var mr = StatusMergeRequest(stage: outcome.plan.stage, iid: iid, webURL: url, decision: outcome.plan.decision)
                if outcome.plan.rollback != nil { mr.state = "rollback, " + mr.state }
                return mr
            }
            return StatusRow(policy: policy.name, images: policy.images, stages: stages, mergeRequests: mergeRequests)
        }
    }
}
