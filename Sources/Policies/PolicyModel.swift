import Foundation

/// A validated promotion policy: one application, its images, and the stages they move through.
///
/// Produced only by `PolicyParser`; every field is already checked, and stage defaults
/// (repository, branch, `from`) are resolved, so the planner never re-validates.
public struct Policy: Sendable, Hashable {
    /// Unique across all policy files; `[a-z0-9-]+`.
    public var name: String
    /// The file this policy was read from, as given to the parser (used in MR text and messages).
    public var sourcePath: String
    /// Image names (repository without tag or digest), promoted together as one unit.
    public var images: [String]
    /// In file order. The first stage is written by CI and never promoted into.
    public var stages: [Stage]

    public init(name: String, sourcePath: String, images: [String], stages: [Stage]) {
        self.name = name
        self.sourcePath = sourcePath
        self.images = images
        self.stages = stages
    }

    /// The stage named `name`, if any.
    public func stage(named name: String) -> Stage? { stages.first { $0.name == name } }

    /// The stage `stage` promotes from, or nil for a first stage.
    public func upstream(of stage: Stage) -> Stage? { stage.from.flatMap { self.stage(named: $0) } }
}

/// One environment of a policy.
public struct Stage: Sendable, Hashable {
    public var name: String
    /// The upstream stage's name; nil for the first stage (CI writes it).
    public var from: String?
    /// GitLab project (path like `group/oms-deploy` or a numeric id), resolved from the policy default.
    public var repository: String
    /// Target branch, resolved from the policy default.
    public var branch: String
    /// Files or folders inside the repository, relative, without `..`.
    public var paths: [String]
    /// Checks run on this stage when it is the upstream of a promotion.
    public var health: [HealthCheck]
    /// How long the candidate must have been continuously in `from`.
    public var soak: PolicyDuration?
    public var merge: MergeMode
    /// GitLab approvals required before the bot merges (only with `merge: approved`).
    public var approvals: Int
    /// IANA time-zone identifier for windows and freezes; default "UTC".
    public var timezone: String
    /// Merges happen only inside one of these; empty means always.
    public var windows: [MergeWindow]
    public var freezes: [Freeze]
    /// Only tags matching this regex are promoted into the stage.
    public var tagPattern: String?
    /// Whether a lower semantic version than the stage runs may be promoted.
    public var allowDowngrade: Bool
    /// Which upstream state to promote when the upstream changes faster than the soak time.
    public var pick: PickStrategy
    public var labels: [String]
    public var reviewers: [String]
    public var assignees: [String]
    /// How the stage's rollback MRs merge, and whether promobot rolls the stage back by itself.
    public var rollback: RollbackSettings
    /// Whether the `image-exists` gate applies (`imageExists: false` turns it off for the stage, e.g. while a
    /// registry is being migrated). On by default; it only checks images of registries the config lists.
    public var imageExists: Bool = true
    /// Whether promotions into the stage write `image:tag@digest` (`pin: digest`) or the tag alone (the default).
    public var pin: PinMode = .none
    /// Where each setting that is not built in comes from (the stage, the policy's `defaults:`, the
    /// config's `stageDefaults:`), by key; company-wide freezes are under `freeze` only when the stage has no
    /// `freeze` of its own. For `validate --show-effective`.
    public var sources: [String: SettingSource] = [:]

    public init(
        name: String, from: String? = nil, repository: String, branch: String, paths: [String],
        health: [HealthCheck] = [], soak: PolicyDuration? = nil, merge: MergeMode = .manual, approvals: Int = 0,
        timezone: String = "UTC", windows: [MergeWindow] = [], freezes: [Freeze] = [], tagPattern: String? = nil,
        allowDowngrade: Bool = false, pick: PickStrategy = .latest, labels: [String] = [], reviewers: [String] = [],
        assignees: [String] = [], rollback: RollbackSettings = RollbackSettings()
    ) {
        self.name = name; self.from = from; self.repository = repository; self.branch = branch; self.paths = paths
        self.health = health; self.soak = soak; self.merge = merge; self.approvals = approvals
        self.timezone = timezone; self.windows = windows; self.freezes = freezes; self.tagPattern = tagPattern
        self.allowDowngrade = allowDowngrade; self.pick = pick; self.labels = labels; self.reviewers = reviewers
        self.assignees = assignees
        self.rollback = rollback
    }
}

/// A stage's `rollback:` block (or the policy's, which every stage inherits key by key).
///
/// A rollback skips soak, upstream health, version rules, merge windows, freezes and the emergency
/// stop: the way back must never be blocked by the rules that guard the way forward. Only how its MR
/// merges is configurable, and whether promobot rolls back by itself.
public struct RollbackSettings: Sendable, Hashable {
    /// How the rollback MR merges; `auto` (the default) merges as soon as GitLab says mergeable.
    public var merge: MergeMode
    /// Approvals required with `merge: approved` (at least 1 then); 0 otherwise.
    public var approvals: Int
    /// Whether promobot rolls the stage back by itself when its own health checks fail (confirmed)
    /// within `within` of a promotion the bot merged.
    public var auto: Bool
    /// How long after a promotion merged an automatic rollback may fire.
    public var within: PolicyDuration

    /// The window an automatic rollback watches when the policy names none.
    public static let defaultWithin = PolicyDuration(seconds: 3_600)

    public init(merge: MergeMode = .auto, approvals: Int = 0, auto: Bool = false, within: PolicyDuration = defaultWithin) {
        self.merge = merge
        self.approvals = approvals
        self.auto = auto
        self.within = within
    }
}

