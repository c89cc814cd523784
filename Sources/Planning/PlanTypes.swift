import Foundation
import Manifests
import Policies

// The value types the planner consumes and produces. The engine builds `PlanInput` from git and
// GitLab, calls `Planner.plan(_:)`, and executes the returned `Decision`. All of them are plain
// values: `Sendable`, safe to share across tasks, no references to I/O handles.


/// A stage's branch tip and what its paths hold there.
public struct StageSnapshot: Sendable, Hashable {
    /// The branch tip commit SHA the tags were read at.
    public var commit: String
    /// Only images the paths actually reference are present.
    public var tags: ImageVersions

    /// Memberwise; the engine reads both from the same tree.
    public init(commit: String, tags: ImageVersions) {
        self.commit = commit
        self.tags = tags
    }
}

/// The upstream paths' state right after a commit that changed them.
///
/// The engine passes these newest first; together they cover `(historyHorizon, now]`, optionally
/// followed by one entry at or before the horizon that tells the state at the horizon.
public struct HistoryEntry: Sendable, Hashable {
    /// The commit that changed the paths (or, for the oldest entry, the one in effect at the horizon).
    public var commit: String
    /// Commit (or merge) time; the state holds from here until the next newer entry.
    public var time: Date
    /// The policy's images as the paths held them right after `commit`.
    public var tags: ImageVersions
    /// The author of `commit` (read for the target stage's history, where holds are found).
    public var author: String
    /// The first line of its message.
    public var subject: String
    /// Whether the change is one of promobot's promotions (its trailers for this policy and stage, on the
    /// commit or on the branch a merge commit brought in). Anything else is a person's change.
    public var byPromotion: Bool
    /// Whether `commit` is a merge commit (its time is when the MR merged). A fast-forwarded bot commit is
    /// not, and carries the time the bot built it.
    public var isMerge: Bool = false

    /// Memberwise.
    public init(commit: String, time: Date, tags: ImageVersions, author: String = "", subject: String = "", byPromotion: Bool = false) {
        self.commit = commit
        self.time = time
        self.tags = tags
        self.author = author
        self.subject = subject
        self.byPromotion = byPromotion
    }
}

/// The bot's open merge request for a (policy, stage), as the engine read it from GitLab.
///
/// The engine passes only MRs in state `opened` whose source branch is
/// `MergeRequestText.sourceBranch(policy:stage:)`; the planner never merges anything else.
public struct BotMergeRequest: Sendable, Hashable {
    /// The project-scoped MR number (`!12`).
    public var iid: Int
    /// For links in logs and the status board.
    public var webURL: String
    /// GitLab's `sha`: the source branch head. Merges are pinned to it.
    public var headSHA: String
    /// Parsed from the description; nil if missing or corrupt (which makes the bot rebuild the MR).
    public var marker: PromotionMarker?
    /// Someone other than the bot pushed to the source branch. The bot then never touches the branch.
    ///
    /// A commit is the bot's when it carries the bot's identity and trailers; a head the marker did
    /// not predict (a run killed between push and description update, a concurrent run) is not foreign.
    public var foreignCommits: Bool
    /// The newest commit by someone else, when there is one: the one-comment rule keys on it, so a
    /// later push by a person is announced again.
    public var foreignCommit: String?
    /// Set (with the reason) when the branch head is not the one the marker records and GitLab does not
    /// list it among the MR's commits (GitLab computes an MR's commits asynchronously after a push): the
    /// bot can vouch for nobody's commit, so it neither rebuilds, merges nor comments until it can.
    public var headUnverified: String?
    /// The target's files under the stage's paths differ between the commit the branch was built on
    /// (`marker.base`) and the target tip: the bot's edit no longer applies as it stands. A target that
    /// moved only in other paths leaves this false, and the MR (with its approvals) is kept.
    public var stageFilesChanged: Bool
    /// The source branch no longer exists (a person deleted it, or a race between runs did): GitLab
    /// cannot merge the MR until the bot pushes it again.
    public var branchMissing: Bool
    /// GitLab's `detailed_merge_status` (`mergeable`, `conflict`, `need_rebase`, `not_approved`, …).
    public var detailedMergeStatus: MergeStatus
    /// Approvals GitLab counts for the MR now.
    public var approvalsGiven: Int
    /// Approvals GitLab (or the engine, from the policy) requires; the planner uses the larger of this and `stage.approvals`.
    public var approvalsRequired: Int
    /// The head pipeline's status (`running`, `pending`, `success`, `failed`, `canceled`, …); nil when there is none.
    public var pipelineStatus: PipelineStatus?
    /// GitLab's `merge_when_pipeline_succeeds`.
    public var autoMergeEnabled: Bool

