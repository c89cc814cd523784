import Foundation
import Manifests
import Policies

/// Where the MR description links to. All optional: without them the text names things without links.
public struct MergeRequestLinks: Sendable, Hashable {
    /// Web URL of the upstream stage's GitLab project (`https://gitlab.example.com/group/oms-deploy`);
    /// commit links are `<it>/-/commit/<sha>`.
    public var upstreamProjectWebURL: String?
    /// Web URL of the policy file, when the caller knows where it is browsable.
    public var policyFileURL: String?

    /// Memberwise.
    public init(upstreamProjectWebURL: String? = nil, policyFileURL: String? = nil) {
        self.upstreamProjectWebURL = upstreamProjectWebURL
        self.policyFileURL = policyFileURL
    }

    /// `<project>/-/commit/<sha>`, or nil without a project URL.
    public func commitURL(_ sha: String) -> String? {
        guard var base = upstreamProjectWebURL, !base.isEmpty else { return nil }
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/-/commit/\(sha)"
    }
}

/// The words the bot writes to GitLab and git: MR title and description, commit message, branch
/// name, comments, and the hidden marker that lets the bot recognise its own MR later.
///
/// Pure functions; thread-safe.
public enum MergeRequestText {
    /// The hidden comment that opens the marker in an MR description.
    public static let markerPrefix = "<!-- promobot:marker "
    /// Hidden tag in the foreign-commit comment, so the engine comments only once per MR.
    public static let foreignCommitTag = "<!-- promobot:foreign-commits -->"
    /// Hidden tag in the close comment.
    public static let closeTag = "<!-- promobot:close -->"

    /// Every bot branch starts with this; the engine uses it to pick the bot's MRs out of a project's list.
    public static let branchPrefix = "promobot/"

    /// `promobot/<policy>/<stage>`: one branch (and so at most one open MR) per policy and stage.
    public static func sourceBranch(policy: String, stage: String) -> String { "\(branchPrefix)\(policy)/\(stage)" }

    /// `Promote oms to test: app 1.5.0, web 1.5.0` (short image names, policy order, digests shortened;
    /// capped at GitLab's 255 characters).
    public static func title(policy: Policy, stage: Stage, candidate: ImageVersions) -> String {
        let text = "Promote \(policy.name) to \(stage.name): \(PlannerText.list(candidate, order: policy.images))"
        return text.count <= 255 ? text : String(text.prefix(254)) + "…"
    }

