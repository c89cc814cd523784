import Foundation

/// The global configuration (`promobot.yaml`): where GitLab, Argo CD and Prometheus live, how to
/// find their tokens, git identity, and the emergency stop.
///
/// Produced by `ConfigParser` or `PromobotConfig.default(environment:)`. Never holds a secret,
/// only environment variable names and file paths. A value type, safe to share across threads.
public struct PromobotConfig: Sendable, Hashable {
    /// GitLab: `url` defaults to `$CI_SERVER_URL`, the token to `$GITLAB_TOKEN`.
    public var gitlab: ServiceEndpoint
    /// Argo CD, needed by `argocd` health checks; nil when not configured.
    public var argocd: ServiceEndpoint?
    /// Prometheus, needed by `prometheus` health checks; nil when not configured.
    public var prometheus: ServiceEndpoint?
    /// Name on the bot's commits (default `promobot`).
    public var gitAuthorName: String
    /// Email on the bot's commits (default `promobot@localhost`).
    public var gitAuthorEmail: String
    /// The policies folder (default `policies/`), relative to the working directory.
    public var policies: String
    /// Where clones are cached (default `$XDG_CACHE_HOME/promobot`, else `~/.cache/promobot`).
    public var cache: String
    /// When true, promobot opens, updates and merges nothing (it still plans and reports).
    public var emergencyStop: Bool
    /// A relative path (default `.promobot-stop`) whose presence halts the bot like `emergencyStop`:
    /// looked up in the policies folder (so an MR to the policies repository can halt the bot), then in the
    /// working directory (the CLI's `Runtime.emergencyStop` looks it up; the docs say the same).
    public var stopFile: String
    /// How many independent groups of policies (sharing no repository) one cycle reconciles at once.
    public var concurrency: Int
    /// The most GitLab API requests one process sends per minute (a client-side budget, so one run
    /// never drains the account's rate limit).
    public var requestsPerMinute: Int
    /// The GitLab project (path or id) the policies folder comes from, when it is a repository: a push to it
    /// makes `promobot serve` reload config and policies at once instead of at the next resync.
    public var policiesRepository: String?
    /// Where GitLab's webhooks go and where their secret comes from (`webhook:`); no URL by default.
    public var webhook: WebhookSettings
    /// Container registries promobot may ask about tags and digests (`registries:`), in file order. Images of
    /// other registries are not checked (the `image-exists` gate says so), unless the GitLab instance's own
    /// registry is known (`CI_REGISTRY` in GitLab CI).
    public var registries: [RegistrySettings] = []
    /// The file this configuration was read from; nil for defaults.
    public var sourcePath: String?
    /// `stageDefaults:` and company-wide `freezes:`, applied to every policy's stages when it is loaded.
    public var shared: SharedSettings = .none
    /// How git reaches GitLab (`git.transport`): https with the GitLab token (the default), or ssh with a key.
    public var gitTransport: GitTransport = .https
    /// The SSH private key file (`git.sshKeyFile`); required with `transport: ssh`.
    public var sshKeyFile: String?
    /// The environment variable holding the key's passphrase (`git.sshPassphraseEnv`), if it has one.
    public var sshPassphraseEnv: String?
    /// The OpenSSH `known_hosts` file SSH host keys are checked against (`git.knownHostsFile`); nil means
    /// `~/.ssh/known_hosts`.
    public var knownHostsFile: String?

    public init(
        gitlab: ServiceEndpoint, argocd: ServiceEndpoint? = nil, prometheus: ServiceEndpoint? = nil,
        gitAuthorName: String = "promobot", gitAuthorEmail: String = "promobot@localhost",
        policies: String = "policies/", cache: String, emergencyStop: Bool = false,
        stopFile: String = ".promobot-stop", concurrency: Int = 4, requestsPerMinute: Int = 600,
        webhook: WebhookSettings = WebhookSettings(), sourcePath: String? = nil
    ) {
        self.webhook = webhook
        self.requestsPerMinute = requestsPerMinute
        self.concurrency = concurrency
        self.gitlab = gitlab
        self.argocd = argocd
        self.prometheus = prometheus
        self.gitAuthorName = gitAuthorName
        self.gitAuthorEmail = gitAuthorEmail
        self.policies = policies
        self.cache = cache
        self.emergencyStop = emergencyStop
        self.stopFile = stopFile
        self.sourcePath = sourcePath
    }

    /// The configuration used when there is no config file, derived only from `environment`.
    ///
    /// `gitlab.url` comes from `CI_SERVER_URL` (set in GitLab CI jobs), the token from `GITLAB_TOKEN`,
    /// the cache from `XDG_CACHE_HOME` or `HOME`.
    public static func `default`(environment: [String: String]) -> PromobotConfig {
        PromobotConfig(
            gitlab: ServiceEndpoint(url: environment["CI_SERVER_URL"].flatMap { $0.isEmpty ? nil : $0 },
                                    tokenEnv: defaultGitLabTokenEnv),
            cache: defaultCache(environment: environment)
        )
    }

    /// `GITLAB_TOKEN`.
    public static let defaultGitLabTokenEnv = "GITLAB_TOKEN"

    /// `$XDG_CACHE_HOME/promobot`, else `$HOME/.cache/promobot`, else `.cache/promobot` (relative).
    public static func defaultCache(environment: [String: String]) -> String {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return (xdg as NSString).appendingPathComponent("promobot")
        }
        if let home = environment["HOME"], !home.isEmpty {
            return (home as NSString).appendingPathComponent(".cache/promobot")
        }
        return ".cache/promobot"
    }
}

/// How git reaches GitLab's repositories.
public enum GitTransport: String, Sendable, Hashable, CaseIterable {
    /// Smart HTTP with the GitLab token (a project or group access token with `write_repository`).
    case https
    /// SSH with a key (a deploy key with write access, or a bot user's key), for instances that close
    /// HTTPS git; host keys are checked against `known_hosts`.
    case ssh
}