    /// Memberwise.
    public init(
        iid: Int, webURL: String, headSHA: String, marker: PromotionMarker?, foreignCommits: Bool = false,
        foreignCommit: String? = nil, headUnverified: String? = nil, stageFilesChanged: Bool = false, branchMissing: Bool = false,
        detailedMergeStatus: MergeStatus, approvalsGiven: Int = 0, approvalsRequired: Int = 0,
        pipelineStatus: PipelineStatus? = nil, autoMergeEnabled: Bool = false
    ) {
        self.foreignCommit = foreignCommit
        self.headUnverified = headUnverified
        self.branchMissing = branchMissing
        self.stageFilesChanged = stageFilesChanged
        self.iid = iid
        self.webURL = webURL
        self.headSHA = headSHA
        self.marker = marker
        self.foreignCommits = foreignCommits
        self.detailedMergeStatus = detailedMergeStatus
        self.approvalsGiven = approvalsGiven
        self.approvalsRequired = approvalsRequired
        self.pipelineStatus = pipelineStatus
        self.autoMergeEnabled = autoMergeEnabled
    }
}

/// The bot's memory of what an MR branch contains, kept as a hidden comment in the MR description.
///
/// Since the bot has no database, this is how it knows whether an open MR is still current.
/// Written by `MergeRequestText.description(plan:input:links:head:changes:)`, read by `MergeRequestText.marker(in:)`.
public struct PromotionMarker: Sendable, Hashable, Codable {
    /// The policy name.
    public var policy: String
    /// The stage name (the target of the promotion).
    public var stage: String
    /// The tags the branch promotes.
    public var candidate: ImageVersions
    /// The target branch tip the MR branch was built on.
    public var base: String
    /// The upstream commit the candidate was read from.
    public var upstreamCommit: String
    /// The commit the bot pushed as the MR branch head.
    public var head: String
    /// Set on a promotion a person asked for (`promobot promote`): it lifts holds while the MR is open.
    public var request: PromotionRequest?
    /// Set on a rollback MR: what it takes out, and why. `candidate` is then what it puts back.
    public var rollback: RollbackRecord?
    /// The promobot version that opened or last rebuilt the MR (nil in markers older releases wrote): for
    /// people and support, so "which release wrote this?" has an answer. No decision reads it.
    public var promobotVersion: String?

    /// Memberwise.
    public init(policy: String, stage: String, candidate: ImageVersions, base: String, upstreamCommit: String, head: String,
                request: PromotionRequest? = nil, rollback: RollbackRecord? = nil, promobotVersion: String? = nil) {
        self.policy = policy
        self.stage = stage
        self.candidate = candidate
        self.base = base
        self.upstreamCommit = upstreamCommit
        self.head = head
        self.request = request
        self.rollback = rollback
        self.promobotVersion = promobotVersion
    }
}

/// A promotion a person asked for with `promobot promote`, rather than one the schedule found.
///
/// Kept in the MR's marker, so later cycles (any instance) honour it the same way: the hold gate does
/// not apply, and a pinned version stays the candidate while the MR is open.
public struct PromotionRequest: Sendable, Hashable, Codable {
    /// Who asked (`GITLAB_USER_LOGIN` in GitLab CI, else the OS user).
    public var requestedBy: String
    /// The versions asked for with `--to` (a state the upstream ran); nil: what the upstream offers now.
    public var pinned: ImageVersions?

    /// Memberwise.
    public init(requestedBy: String, pinned: ImageVersions? = nil) {
        self.requestedBy = requestedBy
        self.pinned = pinned
    }
}

/// What a rollback MR takes out of a stage, and why (the marker keeps it, so the text can be rebuilt).
public struct RollbackRecord: Sendable, Hashable, Codable {
    /// What the stage ran when the rollback was asked for.
    public var from: ImageVersions
    /// Why, in the requester's words (or the failed checks, for an automatic rollback).
    public var reason: String
    /// Who asked: a user name, or `promobot` for an automatic rollback.
    public var requestedBy: String
    /// Whether promobot decided it by itself (failed health checks after its own promotion).
    public var automatic: Bool
    /// The change that brought `from` into the stage, when the history shows it.
    public var introducedBy: String?

    /// Who asks for an automatic rollback.
    public static let automaticRequester = "promobot"

    /// Memberwise.
    public init(from: ImageVersions, reason: String, requestedBy: String, automatic: Bool = false, introducedBy: String? = nil) {
        self.from = from
        self.reason = reason
        self.requestedBy = requestedBy
        self.automatic = automatic
        self.introducedBy = introducedBy
    }
}

