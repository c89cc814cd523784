import Foundation
import Manifests
import Policies

/// Decides, for one (policy, stage), what the bot should do next. Pure: no I/O, no clock, no randomness.
///
/// The rules, in the order they apply:
///
/// 1. **Candidate.** The policy's images as the upstream holds them, promoted as one unit
///    (`pick: latest`), or the newest upstream state that held for at least `soak`
///    (`pick: newest-soaked`, for upstreams that change faster than the soak time). Images the
///    upstream does not hold are not part of the candidate; when it holds none, the plan is blocked
///    on `version`. A promotion is needed when any candidate image differs from the target (an image
///    the target does not hold counts as different).
/// 2. **Promotion gates** — emergency stop, an open rollback MR for the stage, version (`tagPattern`),
///    downgrade, soak, upstream health, holds (versions rolled back from the stage), and, when the engine asked
///    the registries, image-exists — gate opening and updating an MR, and therefore merging. Health and
///    image-exists are fail-closed. With `pin: digest` the candidate carries digests (see `pinned`). A promotion a person asked for
///    (`input.request`) skips the hold gate and may pin an older upstream state as the candidate.
/// 3. **Merge gates** — freeze and merge windows of the *target* stage, GitLab's mergeability,
///    pipeline, approvals — gate merging only: a closed window never stops an MR from being opened
///    or refreshed; the MR then waits, with the time the window opens.
///
/// With an open bot MR:
/// - A person pushed to its branch -> `leaveAlone` (never overwritten, whatever else holds; even an
///   emergency stop, since the only action is a comment). A head nobody can vouch for yet (GitLab does
///   not list it among the MR's commits) -> `waiting`: nothing is pushed, merged or closed.
/// - The stage already runs the candidate (e.g. promoted by hand) -> `closeMR`.
/// - A rollback MR for the stage is open -> `closeMR` ("superseded by rollback !N").
/// - The candidate would downgrade the stage (upstream rolled back) -> `closeMR`, saying both versions.
/// - Closing is still allowed during an emergency stop: it never changes an environment, and a stale
///   MR left open invites someone to merge a version the bot has stopped vouching for.
/// - Another promotion gate fails (emergency stop, version, soak, health) -> `waiting` on it: the MR is
///   kept as it is (not rebuilt onto a candidate that does not pass) and never merged, because the
///   gates must pass *now*, for the candidate as it is now.
/// - An `auto` MR whose own candidate (the marker's) still passes every promotion gate, with upstream
///   health checked for what it proposes, is merged as it is even when the upstream has moved on: the
///   newer candidate follows in the next MR. Chasing every new upstream state would never merge on a
///   busy repository.
/// - Missing or foreign marker, changed candidate, changed files under the stage's paths on the target
///   branch, a head that is the bot's own unfinished update, or GitLab's `conflict`/`need_rebase` ->
///   `updateMR` (rebuilt on the target tip). A target branch that moved only in other paths is *not* a
///   reason: GitLab merges the MR as it is, and a rebuild would throw its approvals away.
/// - Then freeze, windows, and `stage.merge`: `manual` waits for people; `auto` merges when GitLab says
///   `mergeable`, or asks for auto-merge while the pipeline runs (not when the stage has merge windows:
///   GitLab would merge whenever the pipeline ends, so the bot waits and merges inside a window itself);
///   a failed pipeline waits for a person; `approved` merges only with the
///   approvals (`max(stage.approvals, GitLab's required)`, and never over GitLab's `not_approved`)
///   and a green (or absent) pipeline. Any other `detailed_merge_status` waits, naming it.
///
/// The engine passes only open MRs (`state == opened`); a `not_open` status is never merged.
/// Thread-safety: a namespace of pure static functions; call from anywhere.
public enum Planner {
    /// Plans one (policy, stage). Never throws: every expected state (blocked, waiting) is a `Decision`.
    public static func plan(_ input: PlanInput) -> StagePlan {
        let images = input.policy.images
        let current = input.target.tags.restricted(to: images)
        let calendar = MergeCalendar(stage: input.stage)
        let emergency = emergencyGate(input)

        guard let chosen = chooseCandidate(input) else {
            let shortNames = images.map(PlannerText.shortImage).joined(separator: ", ")
            let reason = "\(upstreamName(input)) holds none of the policy's images (\(shortNames)) at \(PlannerText.shortSHA(input.upstream.commit))"
            let gate = GateResult(gate: .version, passed: false, reason: reason)
            let decision: Decision
            if let mr = input.mergeRequest {
                decision = mr.foreignCommits ? leaveAlone(input, mr) : .waiting(iid: mr.iid, gate: .version, reason: reason, until: nil)
            } else {
                decision = .blocked(gate: .version, reason: reason, until: nil)
            }
            return StagePlan(policy: input.policy.name, stage: input.stage.name, upstream: upstreamName(input),
                             current: current, candidate: nil, soakedSince: nil, upstreamCommit: nil,
                             gates: [emergency, gate], decision: decision, imageOrder: images)
        }

        let candidate = pinned(chosen, input)
        let held = holds(input)
        var promotionGates = [
            emergency,
            rollbackGate(input),
            versionGate(input, candidate: candidate.tags),
            downgradeGate(input, candidate: candidate.tags),
            soakGate(input, candidate: candidate),
            healthGate(input),
            holdGate(input, candidate: candidate.tags, holds: held),
        ]
        if let registry = imageExistsGate(input, candidate: candidate.tags) { promotionGates.append(registry) }
        let mergeGates = [freezeGate(input, calendar: calendar), windowGate(input, calendar: calendar)]
        let requestGates = input.mergeRequest.map { mergeRequestGates(input, $0) } ?? []
        let decision = decide(input, candidate: candidate, current: current,
                              promotionGates: promotionGates, mergeGates: mergeGates, held: held)
        var plan = StagePlan(policy: input.policy.name, stage: input.stage.name, upstream: upstreamName(input),
                             current: current, candidate: candidate.tags, soakedSince: candidate.since,
                             upstreamCommit: candidate.commit, gates: promotionGates + mergeGates + requestGates,
                             decision: decision, imageOrder: images)
        plan.held = held
        return plan
    }

