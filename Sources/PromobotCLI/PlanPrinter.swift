import Foundation
import Manifests
import Planning
import Promotion

/// How `plan`, `run` and the demo show a cycle to people (text) and machines (JSON).
enum PlanPrinter {
    /// A block per stage: the decision, then current -> candidate, then every gate with ✓/✗ and its reason.
    static func text(_ outcome: StageOutcome, now: Date) -> String {
        let plan = outcome.plan
        let origin = plan.rollback == nil ? "from \(plan.upstream)" : "rollback"
        var lines = ["\(plan.policy)/\(plan.stage) (\(origin)): \(outcome.note ?? plan.summary)"]
        if let record = plan.rollback {
            // The reason and requester are a person's words (the command line, an MR's marker): escaped.
            lines.append("    reason: \(EchoText.escapingControls(record.reason))"
                         + (record.automatic ? "" : " (requested by \(EchoText.escapingControls(record.requestedBy)))"))
        }
        let order = plan.imageOrder.isEmpty ? plan.current.images : plan.imageOrder
        if let candidate = plan.candidate {
            lines.append("    tags: " + order.map { image in
                "\(PlannerText.shortImage(image)) \(plan.current[image]?.description ?? "-") -> \(candidate[image]?.description ?? "-")"
            }.joined(separator: ", "))
        }
        for gate in plan.gates {
            lines.append("    \(!gate.checked ? "–" : gate.passed ? "✓" : "✗") \(gate.gate.rawValue): \(gate.reason)")
        }
        if let action = outcome.action { lines.append("    action: \(action)") }
        if let url = outcome.mergeRequestURL { lines.append("    MR: \(url)") }
        if let error = outcome.error { lines.append("    error: \(error)") }
        return lines.joined(separator: "\n")
    }

    static func text(_ report: CycleReport, now: Date) -> String {
        var blocks = report.stages.map { text($0, now: now) }
        blocks += report.errors.map { "error: \($0)" }
        blocks += report.orphans.map { "closed orphan MR \($0)" }
        if blocks.isEmpty { blocks = ["no stages to promote (no policy has more than one stage)"] }
        return blocks.joined(separator: "\n")
    }

    /// A stable JSON document: `{"generatedAt", "stages": [...], "errors": [...], "orphans": [...]}`.
    static func json(_ report: CycleReport, now: Date, shard: (Shard, [String])? = nil) throws -> String {
        let document = JSONReport(
            generatedAt: PlannerText.timestamp(now),
            shard: shard.map { JSONShard(index: $0.0.index, count: $0.0.count, policies: $0.1) },
            stages: report.stages.map { outcome in
                let plan = outcome.plan
                return JSONStage(
                    policy: plan.policy, stage: plan.stage, upstream: plan.upstream, current: plan.current,
                    candidate: plan.candidate, soakedSince: plan.soakedSince.map(PlannerText.timestamp),
                    gates: plan.gates.map { JSONGate(gate: $0.gate.rawValue, passed: $0.passed, checked: $0.checked, reason: $0.reason, until: $0.until.map(PlannerText.timestamp)) },
                    decision: plan.summary, action: outcome.action, mergeRequest: outcome.mergeRequestURL, error: outcome.error,
                    held: plan.held.map { JSONHold(image: $0.image, version: $0.version.description, commit: $0.rollback.commit,
                                                   author: $0.rollback.author, time: PlannerText.timestamp($0.rollback.time),
                                                   subject: $0.rollback.subject) },
                    rollback: plan.rollback.map { JSONRollback(reason: $0.reason, requestedBy: $0.requestedBy, automatic: $0.automatic,
                                                               from: $0.from, introducedBy: $0.introducedBy) })
            },
            errors: report.errors.map(\.description),
            orphans: report.orphans)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }

    private struct JSONReport: Encodable {
        var generatedAt: String
        /// With `--shard`: which shard this is and the policies it owns.
        var shard: JSONShard?
        var stages: [JSONStage]
        var errors: [String]
        var orphans: [String]
    }

    private struct JSONStage: Encodable {
        var policy: String, stage: String, upstream: String
        var current: ImageVersions
        var candidate: ImageVersions?
        var soakedSince: String?
        var gates: [JSONGate]
        var decision: String
        var action: String?
        var mergeRequest: String?
        var error: String?
        var held: [JSONHold]
        /// Set when the entry is about the stage's rollback MR rather than a promotion.
        var rollback: JSONRollback?
    }

    private struct JSONHold: Encodable {
        var image: String, version: String, commit: String, author: String, time: String, subject: String
    }

    private struct JSONRollback: Encodable {
        var reason: String, requestedBy: String, automatic: Bool
        var from: ImageVersions
        var introducedBy: String?
    }

    private struct JSONShard: Encodable {
        var index: Int, count: Int, policies: [String]
    }

    private struct JSONGate: Encodable {
        var gate: String, passed: Bool, checked: Bool, reason: String
        var until: String?
    }
}
