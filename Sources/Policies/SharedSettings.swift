import Foundation

/// Where one effective setting of a stage comes from: what `validate --show-effective` prints next to
/// each value, so "why does prod need two approvals?" has a file and a line for an answer.
public enum SettingSource: Sendable, Hashable, CustomStringConvertible {
    /// Written in the stage itself.
    case stage(path: String, line: Int)
    /// The policy's `defaults:` block.
    case policyDefaults(path: String, line: Int)
    /// The config file's `stageDefaults:` entry for the stage's name.
    case stageDefaults(path: String, line: Int, stage: String)
    /// The config file's company-wide `freezes:`.
    case companyFreeze(path: String, line: Int)

    /// The line it is written on.
    public var line: Int? {
        switch self {
        case let .stage(_, line), let .policyDefaults(_, line), let .stageDefaults(_, line, _), let .companyFreeze(_, line): line
        }
    }

    public var description: String {
        switch self {
        case let .stage(path, line): "\(path):\(line) (stage)"
        case let .policyDefaults(path, line): "\(path):\(line) (policy defaults)"
        case let .stageDefaults(path, line, stage): "\(path):\(line) (stageDefaults.\(stage))"
        case let .companyFreeze(path, line): "\(path):\(line) (company-wide freezes)"
        }
    }
}

/// Stage settings written once for many stages: a policy's `defaults:` (every stage of the policy) or one
/// entry of the config's `stageDefaults:` (every stage of that name, in every policy).
///
/// Precedence, key by key: the stage's own key, then the policy's `defaults:`, then the config's
/// `stageDefaults:`, then the built-in default. Whole keys are replaced, never merged (a stage that lists
/// `windows` gets exactly its own windows). `approvals` from defaults applies only where the effective
/// `merge` is `approved`.
public struct StageDefaults: Sendable, Hashable {
    /// The stage keys a defaults block may set (`StageSetting.all`).
    public static let keys = StageSetting.all.map(\.key)

    /// The values, on an otherwise built-in stage.
    var values: Stage
    /// The keys this block sets, each with where it is written.
    public var sources: [String: SettingSource]
    /// The line of the block's own key (`defaults:`, or the stage name under `stageDefaults:`).
    public var line = 0

    init(values: Stage, sources: [String: SettingSource]) {
        self.values = values
        self.sources = sources
    }

    /// Sets every key of this block on `stage` (replacing what it had) and records where each came from.
    func apply(to stage: inout Stage) {
        for setting in StageSetting.all {
            guard let source = sources[setting.key] else { continue }
            setting.copy(values, &stage)
            stage.sources[setting.key] = source
        }
        Self.normalizeApprovals(&stage)
    }

    /// Approvals mean something only with `merge: approved` (then at least 1): layered defaults may set
    /// the two keys in different places.
    static func normalizeApprovals(_ stage: inout Stage) {
        if stage.merge != .approved {
            stage.approvals = 0
            stage.sources["approvals"] = nil
        } else if stage.approvals < 1 {
            stage.approvals = 1
        }
    }
}

/// A freeze declared once in the config file for many stages (`freezes:` in `promobot.yaml`): it applies in
/// addition to each stage's own `freeze` list. Rollbacks are never blocked by it, like every freeze.
public struct CompanyFreeze: Sendable, Hashable {
    public var freeze: Freeze
    /// Stage names it applies to; nil means every stage.
    public var stages: [String]?
    /// Policy names it applies to; nil means every policy.
    public var policies: [String]?
    /// Where it is written.
    public var source: SettingSource

    public init(freeze: Freeze, stages: [String]? = nil, policies: [String]? = nil, source: SettingSource) {
        self.freeze = freeze
        self.stages = stages
        self.policies = policies
        self.source = source
    }

    /// Whether it applies to `stage` of the policy named `policy`.
    public func applies(toStage stage: String, policy: String) -> Bool {
        (stages?.contains(stage) ?? true) && (policies?.contains(policy) ?? true)
    }
}

/// What the config file shares with every policy file: stage defaults by stage name and company-wide
/// freezes. Empty without a config file.
public struct SharedSettings: Sendable, Hashable {
    /// `stageDefaults:`, by stage name.
    public var stageDefaults: [String: StageDefaults]
    /// `freezes:`.
    public var freezes: [CompanyFreeze]

    public init(stageDefaults: [String: StageDefaults] = [:], freezes: [CompanyFreeze] = []) {
        self.stageDefaults = stageDefaults
        self.freezes = freezes
    }

    public static let none = SharedSettings()
}
