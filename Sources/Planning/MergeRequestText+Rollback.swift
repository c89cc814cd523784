import Foundation
import Manifests
import Policies

// The words of a rollback: its branch, title, commit and MR description, and how its commit is
// recognised in a stage's history later (it creates a hold, as a person's revert does).
extension MergeRequestText {
    /// The trailer that makes a bot commit a rollback; its value is the change that brought in what it takes out.
    public static let rollbackTrailer = "Promobot-Rollback"
    /// Who asked for the rollback (`promobot` for an automatic one).
    public static let requestedByTrailer = "Promobot-Requested-By"
    /// Why, on one line.
    public static let reasonTrailer = "Promobot-Rollback-Reason"

    /// `promobot/<policy>/<stage>.rollback`. Not `…/<stage>/rollback`: git cannot hold a branch and a
    /// folder of the same name, and `promobot/<policy>/<stage>` is the promotion branch. Names never
    /// contain `.`, so no stage's promotion branch can collide with it.
    public static func rollbackBranch(policy: String, stage: String) -> String { sourceBranch(policy: policy, stage: stage) + ".rollback" }

    /// `Roll back oms in prod: app 1.5.0 -> 1.4.2, web 1.5.0 -> 1.4.2` (capped at GitLab's 255 characters).
    public static func rollbackTitle(policy: Policy, stage: Stage, from: ImageVersions, to: ImageVersions) -> String {
        let text = "Roll back \(policy.name) in \(stage.name): \(PlannerText.changes(from: from, to: to, order: policy.images))"
        return text.count <= 255 ? text : String(text.prefix(254)) + "…"
    }

    /// The rollback commit: title, reason, one line per change the edit made, and trailers that mark it
    /// as a rollback (so the stage's history shows a hold on what it took out).
    public static func rollbackCommitMessage(policy: Policy, stage: Stage, record: RollbackRecord, to: ImageVersions,
                                             changes: [ImageChange]) -> String {
        var lines = [rollbackTitle(policy: policy, stage: stage, from: record.from, to: to), "", "Reason: \(oneLine(record.reason))", ""]
            + changeLines(changes, order: policy.images)
        lines += ["", "Promobot-Policy: \(policy.name)", "Promobot-Stage: \(stage.name)",
                  "\(rollbackTrailer): \(record.introducedBy ?? "unknown")",
                  "\(requestedByTrailer): \(oneLine(record.requestedBy))",
                  "\(reasonTrailer): \(oneLine(record.reason))"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Who asked for a rollback commit and why, when `message` is one of the bot's rollbacks.
    public static func rollbackRequest(in message: String) -> (requestedBy: String, reason: String)? {
        guard trailer(rollbackTrailer, in: message) != nil else { return nil }
        return (trailer(requestedByTrailer, in: message) ?? "unknown", trailer(reasonTrailer, in: message) ?? "")
    }

    /// The rollback MR's description: from -> to table, reason, requester, the change being taken out
    /// (linked), what the rollback skips, and the marker.
    ///
    /// - Parameters:
    ///   - links: `upstreamProjectWebURL` is the *stage's* project here: the change taken out is there.
    public static func rollbackDescription(plan: StagePlan, input: PlanInput, links: MergeRequestLinks, head: String,
                                           changes: [ImageChange]) -> String {
        guard let record = plan.rollback else { return description(plan: plan, input: input, links: links, head: head, changes: changes) }
        let order = input.policy.images
        let to = plan.candidate ?? [:]
        var out: [String] = []
        out.append("Rolls **\(cell(plan.policy))** in **\(cell(plan.stage))** back (`\(cell(input.stage.branch))` of `\(cell(input.stage.repository))`).")
        out.append("")
        out.append("| Image | From (\(cell(plan.stage))) | To |")
        out.append("|---|---|---|")
        for (image, version) in to.ordered(by: order) {
            let from = record.from[image].map { "`\(cell($0.description))`" } ?? "(none)"
            out.append("| `\(cell(image))` | \(from) | `\(cell(version.description))` |")
        }
        out.append("")
        out.append("- Reason: \(cell(record.reason))")
        out.append("- Requested by: \(record.automatic ? "promobot (automatic rollback)" : cell(record.requestedBy))")
        if let commit = record.introducedBy {
            let text = links.commitURL(commit).map { "[`\(PlannerText.shortSHA(commit))`](\($0))" } ?? "`\(PlannerText.shortSHA(commit))`"
            out.append("- Takes out what came in with \(text)")
        }
        let rollbackStage = Planner.rollbackStage(input.stage)
        out.append("- Merge: \(mergeText(rollbackStage)); a rollback skips soak, upstream health, version rules, merge windows, freezes and the emergency stop")
        let takenOut = record.from.ordered(by: order).filter { to[$0.image] != $0.version }
        if !takenOut.isEmpty {
            let list = takenOut.map { "\(PlannerText.shortImage($0.image)) \($0.version.display)" }.joined(separator: ", ")
            out.append("- Once merged, promobot holds \(cell(list)) back from \(cell(plan.stage)): it proposes it again only when the upstream offers another version, or when someone runs `promobot promote \(cell(plan.policy)) \(cell(plan.stage))`")
        }
        if !plan.gates.isEmpty {
            out.append("")
            out += gatesSection(plan.gates, at: input.now)
        }
        out.append("")
        out.append("<sub>Opened by `promobot rollback`. It rebuilds this branch when the files it edits change on `\(cell(input.stage.branch))`; once someone else pushes to it, promobot leaves it alone. While it is open, promobot proposes no promotion to \(cell(plan.stage)).</sub>")
        if let marker = marker(plan: plan, input: input, head: head) {
            out.append("")
            out.append(markerComment(marker))
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// Text on one line, at most 200 characters: for trailers and the commit's reason line.
    static func oneLine(_ text: String) -> String {
        let flat = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        return flat.count <= 200 ? flat : String(flat.prefix(199)) + "…"
    }
}
