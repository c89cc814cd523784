import Foundation

/// A merge request as GitLab returns it from list, get, create, update and merge.
///
/// List items (`MergeRequestBasic`) lack some fields (`userCanMerge`, `headPipeline`); those are
/// optional here. `detailedMergeStatus` and `hasConflicts` in lists may be stale: read the single
/// MR before acting on them. A value type: thread-safe.
public struct MergeRequest: Sendable, Hashable, Decodable {
    /// `opened`, `closed`, `locked` (transient, during merge) or `merged`.
    public enum State: String, Sendable, Hashable, Decodable, CaseIterable {
        case opened, closed, locked, merged
    }

    /// GitLab's `detailed_merge_status`. Open set: values unknown to this client are kept and
    /// count as "not mergeable".
    public struct DetailedMergeStatus: RawRepresentable, Sendable, Hashable, Decodable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let mergeable = DetailedMergeStatus(rawValue: "mergeable")
        public static let unchecked = DetailedMergeStatus(rawValue: "unchecked")
        public static let checking = DetailedMergeStatus(rawValue: "checking")
        public static let preparing = DetailedMergeStatus(rawValue: "preparing")
        public static let approvalsSyncing = DetailedMergeStatus(rawValue: "approvals_syncing")
        public static let ciMustPass = DetailedMergeStatus(rawValue: "ci_must_pass")
        public static let ciStillRunning = DetailedMergeStatus(rawValue: "ci_still_running")
        public static let commitsStatus = DetailedMergeStatus(rawValue: "commits_status")
        public static let conflict = DetailedMergeStatus(rawValue: "conflict")
        public static let discussionsNotResolved = DetailedMergeStatus(rawValue: "discussions_not_resolved")
        public static let draftStatus = DetailedMergeStatus(rawValue: "draft_status")
        public static let mergeRequestBlocked = DetailedMergeStatus(rawValue: "merge_request_blocked")
        public static let mergeTime = DetailedMergeStatus(rawValue: "merge_time")
        public static let needRebase = DetailedMergeStatus(rawValue: "need_rebase")
        public static let notApproved = DetailedMergeStatus(rawValue: "not_approved")
        public static let notOpen = DetailedMergeStatus(rawValue: "not_open")
        public static let requestedChanges = DetailedMergeStatus(rawValue: "requested_changes")

