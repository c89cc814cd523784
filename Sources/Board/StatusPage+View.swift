import Foundation
import Manifests
import Planning

// What the template reads: plain strings, flags and lists, computed here so the template holds no logic.
//
// Mustache looks a name up the context stack when the current object lacks it, or has it as nil. So an
// optional is named so that no enclosing view has the same name (`gateUntil`, not `until`), and a nil
// never picks up a parent's value.

/// A time as the page shows it: `<time datetime="2026-11-27T10:42:00Z">10:42Z</time>`.
struct TimeView {
    var iso: String
    var text: String

    init(_ date: Date, board: StatusBoard) {
        iso = PlannerText.timestamp(date)
        text = board.time(date)
    }
}

struct PageView {
    var refresh: String?
    var cycleTime: TimeView?
    var emergencyStop: String?
    var errors: [String]
    var hasErrors: Bool
    var policies: [PolicyView]
    var hasPolicies: Bool

    init(_ model: StatusPageModel) {
        let board = model.board
        refresh = model.refreshSeconds.map(String.init)
        cycleTime = board.cycleTime.map { TimeView($0, board: board) }
        emergencyStop = board.emergencyStop
        errors = board.errors.map(\.description)
        hasErrors = !errors.isEmpty
        policies = board.rows.map { PolicyView($0, board: board) }
        hasPolicies = !policies.isEmpty
    }
}

struct PolicyView {
    var name: String
    var stages: [StageView]

    init(_ row: StatusRow, board: StatusBoard) {
        name = row.policy
        stages = row.stages.map { StageView($0, row: row, board: board) }
    }
}

struct LineView {
    var text: String
    var drift: Bool
}

struct BlockView {
    var reason: String
    var until: TimeView?
}

struct MergeRequestView {
    var iid: Int
    var link: String?
    var mrState: String
    var approvals: String?
    var approvalsMet: Bool
    var isRollback: Bool
}

struct GateView {
    var gateName: String
    /// `passed`, `failed` or `not-checked` (a CSS class).
    var status: String
    /// `passed`, `failed` or `not checked`.
    var statusText: String
    var gateReason: String
}

struct ChangeView {
    var when: TimeView
    var kind: String
    var author: String
    var subject: String
    var commit: String
}

struct StageView {
    var name: String
    var key: String
    var upstream: String?
    /// `first`, `ok`, `blocked`, `waiting`, `acting` or `error` (a CSS class).
    var stateClass: String
    var state: String
    var versions: [LineView]
    var block: BlockView?
    var summary: String?
    var candidate: String?
    var stageError: String?
    var held: [String]
    var rollback: String?
    var mergeRequests: [MergeRequestView]
    var notableGates: [GateView]
    var passedGates: [GateView]
    var hasPassedGates: Bool
    var passedText: String
    var changes: [ChangeView]
    var hasChanges: Bool

    init(_ stage: StatusStage, row: StatusRow, board: StatusBoard) {
        name = stage.name
        key = "\(row.policy)/\(stage.name)"
        upstream = stage.upstream
        versions = StatusBoard.versionLines(row, stage).map { LineView(text: $0.text, drift: $0.drift) }
        let blocking = stage.blocking
        block = blocking.map { block in
            BlockView(reason: block.reason, until: block.until.map { TimeView($0, board: board) })
        }
        if let blocking {
            state = blocking.label
            stateClass = blocking.mergeRequest == nil ? "blocked" : "waiting"
        } else if let decision = stage.plan?.decision {
            state = StatusBoard.state(of: decision)
            stateClass = decision == .upToDate ? "ok" : "acting"
        } else if stage.error != nil {
            state = "error"
            stateClass = "error"
        } else {
            state = stage.upstream == nil ? "written by CI" : "not planned"
            stateClass = stage.upstream == nil ? "first" : "error"
        }
        if stage.error != nil { stateClass = "error" }
        summary = blocking == nil ? stage.plan.flatMap { $0.decision == .upToDate ? nil : $0.summary } : nil
        candidate = stage.pendingCandidate.map { PlannerText.list($0, order: row.images) }
        stageError = stage.error
        held = stage.held.map { hold in
            "\(PlannerText.shortImage(hold.image)) \(hold.version.display): rolled back in \(PlannerText.shortSHA(hold.rollback.commit)) "
                + "by \(hold.rollback.author), \(board.time(hold.rollback.time))"
        }
        rollback = stage.rollback.flatMap { plan in
            plan.rollback.map { record in
                "\(record.automatic ? "automatic rollback" : "rollback requested by \(record.requestedBy)"): \(record.reason) — \(plan.decision.summary)"
            }
        }
        mergeRequests = row.mergeRequests.filter { $0.stage == stage.name }.map { mr in
            MergeRequestView(iid: mr.iid, link: StatusBoard.isWebLink(mr.webURL) ? mr.webURL : nil, mrState: mr.state,
                             approvals: mr.approvals.map { "\($0.given) of \($0.required) approvals" },
                             approvalsMet: mr.approvals.map { $0.given >= $0.required } ?? false, isRollback: mr.isRollback)
        }
        let gates = (stage.plan?.gates ?? []).map { gate in
            let status = !gate.checked ? "not-checked" : gate.passed ? "passed" : "failed"
            return GateView(gateName: gate.gate.rawValue, status: status, statusText: status.replacingOccurrences(of: "-", with: " "),
                            gateReason: gate.checked ? gate.reason : StatusBoard.notCheckedReason(gate))
        }
        // The gate that blocks is already said in `block`; the others that failed or were not checked are listed.
        notableGates = gates.filter { gate in
            gate.status != "passed" && !(gate.gateName == blocking?.gate.rawValue && gate.gateReason == blocking?.reason)
        }
        passedGates = gates.filter { $0.status == "passed" }
        hasPassedGates = !passedGates.isEmpty
        passedText = passedGates.count == 1 ? "1 gate passed" : "\(passedGates.count) gates passed"
        changes = stage.recentChanges.map { change in
            ChangeView(when: TimeView(change.time, board: board), kind: StatusBoard.kind(of: change, in: stage), author: change.author,
                       subject: change.subject, commit: PlannerText.shortSHA(change.commit))
        }
        hasChanges = !changes.isEmpty
    }
}
