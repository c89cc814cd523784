import Foundation
import Manifests
import Policies

// MARK: - Promotion gates (they gate opening and updating an MR, and therefore merging too)

extension Planner {
    static func emergencyGate(_ input: PlanInput) -> GateResult {
        guard let reason = input.emergencyStop else {
            return GateResult(gate: .emergencyStop, passed: true, reason: "not halted")
        }
        return GateResult(gate: .emergencyStop, passed: false, reason: "promobot is halted: \(reason)")
    }

    /// Fails while a rollback MR for the stage is open: the way back goes first, and a promotion MR
    /// opened beside it would propose the very version being taken out.
    static func rollbackGate(_ input: PlanInput) -> GateResult {
        guard let iid = input.rollbackMergeRequest else {
            return GateResult(gate: .rollback, passed: true, reason: "no rollback MR is open for \(input.stage.name)")
        }
        return GateResult(gate: .rollback, passed: false,
                          reason: "rollback !\(iid) for \(input.stage.name) is open; promotions wait until it is merged or closed")
    }

    /// `tagPattern` must match the whole tag of every candidate image (the pattern is implicitly
    /// anchored, so `\d+\.\d+\.\d+` rejects `1.5.0-rc.1`). A digest-only reference has no tag and so
    /// fails a `tagPattern`; without a pattern any reference passes.
    static func versionGate(_ input: PlanInput, candidate: ImageVersions) -> GateResult {
        guard let pattern = input.stage.tagPattern else {
            return GateResult(gate: .version, passed: true, reason: "no tagPattern")
        }
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(pattern)
        } catch {
            return GateResult(gate: .version, passed: false,
                              reason: "tagPattern \(pattern) of \(input.stage.name) is not a valid regular expression; fix the policy \(input.policy.sourcePath)")
        }
        var problems: [String] = []
        for (image, version) in candidate.ordered(by: input.policy.images) {
            let name = PlannerText.shortImage(image)
            guard let tag = version.tag else {
                problems.append("\(name) has no tag (digest only \(version.display)), tagPattern \(pattern) needs one")
                continue
            }
            if (try? regex.wholeMatch(in: tag)) == nil {
                problems.append("\(name) tag \(tag) does not match tagPattern \(pattern)")
            }
        }
        if problems.isEmpty {
            return GateResult(gate: .version, passed: true, reason: "all tags match \(pattern)")
        }
        return GateResult(gate: .version, passed: false, reason: problems.joined(separator: "; "))
    }

    /// Per image: a candidate whose tag is a lower semantic version than the stage runs is a downgrade.
    /// Tags that are not versions (on either side) and digest-only references skip the check.
    static func downgradeGate(_ input: PlanInput, candidate: ImageVersions) -> GateResult {
        if input.stage.allowDowngrade {
            return GateResult(gate: .downgrade, passed: true, reason: "downgrades allowed")
        }
        var problems: [String] = []
        for (image, version) in candidate.ordered(by: input.policy.images) {
            guard let running = input.target.tags[image], let old = running.semanticVersion,
                  let newTag = version.tag, let new = version.semanticVersion, new < old
            else { continue }
            problems.append("\(PlannerText.shortImage(image)) \(newTag) in \(upstreamName(input)) is lower than \(running.tag ?? running.description) running in \(input.stage.name)")
        }
        if problems.isEmpty {
            return GateResult(gate: .downgrade, passed: true, reason: "no image moves to a lower version")
        }
        return GateResult(gate: .downgrade, passed: false,
                          reason: problems.joined(separator: "; ") + " (allowDowngrade is off)")
    }

    /// Passes when the candidate was held for at least `soak` (exactly `soak` passes).
    static func soakGate(_ input: PlanInput, candidate: PlannerCandidate) -> GateResult {
        let what = PlannerText.list(candidate.tags, order: input.policy.images)
        let upstream = upstreamName(input)
        let held = candidate.heldSeconds(now: input.now)
        guard let soak = input.stage.soak else {
            return GateResult(gate: .soak, passed: true, reason: "no soak required")
        }
        if held >= soak.seconds {
            if let end = candidate.heldUntil {
                return GateResult(gate: .soak, passed: true,
                                  reason: "\(what) held in \(upstream) for \(PlannerText.duration(held)) of \(soak) (from \(PlannerText.time(candidate.since, now: input.now)) to \(PlannerText.time(end, now: input.now)))")
            }
            return GateResult(gate: .soak, passed: true,
                              reason: "\(what) in \(upstream) for \(PlannerText.duration(held)) of \(soak) (since \(PlannerText.time(candidate.since, now: input.now)))")
        }
        let until = candidate.since.addingTimeInterval(soak.timeInterval)
        let left = soak.seconds - held
        return GateResult(gate: .soak, passed: false,
                          reason: "\(what) in \(upstream) for \(PlannerText.duration(held)) of \(soak), \(PlannerText.duration(left)) left (until \(PlannerText.time(until, now: input.now)))",
                          until: until)
    }

    /// Fail-closed: any failed result fails, and so do missing results when the upstream stage
    /// declares more checks than were reported.
    static func healthGate(_ input: PlanInput) -> GateResult {
        let upstream = upstreamName(input)
        let configured = input.policy.stages.first { $0.name == input.stage.from }?.health.count ?? 0
        if !input.healthChecked {
            return GateResult(gate: .health, passed: true, reason: "not checked: \(input.stage.name) already runs what \(upstream) offers",
                              checked: false)
        }
        let failed = input.health.filter { $0.state == .failed }
        let unknown = input.health.filter { $0.state == .unknown }
        if !failed.isEmpty || !unknown.isEmpty {
            let list = { (results: [HealthResult]) in results.map { "\($0.check): \($0.detail)" }.joined(separator: "; ") }
            let reason = [failed.isEmpty ? nil : "\(upstream) is unhealthy: \(list(failed))",
                          unknown.isEmpty ? nil : "\(upstream) could not be judged healthy: \(list(unknown))"]
            return GateResult(gate: .health, passed: false, reason: reason.compactMap { $0 }.joined(separator: "; "))
        }
        if input.health.count < configured {
            return GateResult(gate: .health, passed: false,
                              reason: "only \(input.health.count) of \(configured) health checks of \(upstream) reported a result")
        }
        if input.health.isEmpty {
            return GateResult(gate: .health, passed: true, reason: "no health checks configured for \(upstream)")
        }
        return GateResult(gate: .health, passed: true,
                          reason: "\(input.health.count) of \(input.health.count) health checks of \(upstream) passed")
    }

    static func upstreamName(_ input: PlanInput) -> String { input.stage.from ?? "upstream" }
}

