import Foundation
import Manifests
import Policies

/// One state a stage ran, as its history shows it: a run of consecutive changes with equal images.
public struct StageState: Sendable, Hashable {
    /// The policy's images as the stage held them.
    public var tags: ImageVersions
    /// The change that brought this state in (its oldest change in the history read).
    public var introducedBy: HistoryEntry
}

/// Where a rollback goes: from what the stage runs to an earlier state of it.
public struct RollbackTarget: Sendable, Hashable {
    /// What the stage runs now (the policy's images).
    public var from: ImageVersions
    /// The state it goes back to.
    public var to: StageState
    /// The change that brought `from` in, when the history reaches it.
    public var introducedBy: HistoryEntry?
}

/// Why a stage cannot be rolled back (or promoted) to the version asked for. Exit code 1: the command
/// was well-formed, the history says no.
public enum VersionRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The history read shows no state before the current one.
    case nothingEarlier(stage: String, current: String)
    /// `--to` names a version the stage did not run before; `ran` lists what it did run, newest first.
    case notRunBefore(tag: String, stage: String, ran: [String])

    public var description: String {
        switch self {
        case let .nothingEarlier(stage, current):
            return "\(stage) ran nothing before \(current) in the history promobot reads: nothing to roll back to"
        case let .notRunBefore(tag, stage, ran):
            // `tag` is what someone typed (often a CI variable): echoed escaped, it cannot forge a log line.
            return "\(stage) did not run \(EchoText.escapingControls(tag)) before; it ran (newest first): " + ran.joined(separator: "; ")
        }
    }
}

extension Planner {
    /// The states a stage ran, newest first, from its history (newest first); the first is what it runs
    /// at the newest change. Changes that left the policy's images as they were are folded into their run.
    public static func states(history: [HistoryEntry], images: [String]) -> [StageState] {
        var states: [StageState] = []
        for entry in history {
            let tags = entry.tags.restricted(to: images)
            if var last = states.last, last.tags == tags {
                last.introducedBy = entry
                states[states.count - 1] = last
            } else {
                states.append(StageState(tags: tags, introducedBy: entry))
            }
        }
        return states
    }

    /// Where `promobot rollback` takes the stage: the state before the current one, or, with `to`, the
    /// newest earlier state in which one of the policy's images ran that tag (or digest).
    ///
    /// - Parameters:
    ///   - current: what the stage's paths hold at the branch tip.
    ///   - history: the stage's changes, newest first (`PlanInput.targetHistory`).
    public static func rollbackTarget(stage: String, current: ImageVersions, history: [HistoryEntry], images: [String],
                                      to tag: String?) -> Result<RollbackTarget, VersionRefusal> {
        let now = current.restricted(to: images)
        let states = states(history: history, images: images)
        // The tip may hold a state the (bounded) history read has not reached as a change yet.
        let currentIndex = states.first?.tags == now ? 0 : nil
        let earlier = states.dropFirst(currentIndex == nil ? 0 : 1).filter { $0.tags != now && !$0.tags.isEmpty }
        let introducedBy = currentIndex.map { states[$0].introducedBy }
        guard let tag else {
            guard let previous = earlier.first else {
                return .failure(.nothingEarlier(stage: stage, current: PlannerText.list(now, order: images)))
            }
            return .success(RollbackTarget(from: now, to: previous, introducedBy: introducedBy))
        }
        let wanted = tag.trimmingCharacters(in: .whitespaces)
        if let match = earlier.first(where: { state in state.tags.ordered(by: images).contains { Self.names($0.version, wanted) } }) {
            return .success(RollbackTarget(from: now, to: match, introducedBy: introducedBy))
        }
        var ran = ["\(PlannerText.list(now, order: images)) (now)"]
        for state in earlier {
            ran.append("\(PlannerText.list(state.tags, order: images)) (from \(PlannerText.shortSHA(state.introducedBy.commit)))")
        }
        return .failure(.notRunBefore(tag: wanted, stage: stage, ran: ran))
    }

    /// The newest state of `stage` (now, then its history) in which one of the policy's images ran `tag`:
    /// what `promobot promote --to` pins.
    public static func state(named tag: String, stage: String, current: ImageVersions, history: [HistoryEntry],
                             images: [String]) -> Result<ImageVersions, VersionRefusal> {
        let wanted = tag.trimmingCharacters(in: .whitespaces)
        var seen: [ImageVersions] = []
        for tags in [current.restricted(to: images)] + states(history: history, images: images).map(\.tags)
        where !tags.isEmpty && !seen.contains(tags) {
            if tags.ordered(by: images).contains(where: { names($0.version, wanted) }) { return .success(tags) }
            seen.append(tags)
        }
        return .failure(.notRunBefore(tag: wanted, stage: stage, ran: seen.map { PlannerText.list($0, order: images) }))
    }

    /// Whether `text` names `version`: its tag, its digest, or the way plans print it.
    static func names(_ version: ImageVersion, _ text: String) -> Bool {
        version.tag == text || version.display == text || version.description == text || version.digest == text
    }

