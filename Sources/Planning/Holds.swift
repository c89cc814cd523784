import Foundation
import Manifests
import Policies

/// A version of one image that was rolled back from the stage: promobot does not propose it there again.
public struct Hold: Sendable, Hashable {
    /// The image, as the policy names it.
    public var image: String
    /// The version that was taken out.
    public var version: ImageVersion
    /// The change that took it out.
    public var rollback: HistoryEntry

    /// Memberwise.
    public init(image: String, version: ImageVersion, rollback: HistoryEntry) {
        self.image = image
        self.version = version
        self.rollback = rollback
    }
}

extension Planner {
    /// The holds on the target stage, from its history (oldest to newest).
    ///
    /// Version V of an image is *rolled back* when a change that is not a promotion by the bot replaced it
    /// with a version the stage ran before, or with a lower version. The hold lasts while the stage has not
    /// run V again since (a deliberate re-promotion lifts it); it stops mattering as soon as the upstream
    /// offers anything other than V. Only history within the horizon is seen.
    public static func holds(_ input: PlanInput) -> [Hold] {
        let images = input.policy.images
        let changes = input.targetHistory.reversed().map { change -> HistoryEntry in
            var restricted = change
            restricted.tags = change.tags.restricted(to: images)
            return restricted
        }
        var holds: [String: Hold] = [:]
        var ran: [String: Set<ImageVersion>] = [:]
        var previous: HistoryEntry?
        for change in changes {
            for (image, version) in change.tags.ordered(by: images) where holds[image]?.version == version {
                holds[image] = nil   // the stage runs it again since: lifted
            }
            if let before = previous, !change.byPromotion {
                for (image, old) in before.tags.ordered(by: images) {
                    guard let new = change.tags[image], new != old else { continue }
                    let ranBefore = ran[image, default: []].contains(new)
                    let lower = new.semanticVersion.flatMap { n in old.semanticVersion.map { n < $0 } } ?? false
                    if ranBefore || lower { holds[image] = Hold(image: image, version: old, rollback: change) }
                }
            }
            for (image, version) in change.tags.ordered(by: images) { ran[image, default: []].insert(version) }
            previous = change
        }
        return images.compactMap { holds[$0] }
    }

    /// Fails when the candidate proposes a version that was rolled back from the stage, naming the rollback.
    /// A promotion a person asked for (`promobot promote`) passes: that is how a hold is lifted on purpose.
    static func holdGate(_ input: PlanInput, candidate: ImageVersions, holds: [Hold]) -> GateResult {
        let held = holds.filter { hold in candidate[hold.image].map { covers(hold.version, $0) } ?? false }
        if let request = input.request {
            let lifted = held.isEmpty ? "" : " (lifts the hold on \(held.map { "\(PlannerText.shortImage($0.image)) \($0.version.display)" }.joined(separator: ", ")))"
            return GateResult(gate: .hold, passed: true, reason: "promotion requested by \(request.requestedBy)\(lifted)")
        }
        guard !held.isEmpty else {
            return GateResult(gate: .hold, passed: true, reason: "no candidate version was rolled back from \(input.stage.name)")
        }
        // One sentence per rollback, naming every image it took out.
        var byChange: [(change: HistoryEntry, holds: [Hold])] = []
        for hold in held {
            if let index = byChange.firstIndex(where: { $0.change == hold.rollback }) {
                byChange[index].holds.append(hold)
            } else {
                byChange.append((hold.rollback, [hold]))
            }
        }
        let reasons = byChange.map { change, holds in
            let versions = holds.map { "\(PlannerText.shortImage($0.image)) \($0.version.display)" }.joined(separator: ", ")
            return "\(versions) \(holds.count == 1 ? "was" : "were") rolled back from \(input.stage.name) in "
                + "\(PlannerText.shortSHA(change.commit)) by \(change.author), \(PlannerText.time(change.time, now: input.now)) (\"\(change.subject)\")"
        }
        return GateResult(gate: .hold, passed: false, reason: "held: " + reasons.joined(separator: "; "))
    }

    /// Whether a hold on `held` applies to `candidate`: the same tag when both have one, whatever the digests (a
    /// tag rolled back stays held when it is pinned again, or re-pushed as another build: `pin: digest` makes
    /// the candidate carry a digest the rolled-back text may not have had), else the same digest.
    static func covers(_ held: ImageVersion, _ candidate: ImageVersion) -> Bool {
        if let tag = held.tag, let other = candidate.tag { return tag == other }
        return held.digest != nil && held.digest == candidate.digest
    }
}