    /// The commit the bot pushes: the title as subject, one line per change the edit actually made
    /// (from the editor's own change records, so the message can never claim an edit that did not
    /// happen), and trailers (`Promobot-Policy`, `Promobot-Stage`, `Promobot-Upstream-Commit`) that
    /// `git interpret-trailers` reads.
    public static func commitMessage(
        policy: Policy, stage: Stage, candidate: ImageVersions, changes: [ImageChange], upstreamCommit: String
    ) -> String {
        var lines = [title(policy: policy, stage: stage, candidate: candidate), ""] + changeLines(changes, order: policy.images)
        lines += ["", "Promobot-Policy: \(policy.name)", "Promobot-Stage: \(stage.name)",
                  "Promobot-Upstream-Commit: \(upstreamCommit)"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// One `image: old -> new` line per distinct change the edit made, in policy image order then file
    /// position: from the editor's own records, so a commit never claims an edit that did not happen.
    static func changeLines(_ changes: [ImageChange], order: [String]) -> [String] {
        let rank = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var seen = Set<String>(), lines: [String] = []
        for change in changes.sorted(by: { (rank[$0.image] ?? .max, $0.path, $0.line) < (rank[$1.image] ?? .max, $1.path, $1.line) }) {
            let line = "\(change.image): \(change.old.isEmpty ? "(none)" : change.old) -> \(change.new)"
            if seen.insert(line).inserted { lines.append(line) }
        }
        return lines
    }

    /// The `### Gates` section of an MR description: every gate of the plan with its evidence.
    static func gatesSection(_ gates: [GateResult], at now: Date) -> [String] {
        var out = ["### Gates (at \(PlannerText.timestamp(now)))", "", "| Gate | Result | Evidence |", "|---|---|---|"]
        for gate in gates {
            let result = !gate.checked ? "not checked" : gate.passed ? "passed" : "**failed**"
            out.append("| \(gate.gate.rawValue) | \(result) | \(cell(gate.reason)) |")
        }
        return out
    }

    /// The marker the MR for `plan` carries, once the bot pushed `head`; nil when the plan has no candidate.
    public static func marker(plan: StagePlan, input: PlanInput, head: String) -> PromotionMarker? {
        guard let candidate = plan.candidate else { return nil }
        return PromotionMarker(policy: plan.policy, stage: plan.stage, candidate: candidate, base: input.target.commit,
                               upstreamCommit: plan.upstreamCommit ?? input.upstream.commit, head: head,
                               request: plan.rollback == nil ? input.request : nil, rollback: plan.rollback,
                               promobotVersion: input.promobotVersion)
    }

    /// The MR description in GitLab Markdown: changes table, upstream commit, gate evidence, health
    /// results, the policy file, and the hidden marker as the last line.
    ///
    /// - Parameters:
    ///   - head: the commit the bot pushed as the branch head (goes into the marker).
    ///   - changes: the editor's change records for that commit: the from/to table shows what the
    ///     commit really changes, so it can never claim an edit that did not happen.
    public static func description(plan: StagePlan, input: PlanInput, links: MergeRequestLinks = .init(), head: String,
                                   changes: [ImageChange]) -> String {
        let order = input.policy.images
        let candidate = plan.candidate ?? [:]
        var out: [String] = []
        out.append("Promotes **\(cell(plan.policy))** from **\(cell(plan.upstream))** to **\(cell(plan.stage))** (`\(cell(input.stage.branch))` of `\(cell(input.stage.repository))`).")
        out.append("")
        out.append("| Image | From (\(cell(plan.stage))) | To |")
        out.append("|---|---|---|")
        for (image, version) in candidate.ordered(by: order) {
            var rows: [String] = []
            for change in changes where change.image == image {
                let from = change.old.isEmpty ? "(none)" : "`\(cell(change.old))`"
                let row = "| `\(cell(image))` | \(from) | `\(cell(change.new))` |"
                if !rows.contains(row) { rows.append(row) }
            }
            if rows.isEmpty {
                let from = plan.current[image].map { "`\(cell($0.description))`" } ?? "(none)"
                rows = ["| `\(cell(image))` | \(from) | `\(cell(version.description))` (unchanged) |"]
            }
            out += rows
        }
        out.append("")
        let upstreamCommit = plan.upstreamCommit ?? input.upstream.commit
        let commitText = links.commitURL(upstreamCommit).map { "[`\(PlannerText.shortSHA(upstreamCommit))`](\($0))" }
            ?? "`\(PlannerText.shortSHA(upstreamCommit))`"
        out.append("- Upstream commit: \(commitText) on \(cell(plan.upstream))")
        let upstreamNow = input.upstream.tags.restricted(to: candidate.images)
        if upstreamNow != candidate {
            out.append("- Picked by `\(input.stage.pick.rawValue)`: \(cell(plan.upstream)) has since moved on to \(cell(PlannerText.list(upstreamNow, order: order))), which has not soaked yet")
        }
        if let since = plan.soakedSince {
            out.append("- In \(cell(plan.upstream)) since: \(PlannerText.timestamp(since))\(input.stage.soak.map { " (soak \($0))" } ?? "")")
        }
        let policyText = links.policyFileURL.map { "[`\(cell(input.policy.sourcePath))`](\($0))" } ?? "`\(cell(input.policy.sourcePath))`"
        out.append("- Policy: \(policyText)")
        out.append("- Merge: \(mergeText(input.stage))")
        if input.stage.pin == .digest, candidate.images.contains(where: { candidate[$0]?.digest != nil }) {
            out.append("- Pinned to digests (`pin: digest`): each image is written as `tag@sha256:…`, the digest \(cell(plan.upstream)) runs, or, where it pins none, what the registry resolved the tag to at \(PlannerText.timestamp(input.now)); a tag re-pushed later does not change what this MR deploys")
        }
        if let request = input.request {
            let what = request.pinned == nil ? "" : " (pinned: promobot keeps this version while the MR is open)"
            out.append("- Requested by \(cell(request.requestedBy)) with `promobot promote`\(what); holds do not apply to it")
        }
        out.append("")
        out += gatesSection(plan.gates, at: input.now)
        if !input.health.isEmpty {
            out.append("")
            out.append("### Health of \(cell(plan.upstream))")
            out.append("")
            for result in input.health {
                out.append("- \(result.passed ? "passed" : "**\(result.state.rawValue)**"): `\(cell(result.check))` — \(cell(result.detail)) (checked \(PlannerText.timestamp(result.checkedAt)))")
            }
        }
        out.append("")
        out.append("<sub>Opened by promobot. It rebuilds this branch when the candidate changes or the files it edits change on `\(cell(input.stage.branch))` (not for other commits there, so approvals stay); once someone else pushes to it, promobot leaves it alone.</sub>")
        if let marker = marker(plan: plan, input: input, head: head) {
            out.append("")
            out.append(markerComment(marker))
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// `<!-- promobot:marker {json} -->`, with `<` and `>` escaped inside the JSON so no value can end the comment.
    public static func markerComment(_ marker: PromotionMarker) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(marker)) ?? Data("{}".utf8)
        let json = String(decoding: data, as: UTF8.self)
            .replacingOccurrences(of: "<", with: "\\u003c")
            .replacingOccurrences(of: ">", with: "\\u003e")
        return markerPrefix + json + " -->"
    }

    /// Reads the marker back from a description, tolerant of edits elsewhere (the last marker wins);
    /// nil when there is none or its JSON is corrupt.
    public static func marker(in description: String) -> PromotionMarker? {
        guard let regex = try? Regex(#"<!--\s*promobot:marker\s*(\{.*?\})\s*-->"#).dotMatchesNewlines() else { return nil }
        guard let match = description.matches(of: regex).last,
              let json = match.output[1].substring else { return nil }
        return try? JSONDecoder().decode(PromotionMarker.self, from: Data(json.utf8))
    }

    /// The comment posted when the bot closes its MR.
    public static func closeComment(reason: String) -> String {
        "promobot closed this merge request: \(reason).\n\npromobot deletes its branch and opens a new MR when a promotion is needed again.\n\n\(closeTag)\n"
    }

    /// The comment posted when someone else pushed `commit` to the bot's branch: once per such commit,
    /// so a later push by a person is announced again.
    public static func foreignCommitComment(branch: String, iid: Int, commit: String) -> String {
        """
        promobot found a commit by someone else (\(PlannerText.shortSHA(commit))) on `\(branch)` and will no longer update or merge !\(iid). \
        Merge or close it yourself; once it is closed, promobot opens a fresh MR if a promotion is still needed.

        \(foreignCommitTag)
        \(foreignCommitKey(commit))

        """
    }

    /// Whether a note body is the bot's foreign-commit comment about `commit` (to comment once per commit).
    public static func isForeignCommitComment(_ body: String, commit: String) -> Bool {
        body.contains(foreignCommitKey(commit))
    }

    static func foreignCommitKey(_ commit: String) -> String { "<!-- promobot:foreign-commit \(commit) -->" }

    /// Whether a commit message carries the bot's trailers for this policy and stage (a promotion or a rollback).
    public static func hasTrailers(_ message: String, policy: String, stage: String) -> Bool {
        let lines = Set(message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) })
        return lines.contains("Promobot-Policy: \(policy)") && lines.contains("Promobot-Stage: \(stage)")
    }

    /// Whether a commit message is one of the bot's promotions for this policy and stage. Its rollbacks
    /// carry the same trailers plus `Promobot-Rollback`, and count as a person's change: they create holds.
    public static func isPromotion(_ message: String, policy: String, stage: String) -> Bool {
        hasTrailers(message, policy: policy, stage: stage) && trailer(rollbackTrailer, in: message) == nil
    }

    /// The value of a `Key: value` trailer line in a commit message, if present.
    static func trailer(_ key: String, in message: String) -> String? {
        for line in message.split(whereSeparator: \.isNewline) {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix(key + ":") { return String(text.dropFirst(key.count + 1)).trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    static func mergeText(_ stage: Stage) -> String {
        var text: String
        switch stage.merge {
        case .auto: text = "auto (promobot merges when GitLab says mergeable)"
        case .approved: text = "approved (promobot merges after \(stage.approvals) approval\(stage.approvals == 1 ? "" : "s") and a green pipeline)"
        case .manual: text = "manual (a person merges)"
        }
        if !stage.windows.isEmpty { text += ", only inside merge windows (\(stage.timezone))" }
        if !stage.freezes.isEmpty { text += ", never during freezes" }
        return text
    }

    /// Makes text safe inside a Markdown table cell or inline code.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\r", with: " ")
            .replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "`", with: "'")
    }
}