    static func decide(
        _ input: PlanInput, candidate: PlannerCandidate, current: ImageVersions,
        promotionGates: [GateResult], mergeGates: [GateResult], held: [Hold]
    ) -> Decision {
        let needed = candidate.tags.differs(from: current)
        let failing = promotionGates.first { !$0.passed }

        guard let mr = input.mergeRequest else {
            if !needed { return .upToDate }
            if let failing { return .blocked(gate: failing.gate, reason: failing.reason, until: failing.until) }
            return .openMR
        }
        if mr.foreignCommits { return leaveAlone(input, mr) }
        if let unverified = mr.headUnverified {
            return .waiting(iid: mr.iid, gate: .foreignCommits, reason: unverified, until: nil)
        }
        if !needed {
            return .closeMR(iid: mr.iid, reason: "\(input.stage.name) already runs \(PlannerText.list(candidate.tags, order: input.policy.images))")
        }
        if let rollback = input.rollbackMergeRequest {
            return .closeMR(iid: mr.iid, reason: "superseded by rollback !\(rollback)")
        }
        if let downgrade = promotionGates.first(where: { $0.gate == .downgrade && !$0.passed }) {
            return .closeMR(iid: mr.iid, reason: "would downgrade \(input.stage.name): \(downgrade.reason)")
        }
        if let hold = promotionGates.first(where: { $0.gate == .hold && !$0.passed }) {
            return .closeMR(iid: mr.iid, reason: "it proposes what was rolled back: \(hold.reason)")
        }
        if let progress = progressDecision(input, mr, candidate: candidate, current: current, mergeGates: mergeGates, held: held) {
            return progress
        }
        if let failing {
            return .waiting(iid: mr.iid, gate: failing.gate, reason: failing.reason, until: failing.until)
        }
        if let stale = staleness(input, mr, candidate: candidate) {
            return .updateMR(iid: mr.iid, reason: stale)
        }
        return mergeDecision(input, mr, mergeGates: mergeGates)
    }

