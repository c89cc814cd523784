import Foundation

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
}

/// The plan for one stage and what was done about it.
public struct StageOutcome: Sendable {
    public var plan: StagePlan
    /// What the upstream stage holds at its branch tip (the board shows it for first stages).
    public var upstreamTags: ImageTags
    /// What the engine did (`opened !4`, `merged !4`, `none (dry run)`), or nil when nothing was needed.
    public var action: String?
    /// Set when the engine did something other than the plan's decision (lost a lease to another run,
    /// merged in the same cycle): the whole sentence, with the reason, that replaces the plan's summary
    /// in logs so no line contradicts itself.
    public var note: String?
    /// The open MR the stage has after the action, if any.
    public var mergeRequestIID: Int?
    public var mergeRequestURL: String?
    /// A failure while acting on the plan (e.g. GitLab 500 after retries). The plan itself stays valid.
    public var error: String?

    public init(plan: StagePlan, upstreamTags: ImageTags = [:], action: String? = nil, mergeRequestIID: Int? = nil,
                mergeRequestURL: String? = nil, error: String? = nil) {
        self.plan = plan
        self.upstreamTags = upstreamTags
        self.mergeRequestIID = mergeRequestIID
        self.action = action
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
