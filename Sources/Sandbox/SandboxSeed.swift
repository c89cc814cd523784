import Foundation

/// What a seed file (`promobot sandbox --seed FILE.yaml`, docs/sandbox.md "Seed files") puts into a fresh
/// sandbox: users, projects (generated ones already expanded), Argo CD applications and Prometheus values.
///
/// Read by ``SandboxSeedParser``, applied by ``Sandbox/apply(_:tokens:)``. Holds no secret: a user's token is
/// named (an environment variable) or generated when the seed is applied. A value type; thread-safe.
public struct SandboxSeed: Sendable, Hashable {
    /// Where a user's token comes from; never the token itself.
    public enum TokenSource: Sendable, Hashable {
        /// Read from this environment variable when the sandbox starts (`tokenEnv:`).
        case environment(String)
        /// Generated at start and written to `DATA/tokens/<username>` (mode 0600); no `tokenEnv:`.
        case generated
    }

    /// A user with a role on every project.
    public struct User: Sendable, Hashable {
        /// Login name (GitLab's username rules: letters, digits, `_`, `-`, `.`).
        public var username: String
        /// Display name; nil for the capitalised username.
        public var name: String?
        /// Role on every project.
        public var role: SandboxRole
        /// Where the token comes from (never the token).
        public var token: TokenSource

        /// Creates a user whose token is generated unless `token` names a variable.
        public init(username: String, name: String? = nil, role: SandboxRole, token: TokenSource = .generated) {
            self.username = username
            self.name = name
            self.role = role
            self.token = token
        }
    }

    /// A protected branch and who may push to it (nil: no one; merges through MRs only).
    public struct ProtectedBranch: Sendable, Hashable {
        /// Branch name (an exact name; no wildcards).
        public var name: String
        /// The lowest role that may push; nil: no one.
        public var allowPush: SandboxRole?

        /// Creates a protection; `allowPush` nil lets no one push.
        public init(name: String, allowPush: SandboxRole?) {
            self.name = name
            self.allowPush = allowPush
        }
    }

    /// A project: its repository's first commit and its merge settings. Nil settings keep the sandbox's defaults.
    public struct Project: Sendable, Hashable {
        /// Full path, `group/name` (subgroups allowed).
        public var path: String
        /// The branch of the first commit and of `HEAD`.
        public var defaultBranch: String
        /// Path -> content of the initial commit on `defaultBranch` (a README when empty).
        public var files: [String: String]
        public var protectedBranches: [ProtectedBranch]
        /// Approvals each MR needs (GitLab `approvals_before_merge`); nil keeps 0.
        public var approvalsRequired: Int?
        /// Nil keeps `merge`.
        public var mergeMethod: SandboxMergeMethod?
        /// Nil keeps the sandbox's default (on).
        public var resetApprovalsOnPush: Bool?
        /// Nil keeps the sandbox's default (on).
        public var pipelineMustSucceed: Bool?

        /// Creates a project; nil settings keep the sandbox's defaults.
        public init(path: String, defaultBranch: String = "main", files: [String: String] = [:],
                    protectedBranches: [ProtectedBranch] = [], approvalsRequired: Int? = nil, mergeMethod: SandboxMergeMethod? = nil,
                    resetApprovalsOnPush: Bool? = nil, pipelineMustSucceed: Bool? = nil) {
            self.path = path
            self.defaultBranch = defaultBranch
            self.files = files
            self.protectedBranches = protectedBranches
            self.approvalsRequired = approvalsRequired
            self.mergeMethod = mergeMethod
            self.resetApprovalsOnPush = resetApprovalsOnPush
            self.pipelineMustSucceed = pipelineMustSucceed
        }
    }

    /// An Argo CD application; its last sync finished `syncedAgo` before the seed is applied.
    public struct ArgoApplication: Sendable, Hashable {
        /// `metadata.name`.
        public var name: String
        /// `status.health.status`: `Healthy`, `Progressing`, `Degraded`, `Suspended`, `Missing` or `Unknown`.
        public var health: String
        /// `status.sync.status`: `Synced`, `OutOfSync` or `Unknown`.
        public var sync: String
        /// `status.summary.images`.
        public var images: [String]
        /// Nil omits `operationState` (no sync has finished).
        public var syncedAgo: TimeInterval?
        /// A seeded project whose default-branch tip becomes `status.sync.revision`; nil omits the revision.
        /// It is also the application's source repository (`spec.source.repoURL`).
        public var project: String?
        /// The folder of `project` the application deploys (`spec.source.path`); nil means the root.
        public var path: String?

        /// Creates an application, by default healthy and synced with no finished sync.
        public init(name: String, health: String = "Healthy", sync: String = "Synced", images: [String] = [],
                    syncedAgo: TimeInterval? = nil, project: String? = nil, path: String? = nil) {
            self.path = path
            self.name = name
            self.health = health
            self.sync = sync
            self.images = images
            self.syncedAgo = syncedAgo
            self.project = project
        }
    }

    /// A Prometheus instant query and the value it returns (nil: an empty vector).
    public struct PrometheusValue: Sendable, Hashable {
        /// The PromQL text, matched exactly.
        public var query: String
        /// The sample's value; nil answers an empty vector.
        public var value: Double?

        /// Creates a query's answer.
        public init(query: String, value: Double?) {
            self.query = query
            self.value = value
        }
    }

    /// A repository of the sandbox's container registry and the tags pushed to it (each gets a manifest of its own).
    public struct RegistryImage: Sendable, Hashable {
        /// The repository path inside the registry (`oms/app`), as the image name after the registry host.
        public var repository: String
        /// Tags, in push order.
        public var tags: [String]

        /// Creates a repository with its tags.
        public init(repository: String, tags: [String]) {
            self.repository = repository
            self.tags = tags
        }
    }

    /// Users, in file order.
    public var users: [User]
    /// Images pushed to the sandbox's registry (`registry.images:`), in file order.
    public var registryImages: [RegistryImage] = []
    /// Whether the registry asks for tokens from `/jwt/auth` (`registry.tokenAuth: true`).
    public var registryTokenAuth = false
    /// Projects in file order, each generator's expanded where it stands.
    public var projects: [Project]
    /// Argo CD applications, in file order.
    public var argoApplications: [ArgoApplication]
    /// Prometheus answers, in file order.
    public var prometheus: [PrometheusValue]

    /// Creates a seed; an empty one seeds nothing.
    public init(users: [User] = [], projects: [Project] = [], argoApplications: [ArgoApplication] = [],
                prometheus: [PrometheusValue] = [], registryImages: [RegistryImage] = [], registryTokenAuth: Bool = false) {
        self.registryImages = registryImages
        self.registryTokenAuth = registryTokenAuth
        self.users = users
        self.projects = projects
        self.argoApplications = argoApplications
        self.prometheus = prometheus
    }
}
