/// How `GitLabClient.merge(_:iid:_:)` merges. A value type: thread-safe.
public struct MergeOptions: Sendable, Hashable {
    /// The source head the caller checked. GitLab refuses (409) if the branch moved since, so
    /// nothing unreviewed is merged; it also makes the request safe to repeat (see `docs/gitlab.md`).
    public var sha: String?
    /// Merge when the pipeline succeeds instead of now. Sends both `auto_merge=true` (GitLab ≥ 17.11)
    /// and the older `merge_when_pipeline_succeeds=true`.
    public var autoMerge: Bool
    /// Delete the source branch after merging; `nil` = the MR's setting.
    public var shouldRemoveSourceBranch: Bool?
    /// Squash; `nil` = the MR's setting.
    public var squash: Bool?
    /// Custom merge / squash commit messages; `nil` = GitLab's default.
    public var mergeCommitMessage: String?
    public var squashCommitMessage: String?

    /// - Parameters: see the properties.
    public init(sha: String?, autoMerge: Bool = false, shouldRemoveSourceBranch: Bool? = nil, squash: Bool? = nil,
                mergeCommitMessage: String? = nil, squashCommitMessage: String? = nil) {
        self.sha = sha; self.autoMerge = autoMerge; self.shouldRemoveSourceBranch = shouldRemoveSourceBranch
        self.squash = squash; self.mergeCommitMessage = mergeCommitMessage; self.squashCommitMessage = squashCommitMessage
    }
}
