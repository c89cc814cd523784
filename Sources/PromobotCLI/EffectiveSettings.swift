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
        var rows: [(String, String, String)] = StageDefaults.keys.map { key in
            (key, value(of: key, in: stage), stage.sources[key]?.description ?? "built in")
        }
        for freeze in stage.freezes {
            guard let declared = freeze.companyWide else { continue }
            rows.append(("freeze", describe(freeze), "\(declared) (company-wide freeze)"))
        }
        let keyWidth = rows.map(\.0.count).max() ?? 0
        let valueWidth = min(48, rows.map(\.1.count).max() ?? 0)
        let lines = rows.map { key, value, source in
            "  " + key.padding(toLength: keyWidth, withPad: " ", startingAt: 0) + "  "
                + value.padding(toLength: max(valueWidth, value.count), withPad: " ", startingAt: 0) + "  " + source
        }
        return "\(policy.name)/\(stage.name) (\(policy.sourcePath)):\n" + lines.joined(separator: "\n") + "\n"
    }

    /// The value `key` gives the stage, in the words of a policy file.
    static func value(of key: String, in stage: Stage) -> String {
        func list(_ items: [String], empty: String = "none") -> String { items.isEmpty ? empty : items.joined(separator: ", ") }
        switch key {
        case "health": return list(stage.health.map(describe))
        case "soak": return stage.soak?.description ?? "none"
        case "merge": return stage.merge.rawValue
        case "approvals": return String(stage.approvals)
        case "timezone": return stage.timezone
        case "windows": return list(stage.windows.map(describe), empty: "always open")
        case "freeze": return list(stage.freezes.filter { $0.companyWide == nil }.map(describe))
        case "tags": return stage.tagPattern ?? "any"
        case "downgrade": return String(stage.allowDowngrade)
        case "pick": return stage.pick.rawValue
        case "labels": return list(stage.labels)
        case "reviewers": return list(stage.reviewers)
        case "assignees": return list(stage.assignees)
        case "imageExists": return String(stage.imageExists)
        case "pin": return stage.pin.rawValue
        default: return "?"
        }
    }

    static func describe(_ check: HealthCheck) -> String {
        switch check {
        case let .argocd(application, settle): "argocd \(application)" + (settle.map { " (settle \($0))" } ?? "")
        case let .http(url, status): "http \(url) -> \(status)"
        case let .prometheus(query, below, above):
            "prometheus \(query)" + (below.map { " < \($0)" } ?? "") + (above.map { " > \($0)" } ?? "")
        }
    }

    static func describe(_ window: MergeWindow) -> String {
        let days = Weekday.allCases.filter(window.days.contains)
        let dayText = days.count == Weekday.allCases.count ? "every day" : days.map(\.rawValue).joined(separator: ",")
        func clock(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }
        return "\(dayText) \(clock(window.startMinute))-\(clock(window.endMinute))"
    }

    static func describe(_ freeze: Freeze) -> String {
        "\(freeze.from)..\(freeze.until)" + (freeze.reason.map { " (\($0))" } ?? "")
    }
}