/// Everything the planner needs for one (policy, stage). Read by the engine; the clock is `now`.
public struct PlanInput: Sendable {
    /// The validated policy (its `images` order is used for all text).
    public var policy: Policy
    /// The stage being promoted into. It must have an upstream (`from`); a first stage is never planned.
    public var stage: Stage
    /// The stage being promoted into, at its branch tip.
    public var target: StageSnapshot
    /// The stage promoted from, at its branch tip.
    public var upstream: StageSnapshot
    /// Upstream states, newest first. See `HistoryEntry` for what the entries cover.
    public var history: [HistoryEntry]
    /// How far back `history` reaches; soaks longer than `now - historyHorizon` count from the horizon.
    public var historyHorizon: Date
    /// Results of the upstream stage's health checks, run for this cycle.
    public var health: [HealthResult]
    /// False when the engine did not run the health checks because nothing is to be promoted (the
    /// one-request no-op cycle); the health gate then says "not checked".
    public var healthChecked = true
    /// The bot's open MR for this stage, if any.
    public var mergeRequest: BotMergeRequest?
    /// Health of the upstream checked against what the open MR proposes, when that differs from what
    /// the upstream holds now (nil otherwise). An `auto` MR whose own candidate still passes every gate
    /// is merged as it is rather than rebuilt for the newer one (progress before perfection).
    public var proposalHealth: [HealthResult]?
    /// Changes to the target stage's paths, newest first, like `history` (read only when a promotion may be
    /// proposed): where rollbacks, and so holds, are found.
    public var targetHistory: [HistoryEntry] = []
    /// Set when a person asked for this promotion (`promobot promote`, or an open MR whose marker says so).
    public var request: PromotionRequest?
    /// The stage's open rollback MR, if any: no promotion into the stage while a rollback is on its way.
    public var rollbackMergeRequest: Int?
    /// What the registries said about the candidate's versions (`image-exists`, `pin: digest`); nil when the
    /// engine did not ask (nothing to promote, or no registry client at all), which leaves the gate out and pins nothing.
    public var registry: [RegistryLookup]?
    /// The clock, as an input, so plans are reproducible.
    public var now: Date
    /// The reason, when an operator has halted the bot.
    public var emergencyStop: String?
    /// The version of the promobot writing the MR text; it goes into the marker (`PromotionMarker.promobotVersion`).
    public var promobotVersion: String?

    /// Memberwise.
    public init(
        policy: Policy, stage: Stage, target: StageSnapshot, upstream: StageSnapshot, history: [HistoryEntry],
        historyHorizon: Date, health: [HealthResult], mergeRequest: BotMergeRequest?, now: Date,
        emergencyStop: String? = nil
    ) {
        self.policy = policy
        self.stage = stage
        self.target = target
        self.upstream = upstream
        self.history = history
        self.historyHorizon = historyHorizon
        self.health = health
        self.mergeRequest = mergeRequest
        self.now = now
        self.emergencyStop = emergencyStop
    }
}

/// A named condition a promotion must pass. Raw values appear in logs and MR text.
public enum Gate: String, Sendable, Hashable, Codable, CaseIterable {
    case emergencyStop = "emergency-stop"
    /// `tagPattern` and "the candidate has a tag at all".
    case version
    case downgrade
    case soak
    case health
    case freeze
    case window
    case approvals
    case pipeline
    /// GitLab's `detailed_merge_status`, and whether the branch is still what the bot pushed.
    case mergeability
    case foreignCommits = "foreign-commits"
    /// A version that was rolled back from the stage is not proposed to it again.
    case hold
    /// No promotion into a stage while a rollback MR for it is open.
    case rollback
    /// The candidate's tags exist in their registry (for registries promobot is configured to ask), and a tag the
    /// upstream runs pinned to a digest still points at that digest.
    case imageExists = "image-exists"
}

/// One gate's verdict, with the evidence.
public struct GateResult: Sendable, Hashable {
    /// Which gate.
    public var gate: Gate
    /// Whether the gate lets the promotion (or merge) through.
    public var passed: Bool
    /// Why it passed or failed, in words for people (e.g. `app 1.5.0 in dev for 12m of 30m, 18m left (until 10:42Z)`).
    public var reason: String
    /// When a failing gate is expected to open by itself (soak end, freeze end, next window), if known.
    public var until: Date?
    /// False when the gate was not evaluated because nothing depended on it (health on a stage with
    /// nothing to promote): shown as "not checked", never as failed. Such a gate does not block.
    public var checked: Bool

    /// Memberwise.
    public init(gate: Gate, passed: Bool, reason: String, until: Date? = nil, checked: Bool = true) {
        self.gate = gate
        self.passed = passed
        self.reason = reason
        self.until = until
        self.checked = checked
    }
}