        /// Mergeability is still being computed; poll the MR again.
        public var isPending: Bool { [.unchecked, .checking, .preparing, .approvalsSyncing].contains(self) }
        /// GitLab would merge it now.
        public var isMergeable: Bool { self == .mergeable }
        public var description: String { rawValue }
    }

    /// Global id (not used in MR routes).
    public var id: Int
    /// Project-scoped number: the `!42` every MR route takes.
    public var iid: Int
    /// The target project.
    public var projectID: Int
    public var title: String
    /// Markdown description; `""` when `null`.
    public var description: String
    public var state: State
    public var sourceBranch: String
    public var targetBranch: String
    /// Head of the source branch as GitLab sees it (pin it when merging/approving); `""` when `null`.
    public var sha: String
    /// Set once merged (`nil` for fast-forward merges on some versions and before merge).
    public var mergeCommitSHA: String?
    /// Set once squash-merged.
    public var squashCommitSHA: String?
    public var labels: [String]
    public var webURL: String
    /// Mergeability; `.unchecked` when GitLab did not send it.
    public var detailedMergeStatus: DetailedMergeStatus
    public var hasConflicts: Bool
    /// Draft (`Draft:` title prefix); falls back to `work_in_progress` on older GitLab.
    public var draft: Bool
    /// Username of the author.
    public var authorUsername: String
    /// Usernames of the assignees and reviewers.
    public var assignees: [String]
    public var reviewers: [String]
    /// Auto-merge is scheduled.
    public var mergeWhenPipelineSucceeds: Bool
    /// GitLab will delete the source branch after merge (`force_remove_source_branch` or `should_remove_source_branch`).
    public var removesSourceBranch: Bool
    /// Will be squashed.
    public var squash: Bool
    /// The MR's head pipeline, on single-MR answers.
    public var headPipeline: GitLabPipeline?
    /// Shortcut for `headPipeline?.status`.
    public var headPipelineStatus: GitLabPipeline.Status? { headPipeline?.status }
    /// Last merge or rebase failure text.
    public var mergeError: String?
    /// Whether the token's user can merge (single-MR answers only).
    public var userCanMerge: Bool?
    public var createdAt: Date
    public var updatedAt: Date
    public var mergedAt: Date?
    public var closedAt: Date?

    /// Memberwise initialiser, for fakes and tests.
    public init(id: Int, iid: Int, projectID: Int, title: String, description: String = "", state: State, sourceBranch: String,
                targetBranch: String, sha: String, mergeCommitSHA: String? = nil, squashCommitSHA: String? = nil, labels: [String] = [],
                webURL: String = "", detailedMergeStatus: DetailedMergeStatus = .unchecked, hasConflicts: Bool = false, draft: Bool = false,
                authorUsername: String, assignees: [String] = [], reviewers: [String] = [], mergeWhenPipelineSucceeds: Bool = false,
                removesSourceBranch: Bool = false, squash: Bool = false, headPipeline: GitLabPipeline? = nil, mergeError: String? = nil,
                userCanMerge: Bool? = nil, createdAt: Date, updatedAt: Date? = nil, mergedAt: Date? = nil, closedAt: Date? = nil) {
        self.id = id; self.iid = iid; self.projectID = projectID; self.title = title; self.description = description
        self.state = state; self.sourceBranch = sourceBranch; self.targetBranch = targetBranch; self.sha = sha
        self.mergeCommitSHA = mergeCommitSHA; self.squashCommitSHA = squashCommitSHA; self.labels = labels; self.webURL = webURL
        self.detailedMergeStatus = detailedMergeStatus; self.hasConflicts = hasConflicts; self.draft = draft
        self.authorUsername = authorUsername; self.assignees = assignees; self.reviewers = reviewers
        self.mergeWhenPipelineSucceeds = mergeWhenPipelineSucceeds; self.removesSourceBranch = removesSourceBranch
        self.squash = squash; self.headPipeline = headPipeline; self.mergeError = mergeError; self.userCanMerge = userCanMerge
        self.createdAt = createdAt; self.updatedAt = updatedAt ?? createdAt; self.mergedAt = mergedAt; self.closedAt = closedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, iid, title, description, state, sha, labels, draft, author, assignees, reviewers, squash, user
        case projectID = "project_id", sourceBranch = "source_branch", targetBranch = "target_branch"
        case mergeCommitSHA = "merge_commit_sha", squashCommitSHA = "squash_commit_sha", webURL = "web_url"
        case detailedMergeStatus = "detailed_merge_status", hasConflicts = "has_conflicts", workInProgress = "work_in_progress"
        case mergeWhenPipelineSucceeds = "merge_when_pipeline_succeeds", forceRemoveSourceBranch = "force_remove_source_branch"
        case shouldRemoveSourceBranch = "should_remove_source_branch", headPipeline = "head_pipeline", mergeError = "merge_error"
        case createdAt = "created_at", updatedAt = "updated_at", mergedAt = "merged_at", closedAt = "closed_at"
    }
    private struct UserPermissions: Decodable { var can_merge: Bool? }

    /// Decodes GitLab's MR JSON (basic or full); `null` booleans read as `false`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id)
        iid = try c.decode(Int.self, forKey: .iid)
        projectID = try c.decode(Int.self, forKey: .projectID)
        title = try c.text(.title)
        description = try c.text(.description)
        state = try c.decode(State.self, forKey: .state)
        sourceBranch = try c.decode(String.self, forKey: .sourceBranch)
        targetBranch = try c.decode(String.self, forKey: .targetBranch)
        sha = try c.text(.sha)
        mergeCommitSHA = try c.decodeIfPresent(String.self, forKey: .mergeCommitSHA)
        squashCommitSHA = try c.decodeIfPresent(String.self, forKey: .squashCommitSHA)
        labels = try c.decodeIfPresent([String].self, forKey: .labels) ?? []
        webURL = try c.text(.webURL)
        detailedMergeStatus = try c.decodeIfPresent(DetailedMergeStatus.self, forKey: .detailedMergeStatus) ?? .unchecked
        hasConflicts = try c.flag(.hasConflicts)
        draft = try c.decodeIfPresent(Bool.self, forKey: .draft) ?? c.flag(.workInProgress)
        authorUsername = try c.decodeIfPresent(EmbeddedUser.self, forKey: .author)?.username ?? ""
        assignees = (try c.decodeIfPresent([EmbeddedUser].self, forKey: .assignees) ?? []).map(\.username)
        reviewers = (try c.decodeIfPresent([EmbeddedUser].self, forKey: .reviewers) ?? []).map(\.username)
        mergeWhenPipelineSucceeds = try c.flag(.mergeWhenPipelineSucceeds)
        removesSourceBranch = try c.flag(.forceRemoveSourceBranch) || c.flag(.shouldRemoveSourceBranch)
        squash = try c.flag(.squash)
        headPipeline = try c.decodeIfPresent(GitLabPipeline.self, forKey: .headPipeline)
        mergeError = try c.decodeIfPresent(String.self, forKey: .mergeError)
        userCanMerge = try c.decodeIfPresent(UserPermissions.self, forKey: .user)?.can_merge
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        updatedAt = try c.decodeIfPresent(Date.self, forKey: .updatedAt) ?? createdAt
        mergedAt = try c.decodeIfPresent(Date.self, forKey: .mergedAt)
        closedAt = try c.decodeIfPresent(Date.self, forKey: .closedAt)
    }
}
