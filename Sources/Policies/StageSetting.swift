import Foundation

/// One stage setting that `defaults:` and `stageDefaults:` may set: its key in a policy file, how it is
/// copied from a defaults block onto a stage, and how its value reads back in the words of a policy file.
///
/// The one table of these keys: the parsers accept exactly `StageSetting.all`'s keys in a defaults block,
/// `StageDefaults.apply` copies through it, and `validate --show-effective` prints through it, so a new key
/// added here is parsed, layered and shown alike.
public struct StageSetting: Sendable {
    /// The key as written in a stage or a defaults block.
    public let key: String
    /// Sets this setting's field(s) of the second stage to the first's.
    let copy: @Sendable (Stage, inout Stage) -> Void
    /// The stage's value, as a policy file would say it (`none`, `always open`, `1h`, …).
    public let text: @Sendable (Stage) -> String

    init<Value>(_ key: String, _ field: WritableKeyPath<Stage, Value> & Sendable, text: @escaping @Sendable (Value) -> String) {
        self.key = key
        self.copy = { source, stage in stage[keyPath: field] = source[keyPath: field] }
        self.text = { stage in text(stage[keyPath: field]) }
    }

    /// Every key a defaults block may set, in the order `validate --show-effective` prints them: how a stage
    /// is promoted into, not where it lives (`name`, `from`, `repository`, `branch`, `paths`) nor its
    /// `rollback` (the policy's own `rollback:` block already applies to every stage).
    public static let all: [StageSetting] = [
        StageSetting("health", \.health) { list($0.map(\.policyText)) },
        StageSetting("soak", \.soak) { $0?.description ?? "none" },
        StageSetting("merge", \.merge) { $0.rawValue },
        StageSetting("approvals", \.approvals) { String($0) },
        StageSetting("timezone", \.timezone) { $0 },
        StageSetting("windows", \.windows) { list($0.map(\.policyText), empty: "always open") },
        // Company-wide freezes are added to each stage's own; they are shown apart, with their own source.
        StageSetting("freeze", \.freezes) { list($0.filter { $0.companyWide == nil }.map(\.policyText)) },
        StageSetting("tags", \.tagPattern) { $0 ?? "any" },
        StageSetting("downgrade", \.allowDowngrade) { String($0) },
        StageSetting("pick", \.pick) { $0.rawValue },
        StageSetting("labels", \.labels) { list($0) },
        StageSetting("reviewers", \.reviewers) { list($0) },
        StageSetting("assignees", \.assignees) { list($0) },
        StageSetting("imageExists", \.imageExists) { String($0) },
        StageSetting("pin", \.pin) { $0.rawValue },
    ]

    private static func list(_ items: [String], empty: String = "none") -> String {
        items.isEmpty ? empty : items.joined(separator: ", ")
    }
}

// MARK: - Values in the words of a policy file

extension HealthCheck {
    /// `argocd oms-dev (settle 2m)`, `http https://… -> 200`, `prometheus <query> < 0.01`.
    public var policyText: String {
        switch self {
        case let .argocd(application, settle): "argocd \(application)" + (settle.map { " (settle \($0))" } ?? "")
        case let .http(url, status): "http \(url) -> \(status)"
        case let .prometheus(query, below, above):
            "prometheus \(query)" + (below.map { " < \($0)" } ?? "") + (above.map { " > \($0)" } ?? "")
        }
    }
}

extension MergeWindow {
    /// `mon,tue,wed 09:00-16:00`, or `every day 22:00-02:00`.
    public var policyText: String {
        let listed = Weekday.allCases.filter(days.contains)
        let dayText = listed.count == Weekday.allCases.count ? "every day" : listed.map(\.rawValue).joined(separator: ",")
        func clock(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }
        return "\(dayText) \(clock(startMinute))-\(clock(endMinute))"
    }
}

extension Freeze {
    /// `2026-12-20..2027-01-04 (year-end)`.
    public var policyText: String {
        "\(from)..\(until)" + (reason.map { " (\($0))" } ?? "")
    }
}