/// What the engine should do for one (policy, stage). Expected states (blocked, waiting) are decisions, not errors.
public enum Decision: Sendable, Hashable {
    /// The stage already runs the candidate and no MR is open.
    case upToDate
    /// A promotion is needed but a gate stops it; no MR exists.
    case blocked(gate: Gate, reason: String, until: Date?)
    /// Build the branch on the target tip with the candidate, push it, open the MR.
    case openMR
    /// Rebuild the branch on the target tip with the candidate, push with lease, update title and description.
    case updateMR(iid: Int, reason: String)
    /// Close the MR with `MergeRequestText.closeComment(reason:)`; the stage needs nothing from it.
    case closeMR(iid: Int, reason: String)
    /// Merge pinned to `sha`; with `autoMerge`, ask GitLab to merge when the pipeline succeeds.
    case mergeMR(iid: Int, sha: String, autoMerge: Bool)
    /// Keep the MR as it is; `gate` says what it waits for.
    case waiting(iid: Int, gate: Gate, reason: String, until: Date?)
    /// A person pushed to the bot's branch: never overwrite; comment once (`MergeRequestText.foreignCommitComment`).
    case leaveAlone(iid: Int, reason: String)

    /// One line for logs and `plan`, e.g. `blocked (soak): app 1.5.0 in dev for 12m of 30m, 18m left (until 10:42Z)`.
    ///
    /// `openMR` carries no data, so this says only `open MR`; `StagePlan.summary` adds the changes.
    public var summary: String {
        switch self {
        case .upToDate:
            return "up to date"
        case let .blocked(gate, reason, _):
            return "blocked (\(gate.rawValue)): \(reason)"
        case .openMR:
            return "open MR"
        case let .updateMR(iid, reason):
            return "update MR !\(iid): \(reason)"
        case let .closeMR(iid, reason):
            return "close MR !\(iid): \(reason)"
        case let .mergeMR(iid, sha, autoMerge):
            return autoMerge
                ? "set auto-merge on MR !\(iid) at \(PlannerText.shortSHA(sha)) (merges when the pipeline succeeds)"
                : "merge MR !\(iid) at \(PlannerText.shortSHA(sha))"
        case let .waiting(iid, gate, reason, _):
            return "MR !\(iid) waiting (\(gate.rawValue)): \(reason)"
        case let .leaveAlone(iid, reason):
            return "leave MR !\(iid) alone: \(reason)"
        }
    }

    /// The MR this decision acts on, if any.
    public var mergeRequestIID: Int? {
        switch self {
        case .upToDate, .blocked, .openMR: nil
        case let .updateMR(iid, _), let .closeMR(iid, _), let .leaveAlone(iid, _): iid
        case let .mergeMR(iid, _, _), let .waiting(iid, _, _, _): iid
        }
    }
}

/// The planner's full answer for one (policy, stage): the decision plus the evidence behind it.
public struct StagePlan: Sendable, Hashable {
    /// The policy name.
    public var policy: String
    /// The stage name (the target of the promotion).
    public var stage: String
    /// The upstream stage's name.
    public var upstream: String
    /// What the target stage runs now (the policy's images only).
    public var current: ImageVersions
    /// What would be promoted; nil when the upstream holds none of the policy's images.
    public var candidate: ImageVersions?
    /// Since when the upstream continuously held the candidate (lower bound), when known.
    public var soakedSince: Date?
    /// The upstream commit the candidate was read from (the tip, or for `newest-soaked` an older commit).
    public var upstreamCommit: String?
    /// Every gate evaluated, in evaluation order, passing or not.
    public var gates: [GateResult]
    /// What the engine should do.
    public var decision: Decision
    /// Image names in policy order, for stable text.
    public var imageOrder: [String]
    /// Versions held for the stage because a person rolled them back (see `Planner.holds`).
    public var held: [Hold] = []
    /// Set when this plan is for the stage's rollback MR rather than a promotion: `current` is what the
    /// stage runs, `candidate` what the rollback puts back.
    public var rollback: RollbackRecord?

    /// Memberwise.
    public init(
        policy: String, stage: String, upstream: String, current: ImageVersions, candidate: ImageVersions?,
        soakedSince: Date?, upstreamCommit: String? = nil, gates: [GateResult], decision: Decision,
        imageOrder: [String] = []
    ) {
        self.policy = policy
        self.stage = stage
        self.upstream = upstream
        self.current = current
        self.candidate = candidate
        self.soakedSince = soakedSince
        self.upstreamCommit = upstreamCommit
        self.gates = gates
        self.decision = decision
        self.imageOrder = imageOrder
    }

    /// Like `Decision.summary`, but `open MR` also lists the changes:
    /// `open MR: promote app 1.4.2 -> 1.5.0, web 1.4.2 -> 1.5.0`.
    public var summary: String {
        if case .openMR = decision, let candidate {
            let verb = rollback == nil ? "open MR: promote " : "open rollback MR: roll back "
            return verb + PlannerText.changes(from: current, to: candidate, order: imageOrder)
        }
        return rollback == nil ? decision.summary : "rollback: " + decision.summary
    }

    /// The first failing gate, if any.
    public var firstFailingGate: GateResult? { gates.first { !$0.passed } }
}
