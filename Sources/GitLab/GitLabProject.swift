import Foundation

/// The project fields the bot uses (`GET /projects/:id`). A value type: thread-safe.
public struct GitLabProject: Sendable, Hashable, Decodable {
    /// How the project merges: GitLab's `merge_method`.
    public struct MergeMethod: RawRepresentable, Sendable, Hashable, Decodable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// A merge commit every time.
        public static let merge = MergeMethod(rawValue: "merge")
        /// Merge commit, but only when the source is rebased on the target (semi-linear).
        public static let rebaseMerge = MergeMethod(rawValue: "rebase_merge")
        /// Fast-forward only: the source must be rebased first (`need_rebase`).
        public static let fastForward = MergeMethod(rawValue: "ff")
        public var description: String { rawValue }
    }

    /// Numeric project id.
    public var id: Int
    /// Short name.
    public var name: String
    /// Full path, e.g. `group/sub/deploy-repo`.
    public var pathWithNamespace: String
    /// The default branch; `nil` for an empty repository.
    public var defaultBranch: String?
    /// HTTPS clone URL (`http_url_to_repo`).
    public var httpURLToRepo: String
    /// SSH clone URL (`ssh_url_to_repo`, e.g. `git@gitlab.example.com:group/deploy.git`); nil when not sent.
    public var sshURLToRepo: String?
    /// Project page.
    public var webURL: String
    /// How merges are done; `.merge` when GitLab did not say.
    public var mergeMethod: MergeMethod
    /// `never`, `always`, `default_on`, `default_off`; `""` when not sent.
    public var squashOption: String
    /// Archived projects refuse writes.
    public var archived: Bool
    /// True when the repository has no commits.
    public var emptyRepo: Bool
    /// Merges need a successful pipeline.
    public var onlyAllowMergeIfPipelineSucceeds: Bool
    /// Merges need every thread resolved.
    public var onlyAllowMergeIfAllDiscussionsAreResolved: Bool
    /// Source branches are removed after merge by default.
    public var removeSourceBranchAfterMerge: Bool
    /// The token user's access level (10 guest … 50 owner), project or group, whichever is higher; `nil` if not sent.
    public var accessLevel: Int?

    /// Memberwise initialiser, for fakes and tests.
    public init(id: Int, name: String, pathWithNamespace: String, defaultBranch: String?, httpURLToRepo: String, webURL: String,
                mergeMethod: MergeMethod = .merge, squashOption: String = "", archived: Bool = false, emptyRepo: Bool = false,
                onlyAllowMergeIfPipelineSucceeds: Bool = false, onlyAllowMergeIfAllDiscussionsAreResolved: Bool = false,
                removeSourceBranchAfterMerge: Bool = false, accessLevel: Int? = nil, sshURLToRepo: String? = nil) {
        self.sshURLToRepo = sshURLToRepo
        self.id = id; self.name = name; self.pathWithNamespace = pathWithNamespace; self.defaultBranch = defaultBranch
        self.httpURLToRepo = httpURLToRepo; self.webURL = webURL; self.mergeMethod = mergeMethod; self.squashOption = squashOption
        self.archived = archived; self.emptyRepo = emptyRepo; self.onlyAllowMergeIfPipelineSucceeds = onlyAllowMergeIfPipelineSucceeds
        self.onlyAllowMergeIfAllDiscussionsAreResolved = onlyAllowMergeIfAllDiscussionsAreResolved
        self.removeSourceBranchAfterMerge = removeSourceBranchAfterMerge; self.accessLevel = accessLevel
    }

    enum CodingKeys: String, CodingKey {
        case id, name, archived, permissions
        case pathWithNamespace = "path_with_namespace", defaultBranch = "default_branch", httpURLToRepo = "http_url_to_repo"
        case sshURLToRepo = "ssh_url_to_repo"
        case webURL = "web_url", mergeMethod = "merge_method", squashOption = "squash_option", emptyRepo = "empty_repo"
        case onlyAllowMergeIfPipelineSucceeds = "only_allow_merge_if_pipeline_succeeds"
        case onlyAllowMergeIfAllDiscussionsAreResolved = "only_allow_merge_if_all_discussions_are_resolved"
        case removeSourceBranchAfterMerge = "remove_source_branch_after_merge"
    }

    private struct Permissions: Decodable {
        struct Access: Decodable { var access_level: Int? }
        var project_access: Access?
        var group_access: Access?
    }

    /// Decodes GitLab's project JSON; `null` booleans read as `false`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id)
        name = try c.text(.name)
        pathWithNamespace = try c.decode(String.self, forKey: .pathWithNamespace)
        defaultBranch = try c.decodeIfPresent(String.self, forKey: .defaultBranch)
        httpURLToRepo = try c.text(.httpURLToRepo)
        sshURLToRepo = try? c.decodeIfPresent(String.self, forKey: .sshURLToRepo)
        webURL = try c.text(.webURL)
        mergeMethod = try c.decodeIfPresent(MergeMethod.self, forKey: .mergeMethod) ?? .merge
        squashOption = try c.text(.squashOption)
        archived = try c.flag(.archived)
        emptyRepo = try c.flag(.emptyRepo)
        onlyAllowMergeIfPipelineSucceeds = try c.flag(.onlyAllowMergeIfPipelineSucceeds)
        onlyAllowMergeIfAllDiscussionsAreResolved = try c.flag(.onlyAllowMergeIfAllDiscussionsAreResolved)
        removeSourceBranchAfterMerge = try c.flag(.removeSourceBranchAfterMerge)
        let permissions = try? c.decodeIfPresent(Permissions.self, forKey: .permissions)
        let levels = [permissions?.project_access?.access_level, permissions?.group_access?.access_level].compactMap { $0 }
        accessLevel = levels.max()
    }
}
