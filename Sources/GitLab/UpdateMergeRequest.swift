/// What `GitLabClient.updateMergeRequest(_:iid:_:)` changes; `nil` fields are left alone.
/// A value type: thread-safe.
public struct UpdateMergeRequest: Sendable, Hashable {
    /// `state_event`.
    public enum StateEvent: String, Sendable, Hashable {
        case close, reopen
    }

    /// New title (also how draft is toggled: the `Draft: ` prefix).
    public var title: String?
    public var description: String?
    /// Replaces all labels; `[]` clears them.
    public var labels: [String]?
    /// Replaces the assignees / reviewers; `[]` clears them.
    public var assignees: [UserRef]?
    public var reviewers: [UserRef]?
    public var targetBranch: String?
    public var stateEvent: StateEvent?

    /// - Parameters: see the properties; all default to "unchanged".
    public init(title: String? = nil, description: String? = nil, labels: [String]? = nil, assignees: [UserRef]? = nil,
                reviewers: [UserRef]? = nil, targetBranch: String? = nil, stateEvent: StateEvent? = nil) {
        self.title = title; self.description = description; self.labels = labels; self.assignees = assignees
        self.reviewers = reviewers; self.targetBranch = targetBranch; self.stateEvent = stateEvent
    }

    /// True when nothing would change (the client then just reads the MR: GitLab answers 400 to an empty update).
    public var isEmpty: Bool {
        title == nil && description == nil && labels == nil && assignees == nil && reviewers == nil && targetBranch == nil && stateEvent == nil
    }
}
