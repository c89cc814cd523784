import Foundation
import Manifests
import Planning

/// One policy's line on the status board: what each stage runs, what promobot decided for it, and the
/// bot's open MRs. A plain value: `Sendable`, safe to share.
public struct StatusRow: Sendable, Hashable {
    /// The policy name (row header).
    public var policy: String
    /// Image names in policy order (for stable text).
    public var images: [String]
    /// In policy order, the first (CI-written) stage included.
    public var stages: [StatusStage]
    /// The bot's open MRs for this policy, any stage, promotions and rollbacks.
    public var mergeRequests: [StatusMergeRequest]

    /// Memberwise.
    public init(policy: String, images: [String], stages: [StatusStage], mergeRequests: [StatusMergeRequest] = []) {
        self.policy = policy
        self.images = images
        self.stages = stages
        self.mergeRequests = mergeRequests
    }

    /// The stage named `name`, if the policy has it.
    public func stage(named name: String) -> StatusStage? { stages.first { $0.name == name } }
}

/// What one stage runs and what the cycle decided for it.
public struct StatusStage: Sendable, Hashable {
    /// The stage name (column).
    public var name: String
    /// The stage it promotes from; nil for the first stage.
    public var upstream: String?
    /// What the stage's paths hold, per image (for a first stage: what its downstream read from it).
    public var tags: ImageVersions
    /// Why the stage could not be read or acted on (a failed clone, GitLab 500 after retries). Shown with
    /// the versions when there are any, instead of them otherwise.
    public var error: String?
    /// The promotion into this stage as the cycle planned it: candidate, every gate, the decision and the
    /// holds. Nil for a first stage (CI writes it) and for a stage the cycle could not plan.
    public var plan: StagePlan?
    /// The stage's rollback, when one is on its way (an open rollback MR, or an automatic rollback being
    /// decided): `rollback?.rollback` says what it takes out, why and who asked.
    public var rollback: StagePlan?
    /// The stage's newest changes, newest first (`StageOutcome.recentChanges`): promotions and, when not
    /// `byPromotion`, a person's change such as a rollback.
    public var recentChanges: [HistoryEntry]

    /// Memberwise.
    public init(name: String, upstream: String? = nil, tags: ImageVersions, error: String? = nil, plan: StagePlan? = nil,
                rollback: StagePlan? = nil, recentChanges: [HistoryEntry] = []) {
        self.name = name
        self.upstream = upstream
        self.tags = tags
        self.error = error
        self.plan = plan
        self.rollback = rollback
        self.recentChanges = recentChanges
    }

    /// Versions held for this stage because a person rolled them back (`StagePlan.held`).
    public var held: [Hold] { plan?.held ?? [] }

    /// The gate that stops the promotion (or the MR's merge), with its reason and, when known, until when;
    /// nil when nothing waits. A gate that was not checked never blocks.
    public var blocking: StatusBlock? {
        guard let decision = plan?.decision else { return nil }
        switch decision {
        case let .blocked(gate, reason, until): return StatusBlock(gate: gate, reason: reason, until: until, mergeRequest: nil)
        case let .waiting(iid, gate, reason, until): return StatusBlock(gate: gate, reason: reason, until: until, mergeRequest: iid)
        case .upToDate, .openMR, .updateMR, .closeMR, .mergeMR, .leaveAlone: return nil
        }
    }

    /// What the stage would be promoted to, when that differs from what it runs.
    public var pendingCandidate: ImageVersions? {
        guard let plan, let candidate = plan.candidate, candidate.differs(from: plan.current) else { return nil }
        return candidate
    }
}

/// Why a stage's promotion does not go ahead now: the failing gate, in the planner's words.
public struct StatusBlock: Sendable, Hashable {
    /// The gate that failed first.
    public var gate: Gate
    /// The gate's reason, for people (`app 1.5.0 in dev for 12m of 30m, 18m left (until 10:42Z)`).
    public var reason: String
    /// When the gate is expected to open by itself (soak end, window opening, freeze end), if known.
    public var until: Date?
    /// The open MR that waits, when there is one (`waiting`); nil when no MR is opened (`blocked`).
    public var mergeRequest: Int?

    /// Memberwise.
    public init(gate: Gate, reason: String, until: Date?, mergeRequest: Int?) {
        self.gate = gate
        self.reason = reason
        self.until = until
        self.mergeRequest = mergeRequest
    }

    /// `blocked (soak)` or `waiting (approvals)`.
    public var label: String { "\(mergeRequest == nil ? "blocked" : "waiting") (\(gate.rawValue))" }
}

/// An open promotion or rollback MR as the board shows it.
public struct StatusMergeRequest: Sendable, Hashable {
    /// Approvals GitLab counts for the MR, and how many its merge needs (`merge: approved` stages only).
    public struct Approvals: Sendable, Hashable {
        public var given: Int
        public var required: Int

        /// Memberwise.
        public init(given: Int, required: Int) {
            self.given = given
            self.required = required
        }
    }

    /// The stage the MR promotes into (or rolls back).
    public var stage: String
    /// The MR number (`!12`).
    public var iid: Int
    /// GitLab's web URL; renderers link it only when it is http(s) (`StatusBoard.isWebLink`).
    public var webURL: String
    /// Short state, e.g. `waiting (approvals)`, `merging`, `left alone`; `rollback, …` for a rollback MR.
    public var state: String
    /// The plan's one-line summary.
    public var summary: String
    /// Approvals given of required, when the stage's merge waits for them.
    public var approvals: Approvals?
    /// Whether this is the stage's rollback MR rather than a promotion.
    public var isRollback: Bool

    /// Memberwise.
    public init(stage: String, iid: Int, webURL: String, state: String, summary: String, approvals: Approvals? = nil,
                isRollback: Bool = false) {
        self.stage = stage
        self.iid = iid
        self.webURL = webURL
        self.state = state
        self.summary = summary
        self.approvals = approvals
        self.isRollback = isRollback
    }

    /// Derives `state` and `summary` from the plan's decision (`StatusBoard.state(of:)`, `Decision.summary`).
    public init(stage: String, iid: Int, webURL: String, decision: Decision, approvals: Approvals? = nil, isRollback: Bool = false) {
        let state = StatusBoard.state(of: decision)
        self.init(stage: stage, iid: iid, webURL: webURL, state: isRollback ? "rollback, " + state : state,
                  summary: isRollback ? "rollback: " + decision.summary : decision.summary, approvals: approvals, isRollback: isRollback)
    }
}