/// How the bot merges its MR into a stage.
public enum MergeMode: String, Sendable, Hashable, CaseIterable {
    /// Merge as soon as GitLab says mergeable (or set auto-merge while a pipeline runs).
    case auto
    /// Merge only when GitLab reports the required approvals, inside a window, with gates passing.
    case approved
    /// Never merge; people do.
    case manual
}

/// Which upstream state becomes the candidate.
public enum PickStrategy: String, Sendable, Hashable, CaseIterable {
    /// What the upstream runs now (waits for it to soak).
    case latest
    /// The newest upstream state that has soaked, even when newer ones exist.
    case newestSoaked = "newest-soaked"
}

/// A health check on a stage: gates promotions out of it (fail-closed: an error or timeout is `unknown`, which
/// does not pass) and, with `rollback.auto`, watches the stage itself after a promotion into it.
public enum HealthCheck: Sendable, Hashable {
    /// Argo CD application Healthy + Synced, running the candidate tags, last sync finished `settle` ago.
    case argocd(application: String, settle: PolicyDuration?)
    /// GET `url` answers `status`.
    case http(url: String, status: Int)
    /// Instant query whose scalar result must be below and/or above the bounds.
    case prometheus(query: String, below: Double?, above: Double?)
}

/// A duration written as `30m`, `2h`, `1d`, `1h30m`, `45s`.
public struct PolicyDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int
    public init(seconds: Int) { self.seconds = seconds }

    /// The longest duration a policy may set: one year. Longer soak or settle times are mistakes, and the
    /// bound keeps every later sum of dates and durations far from overflow.
    public static let maximum = PolicyDuration(seconds: 365 * 86_400)

    /// Why text is not a duration.
    public enum ParseError: Error, Sendable, Hashable {
        /// Not `1d2h30m15s`-style text.
        case malformed
        /// Well-formed but longer than ``PolicyDuration/maximum`` (or too large to count at all).
        case outOfRange
    }

    /// Parses `1d2h30m15s`-style text (units in descending order, each at most once). Nil when malformed,
    /// zero-length or out of range; ``parse(_:)`` says which.
    public init?(parsing text: String) {
        guard case let .success(duration) = Self.parse(text) else { return nil }
        self = duration
    }

    /// Parses `1d2h30m15s`-style text with overflow-checked arithmetic: no digit string can trap.
    public static func parse(_ text: String) -> Result<PolicyDuration, ParseError> {
        let units: [(Character, Int)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        var total = 0, digits = "", nextUnit = 0, sawUnit = false, tooLarge = false
        for ch in text {
            if ch.isASCII, ch.isNumber { digits.append(ch); continue }
            guard !digits.isEmpty, nextUnit < units.count,
                  let index = units[nextUnit...].firstIndex(where: { $0.0 == ch }) else { return .failure(.malformed) }
            if let value = Int(digits) {
                let (product, overflow1) = value.multipliedReportingOverflow(by: units[index].1)
                let (sum, overflow2) = total.addingReportingOverflow(product)
                if overflow1 || overflow2 { tooLarge = true } else { total = sum }
            } else {
                tooLarge = true  // More digits than an Int holds.
            }
            nextUnit = index + 1
            digits = ""
            sawUnit = true
        }
        guard digits.isEmpty, sawUnit else { return .failure(.malformed) }
        guard !tooLarge, total <= maximum.seconds else { return .failure(.outOfRange) }
        return .success(PolicyDuration(seconds: total))
    }

    public var timeInterval: TimeInterval { TimeInterval(seconds) }

    /// Canonical text, e.g. `1h30m`.
    public var description: String {
        if seconds == 0 { return "0s" }
        var rest = seconds, text = ""
        for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }

    public static func < (lhs: PolicyDuration, rhs: PolicyDuration) -> Bool { lhs.seconds < rhs.seconds }
}

/// Days of the week as written in policies (`mon`..`sun`).
public enum Weekday: String, Sendable, Hashable, CaseIterable, Comparable {
    case mon, tue, wed, thu, fri, sat, sun

    /// Foundation's `Calendar` weekday number (1 = Sunday).
    public var calendarWeekday: Int {
        switch self {
        case .sun: 1
        case .mon: 2
        case .tue: 3
        case .wed: 4
        case .thu: 5
        case .fri: 6
        case .sat: 7
        }
    }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A recurring merge window in the stage's time zone: `days` and `hours: "10:00-16:00"`.
public struct MergeWindow: Sendable, Hashable {
    public var days: Set<Weekday>
    /// Minutes after local midnight; `end` is exclusive. `end <= start` means the window crosses midnight.
    public var startMinute: Int
    public var endMinute: Int

    public init(days: Set<Weekday>, startMinute: Int, endMinute: Int) {
        self.days = days
        self.startMinute = startMinute
        self.endMinute = endMinute
    }
}

/// A calendar date (no time) in the stage's time zone.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int, month: Int, day: Int
    public init(year: Int, month: Int, day: Int) { self.year = year; self.month = month; self.day = day }
    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }
    public static func < (l: LocalDate, r: LocalDate) -> Bool { (l.year, l.month, l.day) < (r.year, r.month, r.day) }
}

/// No merges from the start of `from` until the end of `until` (inclusive, local dates).
public struct Freeze: Sendable, Hashable {
    public var from: LocalDate
    public var until: LocalDate
    public var reason: String?
    /// Where a company-wide freeze is declared (`promobot.yaml:12`); nil for the stage's own.
    public var companyWide: String?
    public init(from: LocalDate, until: LocalDate, reason: String? = nil, companyWide: String? = nil) {
        self.from = from; self.until = until; self.reason = reason; self.companyWide = companyWide
    }
}
