import Foundation
import Manifests
import Planning

/// The environment × application board of one cycle: a header (when the cycle ran, its errors, the
/// emergency stop), then one row per policy with a cell per stage.
///
/// Built from a `CycleReport` with `init(policies:report:cycleTime:emergencyStop:)`, rendered with
/// `render(_:)` as text, Markdown or HTML; the HTML is `StatusPage`'s, the page `promobot serve` shows.
/// Each cell lists what the stage runs (drift marked: paths that disagree, mixed versions in one policy,
/// `≠ <upstream>` per image), the candidate, the decision with the gate that blocks it (its reason and
/// until when), gates that were not checked, holds, the open MRs with approvals, a rollback on its way
/// and the newest changes. A plain value: `Sendable`; rendering is pure.
public struct StatusBoard: Sendable {
    /// When the cycle ran (the engine's clock). Times on the board are printed relative to its day.
    public var cycleTime: Date?
    /// Set while an operator has halted the bot, with the reason (`EngineConfiguration.emergencyStop`).
    public var emergencyStop: String?
    /// The cycle's errors: policies it could not plan (`CycleReport.errors`) and stages it could not act on.
    public var errors: [PolicyFailure]
    /// One row per policy, in policy order.
    public var rows: [StatusRow]

    /// Memberwise.
    public init(rows: [StatusRow], cycleTime: Date? = nil, emergencyStop: String? = nil, errors: [PolicyFailure] = []) {
        self.rows = rows
        self.cycleTime = cycleTime
        self.emergencyStop = emergencyStop
        self.errors = errors
    }

    /// Renders the board: `.text` for terminals and CI logs, `.markdown` for MR comments and wikis, `.html`
    /// for a file or a browser (the same page as `StatusPage.render(_:)`, without automatic refresh).
    public func render(_ format: StatusFormat) -> String {
        switch format {
        case .text: renderText()
        case .markdown: renderMarkdown()
        case .html: StatusPage.render(StatusPageModel(board: self))
        }
    }

    /// Stage names across all rows, in first-seen order: the board's columns.
    public var stageColumns: [String] {
        var seen: [String] = []
        for row in rows { for stage in row.stages where !seen.contains(stage.name) { seen.append(stage.name) } }
        return seen
    }

    /// `10:42Z` on the cycle's day, else `2026-11-27 10:42Z`.
    func time(_ date: Date) -> String { PlannerText.time(date, now: cycleTime ?? date) }

    /// Short state of a decision, for a cell or an MR: `blocked (soak)`, `waiting (approvals)`, `merging`, …
    public static func state(of decision: Decision) -> String {
        switch decision {
        case .upToDate: "up to date"
        case .openMR: "open MR"
        case let .blocked(gate, _, _): "blocked (\(gate.rawValue))"
        case .updateMR: "updating"
        case .closeMR: "closing"
        case let .mergeMR(_, _, autoMerge): autoMerge ? "auto-merge" : "merging"
        case let .waiting(_, gate, _, _): "waiting (\(gate.rawValue))"
        case .leaveAlone: "left alone"
        }
    }

    /// Only http(s) URLs become links (no `javascript:` or `data:` from a crafted MR URL).
    public static func isWebLink(_ url: String) -> Bool {
        let lower = url.lowercased()
        return lower.hasPrefix("https://") || lower.hasPrefix("http://")
    }

    /// Why a gate was not checked, without the `not checked: ` (or the `not checked (…)` around it) the planner
    /// may write (the board says that itself).
    static func notCheckedReason(_ gate: GateResult) -> String {
        let prefix = "not checked: "
        if gate.reason.hasPrefix(prefix) { return String(gate.reason.dropFirst(prefix.count)) }
        if gate.reason.hasPrefix("not checked ("), gate.reason.hasSuffix(")"), !gate.reason.contains(";") {
            return String(gate.reason.dropFirst("not checked (".count).dropLast())
        }
        return gate.reason
    }

    /// What kind of change a stage's history entry is: `promotion` (promobot's), `rollback` (the change
    /// behind one of the stage's holds) or `change` (anyone else's: a hand edit, a rollback older than
    /// the holds).
    static func kind(of change: HistoryEntry, in stage: StatusStage) -> String {
        if change.byPromotion { return "promotion" }
        return stage.held.contains { $0.rollback.commit == change.commit } ? "rollback" : "change"
    }
}

/// Output format of `StatusBoard.render(_:)` (and of `promobot status --format`).
public enum StatusFormat: String, Sendable, CaseIterable {
    case text, markdown, html
}
