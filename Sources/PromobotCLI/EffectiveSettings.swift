import Foundation
import Policies

/// Every stage's effective settings and where each comes from, for `validate --show-effective` and
/// `plan --explain`: the answer to "why does prod need two approvals?" when settings are layered
/// (stage > policy `defaults:` > config `stageDefaults:` > built in, plus company-wide freezes).
enum EffectiveSettings {
    /// One block per stage that is promoted into (the first stage is written by CI: nothing to show).
    static func render(_ policies: [Policy]) -> String {
        var blocks: [String] = []
        for policy in policies {
            for stage in policy.stages where stage.from != nil {
                blocks.append(render(stage, of: policy))
            }
        }
        return blocks.isEmpty ? "no stages are promoted into: nothing to show\n" : blocks.joined(separator: "\n")
    }

    /// The block for one stage: `key  value  source` rows, aligned.
    static func render(_ stage: Stage, of policy: Policy) -> String {
        var rows: [(String, String, String)] = StageSetting.all.map { setting in
            (setting.key, setting.text(stage), stage.sources[setting.key]?.description ?? "built in")
        }
        for freeze in stage.freezes {
            guard let declared = freeze.companyWide else { continue }
            rows.append(("freeze", freeze.policyText, "\(declared) (company-wide freeze)"))
        }
        let keyWidth = rows.map(\.0.count).max() ?? 0
        let valueWidth = min(48, rows.map(\.1.count).max() ?? 0)
        let lines = rows.map { key, value, source in
            "  " + key.padding(toLength: keyWidth, withPad: " ", startingAt: 0) + "  "
                + value.padding(toLength: max(valueWidth, value.count), withPad: " ", startingAt: 0) + "  " + source
        }
        return "\(policy.name)/\(stage.name) (\(policy.sourcePath)):\n" + lines.joined(separator: "\n") + "\n"
    }
}
