import Foundation
import Manifests
import Policies

// MARK: - Registries: the image-exists gate and `pin: digest`

extension Planner {
    /// The candidate as the stage will run it. With `pin: digest`, each image gets a digest, from the first
    /// source that has one:
    /// 1. the upstream's own pin (CI wrote `app:1.5.0@sha256:…`): exactly what the upstream runs;
    /// 2. the target's pin when it already runs the same tag: a tag that moved since is not re-pinned behind
    ///    anyone's back (and a stage that runs what the upstream offers stays up to date);
    /// 3. what the registry resolves the tag to now.
    /// Without a source (no registry configured, or it could not be asked) the image stays unpinned, and the
    /// image-exists gate says why that blocks. Without `pin: digest`, the candidate is what the upstream holds.
    static func pinned(_ candidate: PlannerCandidate, _ input: PlanInput) -> PlannerCandidate {
        guard input.stage.pin == .digest else { return candidate }
        var result = candidate
        for (image, version) in candidate.tags.ordered(by: input.policy.images) where version.digest == nil {
            guard let tag = version.tag else { continue }
            if let running = input.target.tags[image], running.tag == tag, let digest = running.digest {
                result.tags[image] = ImageVersion(tag: tag, digest: digest)
            } else if let digest = lookup(input, image: image, tag: tag)?.digest {
                result.tags[image] = ImageVersion(tag: tag, digest: digest)
            }
        }
        return result
    }

    /// The registry's answer for `image` at `tag`, if the engine asked.
    static func lookup(_ input: PlanInput, image: String, tag: String?) -> RegistryLookup? {
        input.registry?.first { $0.image == image && $0.version.tag == tag }
    }

    /// Passes when every candidate image of a configured registry exists there (and still points at the digest the
    /// upstream pinned); images of other registries are not checked and do not block. Unknown (unreachable,
    /// denied) blocks: the gate is fail-closed, like health. Nil when the engine did not ask (`registry` nil).
    ///
    /// `pin: digest` also needs a digest for every image (from the upstream, the target or the registry); with
    /// `imageExists: false` that is all the gate checks.
    static func imageExistsGate(_ input: PlanInput, candidate: ImageVersions) -> GateResult? {
        guard input.registry != nil else { return nil }
        let pinning = input.stage.pin == .digest
        let upstream = upstreamName(input)
        var problems: [String] = []
        var found: [String] = []
        var unconfigured: [String] = []
        for (image, version) in candidate.ordered(by: input.policy.images) {
            let asked = lookup(input, image: image, tag: version.tag)
            let reference = image + (version.tag.map { ":\($0)" } ?? "@\(version.digest ?? "")")
            if pinning && version.digest == nil {
                let why = switch asked?.outcome {
                case .notConfigured?: "no registry configured for \(asked?.host ?? image) and \(upstream) pins no digest"
                case let .notFound(code)?: "not found (\(code))"
                case let .unknown(reason)?: reason
                default: "the registry was not asked"
                }
                problems.append("\(reference) cannot be pinned (pin: digest): \(why)")
                continue
            }
            guard input.stage.imageExists else { continue }
            switch asked?.outcome {
            case let .found(digest)?:
                if let pin = input.upstream.tags[image]?.digest, pin != digest {
                    problems.append("tag moved: \(reference) now points at \(short(digest)), but \(upstream) runs \(short(pin)) (re-pushed after it was tested?); promote a new tag, or pin \(upstream) again")
                } else if pinning, let mr = input.mergeRequest, let proposed = mr.marker?.candidate[image], proposed.tag == version.tag,
                          let pin = proposed.digest, pin != digest {
                    // The open MR pins what the tag pointed at when it was built; rebuilding it onto the new digest
                    // would swap the build under its reviewers.
                    problems.append("tag moved: \(reference) now points at \(short(digest)), but !\(mr.iid) pins \(short(pin)) (re-pushed since the MR was opened?); close !\(mr.iid) to promote the new build")
                } else {
                    found.append(PlannerText.shortImage(image))
                }
            case let .notFound(code)?:
                problems.append("\(reference) not found (\(code))")
            case let .unknown(reason)?:
                problems.append("\(reference) could not be checked (\(reason)); fail-closed until the registry answers")
            case .notConfigured?:
                if let asked, !unconfigured.contains(asked.host) { unconfigured.append(asked.host) }
            case nil:
                problems.append("\(reference) was not looked up in its registry")
            }
        }
        if !problems.isEmpty {
            return GateResult(gate: .imageExists, passed: false, reason: problems.joined(separator: "; "))
        }
        if !input.stage.imageExists {
            return GateResult(gate: .imageExists, passed: true,
                              reason: "not checked: imageExists is off for \(input.stage.name)\(pinning ? "; digests pinned" : "")", checked: false)
        }
        let notChecked = unconfigured.isEmpty ? "" : "not checked (no registry configured for \(unconfigured.joined(separator: ", ")))"
        if found.isEmpty {
            return GateResult(gate: .imageExists, passed: true, reason: notChecked.isEmpty ? "no image to check" : notChecked, checked: false)
        }
        return GateResult(gate: .imageExists, passed: true,
                          reason: "\(found.joined(separator: ", ")) found in the registry\(pinning ? " (digests pinned)" : "")"
                              + (notChecked.isEmpty ? "" : "; others \(notChecked)"))
    }

    /// `sha256:0123456789ab` (12 hex digits), for messages.
    static func short(_ digest: String) -> String {
        ImageVersion(tag: nil, digest: digest).display.replacingOccurrences(of: "@", with: "")
    }
}
