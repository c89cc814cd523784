import Foundation
import Manifests

/// What one reconcile cycle saw and did, per policy and stage. The `plan` and `run` commands print it.
public struct CycleReport: Sendable {
    /// One entry per (policy, stage) that has an upstream, in policy and stage order.
    public var stages: [StageOutcome]
    /// Policy-level failures (e.g. a repository that cannot be read). Other policies still ran.
    public var errors: [PolicyFailure]
    /// Orphan MRs closed (or that would be closed, in a dry run).
    public var orphans: [String]

    public init(stages: [StageOutcome] = [], errors: [PolicyFailure] = [], orphans: [String] = []) {
        self.stages = stages
        self.errors = errors
        self.orphans = orphans
    }

    /// True when any policy hit an error; blocked gates are not failures.
    public var hasErrors: Bool { !errors.isEmpty || stages.contains { $0.error != nil } }

    /// What the cycle did, counted: ready to be added to monitoring counters.
    public var counters: CycleCounters {
        var counters = CycleCounters()
        for outcome in stages {
            let rollback = outcome.plan.rollback
            for action in outcome.actions {
                switch (action, rollback) {
                case (.opened, nil): counters.promotionsOpened += 1
                case (.merged, nil): counters.promotionsMerged += 1
                case (.opened, let record?):
                    counters.rollbacksOpened += 1
                    if record.automatic { counters.automaticRollbacks += 1 }
                case (.merged, _?): counters.rollbacksMerged += 1
                default: break
                }
            }
        }
        counters.errors = errors.count + stages.filter { $0.error != nil }.count
        return counters
    }
}

/// Counts of what one cycle did (`CycleReport.counters`).
public struct CycleCounters: Sendable, Hashable {
    public var promotionsOpened = 0
    public var promotionsMerged = 0
    public var rollbacksOpened = 0
    public var rollbacksMerged = 0
    /// Rollback MRs promobot opened by itself because the stage's health failed (confirmed).
    public var automaticRollbacks = 0
    public var errors = 0

    public init() {}
}

/// The plan for one stage and what was done about it.
public struct StageOutcome: Sendable {
    public var plan: StagePlan
    /// What the upstream stage holds at its branch tip (the board shows it for first stages).
    public var upstreamTags: ImageVersions
    /// What the engine did, in order (an auto MR may be opened and merged in one cycle); empty when
    /// nothing was needed.
    public var actions: [EngineAction]
    /// The actions for people and logs (`opened !4, merged !4`), or nil when nothing was done.
    public var action: String? { actions.isEmpty ? nil : actions.map(\.description).joined(separator: ", ") }
    /// Set when the engine did something other than the plan's decision (lost a lease to another run,
    /// merged in the same cycle): the whole sentence, with the reason, that replaces the plan's summary
    /// in logs so no line contradicts itself.
    public var note: String?
    /// The open MR the stage has after the action, if any.
    public var mergeRequestIID: Int?
    public var mergeRequestURL: String?
    /// A failure while acting on the plan (e.g. GitLab 500 after retries). The plan itself stays valid.
    public var error: String?
    /// The commit GitLab made when the engine merged the MR in this cycle.
    public var mergedCommit: String?
    /// The stage's newest changes (at most five, newest first), when the cycle read its history: who
    /// changed it, when, and whether it was a promotion (for the status page's "recent changes").
    public var recentChanges: [HistoryEntry] = []
    /// The open MR's approvals when its merge waits for them (`merge: approved`): given, and required.
    public var approvals: (given: Int, required: Int)?

    public init(plan: StagePlan, upstreamTags: ImageVersions = [:], actions: [EngineAction] = [], mergeRequestIID: Int? = nil,
                mergeRequestURL: String? = nil, error: String? = nil) {
        self.plan = plan
        self.upstreamTags = upstreamTags
        self.mergeRequestIID = mergeRequestIID
        self.actions = actions
        self.mergeRequestURL = mergeRequestURL
        self.error = error
    }
}

/// A policy the cycle could not plan at all, with the reason.
public struct PolicyFailure: Sendable, Error, CustomStringConvertible {
    public var policy: String
    public var stage: String?
    public var message: String

    public init(policy: String, stage: String? = nil, message: String) {
        self.policy = policy
        self.stage = stage
        self.message = message
    }

    public var description: String { "\(policy)\(stage.map { "/\($0)" } ?? ""): \(message)" }
}

/// One thing the engine did to GitLab for a stage. Typed, so callers switch on it instead of matching text.
public enum EngineAction: Sendable, Hashable, CustomStringConvertible {
    case opened(iid: Int)
    /// Another run opened the MR for the same promotion first; this run took it over.
    case adopted(iid: Int)
    case updated(iid: Int)
    /// A lost lease: the branch moved while the cycle ran; nothing was pushed or written.
    case leftAsIs(iid: Int)
    case closed(iid: Int)
    case merged(iid: Int)
    case autoMergeSet(iid: Int)
    /// GitLab accepted the merge call but the MR is not merged yet (its state).
    case mergeRequested(iid: Int, state: String)
    /// GitLab refused the merge right now (a state, not a failure).
    case notMerged(iid: Int)
    /// The one comment about a person's commit was posted.
    case commented(iid: Int)
    /// The MR belongs to a person now and was already told so.
    case leftAlone(iid: Int)
    /// A dry run: what would have been done.
    case wouldAct(String)

    /// The MR the action was about; nil for a dry run's description.
    public var iid: Int? {
        switch self {
        case let .opened(iid), let .adopted(iid), let .updated(iid), let .leftAsIs(iid), let .closed(iid), let .merged(iid),
             let .autoMergeSet(iid), let .mergeRequested(iid, _), let .notMerged(iid), let .commented(iid), let .leftAlone(iid):
            iid
        case .wouldAct: nil
        }
    }

    public var description: String {
        switch self {
        case let .opened(iid): "opened !\(iid)"
        case let .adopted(iid): "adopted !\(iid)"
        case let .updated(iid): "updated !\(iid)"
        case let .leftAsIs(iid): "left !\(iid) as it is"
        case let .closed(iid): "closed !\(iid)"
        case let .merged(iid): "merged !\(iid)"
        case let .autoMergeSet(iid): "auto-merge set on !\(iid)"
        case let .mergeRequested(iid, state): "merge requested on !\(iid) (\(state))"
        case let .notMerged(iid): "not merged !\(iid)"
        case let .commented(iid): "commented on !\(iid) and left it alone"
        case let .leftAlone(iid): "left !\(iid) alone"
        case let .wouldAct(summary): "none (dry run): would \(summary)"
        }
    }

}
