/// What `GitLabClient.createMergeRequest(_:_:)` sends. A value type: thread-safe.
public struct CreateMergeRequest: Sendable, Hashable {
    public var title: String
    public var description: String
    public var sourceBranch: String
    public var targetBranch: String
    /// Created on the project when unknown.
    public var labels: [String]
    /// By id or username (usernames are resolved first).
    public var assignees: [UserRef]
    public var reviewers: [UserRef]
    /// Delete the source branch after merge (`remove_source_branch`); `nil` = project default.
    public var removeSourceBranch: Bool?
    /// Squash on merge; `nil` = project default.
    public var squash: Bool?

    /// - Parameters: see the properties.
    public init(title: String, description: String = "", sourceBranch: String, targetBranch: String, labels: [String] = [],
                assignees: [UserRef] = [], reviewers: [UserRef] = [], removeSourceBranch: Bool? = true, squash: Bool? = nil) {
        self.title = title; self.description = description; self.sourceBranch = sourceBranch; self.targetBranch = targetBranch
        self.labels = labels; self.assignees = assignees; self.reviewers = reviewers
        self.removeSourceBranch = removeSourceBranch; self.squash = squash
    }
}