    /// The plan for a stage's rollback MR: open it, rebuild it, merge it, or wait.
    ///
    /// A rollback skips every promotion gate (soak, upstream health, version rules, holds, the
    /// emergency stop) and the stage's merge windows and freezes: the way back must never be blocked
    /// by the rules that guard the way forward. Only its merge mode and approvals (`stage.rollback`)
    /// and GitLab's own mergeability apply. A person's commit on the branch is never overwritten.
    ///
    /// - Parameters:
    ///   - input: the stage as observed; `input.mergeRequest` is the open rollback MR, if any.
    ///   - record: what the rollback takes out and why (from the request, or from the open MR's marker).
    ///   - to: the versions it puts back.
    public static func planRollback(_ input: PlanInput, record: RollbackRecord, to: ImageVersions) -> StagePlan {
        let images = input.policy.images
        let current = input.target.tags.restricted(to: images)
        var merging = input
        merging.stage = rollbackStage(input.stage)
        let decision: Decision
        let needed = to.differs(from: current)
        if let mr = input.mergeRequest {
            if mr.foreignCommits {
                decision = leaveAlone(input, mr, branch: MergeRequestText.rollbackBranch(policy: input.policy.name, stage: input.stage.name))
            } else if let unverified = mr.headUnverified {
                decision = .waiting(iid: mr.iid, gate: .foreignCommits, reason: unverified, until: nil)
            } else if !needed {
                decision = .closeMR(iid: mr.iid, reason: "\(input.stage.name) already runs \(PlannerText.list(to, order: images))")
            } else if let stale = staleness(input, mr, candidate: PlannerCandidate(tags: to, since: input.now, heldUntil: nil, commit: input.target.commit)) {
                decision = .updateMR(iid: mr.iid, reason: stale)
            } else {
                decision = mergeDecision(merging, mr, mergeGates: [])
            }
        } else {
            decision = needed ? .openMR : .upToDate
        }
        var plan = StagePlan(policy: input.policy.name, stage: input.stage.name, upstream: input.stage.from ?? "",
                             current: current, candidate: to, soakedSince: nil, upstreamCommit: record.introducedBy,
                             gates: input.mergeRequest.map { mergeRequestGates(merging, $0) } ?? [], decision: decision,
                             imageOrder: images)
        plan.rollback = record
        return plan
    }

    /// The stage as a rollback MR merges into it: its `rollback` merge mode and approvals, no windows, no freezes.
    public static func rollbackStage(_ stage: Stage) -> Stage {
        var rollback = stage
        rollback.merge = stage.rollback.merge
        rollback.approvals = stage.rollback.approvals
        rollback.windows = []
        rollback.freezes = []
        return rollback
    }
}

// MARK: - Automatic rollback

/// The promotion an automatic rollback watches, and where a rollback would take the stage.
public struct WatchedPromotion: Sendable, Hashable {
    /// The bot's promotion: the stage's newest change of the policy's images.
    public var promotion: HistoryEntry
    /// What the stage ran before it.
    public var previous: StageState
    /// What it runs since.
    public var current: ImageVersions
}

extension Planner {
    /// The promotion to watch: the stage's newest change of the policy's images, when it is promobot's own
    /// promotion and merged less than `within` before `now`. Anything newer by someone else (a person's
    /// change, a rollback) ends the watch: promobot never undoes what people did.
    ///
    /// - Parameter mergedAt: when the promotion merged, when the engine learned it from GitLab (a
    ///   fast-forwarded commit carries the time it was built, not merged); default: the change's time.
    public static func watchedPromotion(history: [HistoryEntry], images: [String], within: PolicyDuration, now: Date,
                                        mergedAt: Date? = nil) -> WatchedPromotion? {
        guard let last = lastPromotion(history: history, images: images),
              now.timeIntervalSince(mergedAt ?? last.promotion.time) < within.timeInterval else { return nil }
        return last
    }

    /// The stage's newest change of the policy's images when it is promobot's own promotion, whenever it merged.
    public static func lastPromotion(history: [HistoryEntry], images: [String]) -> WatchedPromotion? {
        let states = states(history: history, images: images)
        guard states.count >= 2, !states[1].tags.isEmpty, states[0].introducedBy.byPromotion else { return nil }
        return WatchedPromotion(promotion: states[0].introducedBy, previous: states[1], current: states[0].tags)
    }

    /// The checks that failed in both samples (`failed`, never `unknown`), with the second sample's evidence;
    /// nil when none did. This is the confirmation an automatic rollback needs: two failing samples of
    /// the same check, taken apart, and no verdict from a check that could not tell.
    public static func confirmedFailure(first: [HealthResult], second: [HealthResult]) -> [HealthResult]? {
        let failedFirst = Set(first.filter { $0.state == .failed }.map(\.check))
        let confirmed = second.filter { $0.state == .failed && failedFirst.contains($0.check) }
        return confirmed.isEmpty ? nil : confirmed
    }
}
