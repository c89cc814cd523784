/// A state GitLab reports as a string: typed for the planner, open to values GitLab adds later.
public protocol GitLabState: RawRepresentable, Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral
where RawValue == String, StringLiteralType == String {
    init(rawValue: String)
}

extension GitLabState {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
}

/// GitLab's `detailed_merge_status` of an MR, as the planner reads it.
///
/// A struct over the raw value rather than a closed enum: GitLab adds statuses over time, and an
/// unknown one must reach the planner (which waits on it, naming it) instead of failing to decode.
public struct MergeStatus: GitLabState {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let mergeable: MergeStatus = "mergeable"
    public static let conflict: MergeStatus = "conflict"
    public static let needRebase: MergeStatus = "need_rebase"
    public static let notApproved: MergeStatus = "not_approved"
    public static let notOpen: MergeStatus = "not_open"
    public static let ciStillRunning: MergeStatus = "ci_still_running"
    public static let ciMustPass: MergeStatus = "ci_must_pass"
    public static let draft: MergeStatus = "draft_status"
    public static let discussionsNotResolved: MergeStatus = "discussions_not_resolved"
    public static let requestedChanges: MergeStatus = "requested_changes"
    public static let mergeTime: MergeStatus = "merge_time"

    /// GitLab has not finished computing mergeability yet (it does so asynchronously after a push).
    public var isPending: Bool { ["unchecked", "checking", "preparing", "approvals_syncing"].contains(rawValue) }

    /// The branch must be rebuilt before GitLab can merge it.
    public var needsRebuild: Bool { self == .conflict || self == .needRebase }
}

/// The status of an MR's head pipeline (`running`, `success`, `failed`, …), as the planner reads it.
public struct PipelineStatus: GitLabState {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let success: PipelineStatus = "success"
}
