import Foundation
import Manifests
import Policies

/// The upstream state chosen for promotion, and how long the upstream held it.
struct PlannerCandidate: Equatable {
    /// The policy's images as the upstream holds them (images the upstream lacks are absent).
    var tags: ImageVersions
    /// Lower bound of when the upstream started holding `tags` continuously.
    var since: Date
    /// When the upstream stopped holding it; nil while it still does.
    var heldUntil: Date?
    /// An upstream commit holding `tags`: the tip, or the newest commit of an older run.
    var commit: String

    /// The seconds the state was (or has been, up to `now`) held.
    func heldSeconds(now: Date) -> Int { Int(((heldUntil ?? now).timeIntervalSince(since)).rounded(.down)) }
}

extension Planner {
    /// A run of upstream states with equal tags, newest first.
    struct Run: Equatable {
        var tags: ImageVersions
        var start: Date
        /// nil for the run still held now.
        var end: Date?
        var commit: String
    }

    /// Splits the upstream's history into runs of equal state, newest first, starting with the current state.
    ///
    /// How far back a run reaches, fail-closed:
    /// - A run starts at the time of its oldest history entry. An entry at or before the horizon
    ///   (the state at the horizon) therefore makes the run reach back at least to the horizon.
    /// - With no history at all nothing changed since the horizon: the current state started at the latest at the horizon.
    /// - When the newest history entry does not match the current tip (the tip moved after the log was
    ///   read), the current state counts as just appeared (`since = now`).
    static func runs(_ input: PlanInput) -> [Run] {
        let images = input.policy.images
        let history = input.history
        let now = input.now
        var current = Run(tags: input.upstream.tags.restricted(to: images),
                          start: history.isEmpty ? min(input.historyHorizon, now) : now,
                          end: nil, commit: input.upstream.commit)
        var index = 0
        while index < history.count, history[index].tags.restricted(to: images) == current.tags {
            current.start = min(current.start, history[index].time)
            index += 1
        }
        var runs = [current]
        while index < history.count {
            let tags = history[index].tags.restricted(to: images)
            var run = Run(tags: tags, start: min(history[index].time, now), end: runs[runs.count - 1].start,
                          commit: history[index].commit)
            index += 1
            while index < history.count, history[index].tags.restricted(to: images) == tags {
                run.start = min(run.start, history[index].time)
                index += 1
            }
            runs.append(run)
        }
        return runs
    }

    /// Picks the candidate per `stage.pick`.
    ///
    /// - `latest`: what the upstream holds now.
    /// - `newest-soaked`: walking newest to oldest, the first run that held for at least `soak`
    ///   (up to now for the current one). The walk stops at a run equal to what the target runs (nothing
    ///   newer soaked, so the stage is up to date), and falls back to the current state (which then fails
    ///   the soak gate) when no run soaked. Without a `soak` it is the same as `latest`.
    ///
    /// A promotion a person pinned (`promobot promote --to`) is that state, with the run the upstream
    /// history shows for it (so an older state that soaked before passes the soak gate); a pinned state
    /// the history does not show counts as just appeared.
    static func chooseCandidate(_ input: PlanInput) -> PlannerCandidate? {
        let runs = runs(input)
        func candidate(_ run: Run) -> PlannerCandidate {
            PlannerCandidate(tags: run.tags, since: run.start, heldUntil: run.end, commit: run.commit)
        }
        if let pinned = input.request?.pinned, !pinned.isEmpty {
            if let run = runs.first(where: { $0.tags == pinned }) { return candidate(run) }
            return PlannerCandidate(tags: pinned, since: input.now, heldUntil: nil, commit: input.upstream.commit)
        }
        guard let current = runs.first, !current.tags.isEmpty else { return nil }
        guard input.stage.pick == .newestSoaked, let soak = input.stage.soak else { return candidate(current) }
        let target = input.target.tags.restricted(to: input.policy.images)
        for run in runs where !run.tags.isEmpty {
            if run.tags.isHeld(by: target) { return candidate(run) }
            let held = (run.end ?? input.now).timeIntervalSince(run.start)
            if held >= soak.timeInterval { return candidate(run) }
        }
        return candidate(current)
    }
}