// MARK: - Merge gates (they gate merging only; a closed window never stops an MR from being opened)

extension Planner {
    static func freezeGate(_ input: PlanInput, calendar: MergeCalendar) -> GateResult {
        guard let (freeze, end) = calendar.activeFreezeAndEnd(at: input.now) else {
            return GateResult(gate: .freeze, passed: true, reason: "no freeze")
        }
        let why = freeze.reason.map { ": \($0)" } ?? ""
        let when = end.map { " (until \(PlannerText.time($0, now: input.now)))" } ?? ""
        let by = freeze.companyWide.map { " by a company-wide freeze (\($0))" } ?? ""
        return GateResult(gate: .freeze, passed: false,
                          reason: "\(input.stage.name) is frozen \(freeze.from) to \(freeze.until)\(by)\(why)\(when)", until: end)
    }

    static func windowGate(_ input: PlanInput, calendar: MergeCalendar) -> GateResult {
        if input.stage.windows.isEmpty {
            return GateResult(gate: .window, passed: true, reason: "no merge windows (always open)")
        }
        if calendar.isInsideWindow(input.now) {
            return GateResult(gate: .window, passed: true, reason: "inside a merge window")
        }
        let next = calendar.nextOpening(after: input.now)
        let when = next.map { "; next opens \(PlannerText.time($0, now: input.now))" } ?? ""
        return GateResult(gate: .window, passed: false,
                          reason: "outside the merge windows of \(input.stage.name) (\(input.stage.timezone))\(when)", until: next)
    }
}