    static func leaveAlone(_ input: PlanInput, _ mr: BotMergeRequest,
                           branch: String? = nil) -> Decision {
        let branch = branch ?? MergeRequestText.sourceBranch(policy: input.policy.name, stage: input.stage.name)
        return .leaveAlone(iid: mr.iid, reason: "someone other than promobot pushed to \(branch); the bot will not overwrite it (merge or close !\(mr.iid) by hand)")
    }

    /// Why the MR branch no longer matches what the bot would build now, if it does not.
    static func staleness(_ input: PlanInput, _ mr: BotMergeRequest, candidate: PlannerCandidate) -> String? {
        guard let marker = mr.marker else {
            return "the description has no readable promobot marker; rebuilding"
        }
        if marker.policy != input.policy.name || marker.stage != input.stage.name {
            return "the marker names \(marker.policy)/\(marker.stage), not \(input.policy.name)/\(input.stage.name); rebuilding"
        }
        if marker.candidate != candidate.tags {
            return "candidate changed: " + PlannerText.changes(from: marker.candidate, to: candidate.tags, order: input.policy.images)
        }
        if mr.branchMissing {
            return "its branch no longer exists; pushing it again on \(input.stage.branch) at \(PlannerText.shortSHA(input.target.commit))"
        }
        if mr.stageFilesChanged {
            return "\(input.stage.paths.joined(separator: ", ")) changed on \(input.stage.branch) since the branch was built on \(PlannerText.shortSHA(marker.base)); rebuilding on \(PlannerText.shortSHA(input.target.commit))"
        }
        if marker.head != mr.headSHA {
            return "branch head \(PlannerText.shortSHA(mr.headSHA)) is promobot's own commit from an update that did not finish (the description names \(PlannerText.shortSHA(marker.head))); finishing it"
        }
        let status = mr.detailedMergeStatus
        if status.needsRebuild {
            return "GitLab reports \(status); rebuilding on \(input.stage.branch) at \(PlannerText.shortSHA(input.target.commit))"
        }
        return nil
    }

    /// Progress before perfection, for `auto` stages: when the open MR proposes an older candidate
    /// than the upstream holds now, but that proposal still passes every promotion gate (its own soak,
    /// version rules, no downgrade, and upstream health checked for what it proposes), it is merged
    /// as it is and the newer candidate follows in the next MR. Nil when the rule does not apply.
    static func progressDecision(_ input: PlanInput, _ mr: BotMergeRequest, candidate: PlannerCandidate,
                                 current: ImageVersions, mergeGates: [GateResult], held: [Hold]) -> Decision? {
        guard input.stage.merge == .auto, let marker = mr.marker, let health = input.proposalHealth,
              marker.policy == input.policy.name, marker.stage == input.stage.name,
              marker.candidate != candidate.tags, marker.head == mr.headSHA, !mr.stageFilesChanged, !mr.branchMissing,
              !mr.detailedMergeStatus.needsRebuild,
              marker.candidate.differs(from: current),
              let run = runs(input).first(where: { $0.tags == marker.candidate })
        else { return nil }
        let proposal = PlannerCandidate(tags: run.tags, since: run.start, heldUntil: run.end, commit: run.commit)
        var proposed = input
        proposed.health = health
        let gates = [
            emergencyGate(proposed),
            rollbackGate(proposed),
            versionGate(proposed, candidate: proposal.tags),
            downgradeGate(proposed, candidate: proposal.tags),
            soakGate(proposed, candidate: proposal),
            healthGate(proposed),
            holdGate(proposed, candidate: proposal.tags, holds: held),
        ]
        guard gates.allSatisfy(\.passed) else { return nil }
        return mergeDecision(proposed, mr, mergeGates: mergeGates)
    }
}
