import Foundation
import Git
import GitLab
import HTTP
import Policies
import Server

/// GitLab as the config reaches it: its URL, one request budget shared by REST and git, the REST client, the
/// repository cache and the git credentials (token over https, key over ssh).
///
/// The one place this wiring lives: `Runtime.load` (run, plan, status, serve, rollback, promote) and
/// `promobot init` build it alike, so a transport or budget setting cannot apply to one and not the other.
struct GitLabAccess {
    let url: URL
    /// The libcurl client trusting GitLab's CA bundle (health checks reuse it when there is none).
    let curl: CurlHTTPClient
    /// Every REST call and every git smart-HTTP request to GitLab takes a token from it.
    let budget: RequestBudget
    let client: GitLabClient
    let repositories: RepositoryCache
    let credentials: GitCredentials

    /// - Parameter metrics: `serve`'s metrics, which then count GitLab's answers and the git requests.
    /// - Throws: ``ConfigurationError`` naming what to set (GitLab URL or token, SSH key or passphrase).
    init(_ config: PromobotConfig, environment: [String: String], metrics: ServeMetrics? = nil) throws {
        let (url, token) = try Runtime.gitlabURLAndToken(config, environment: environment)
        self.url = url
        let curl = Runtime.client(caBundle: config.gitlab.caBundle), budget = RequestBudget(requestsPerMinute: config.requestsPerMinute)
        (self.curl, self.budget) = (curl, budget)
        let transport: any HTTPTransport = metrics.map { MeteredTransport(curl, metrics: $0) } ?? curl
        client = GitLabClient(baseURL: url, token: GitLabToken(token), transport: transport, budget: budget)
        repositories = RepositoryCache(root: URL(fileURLWithPath: config.cache),
                                       options: Runtime.gitOptions(caBundle: config.gitlab.caBundle, retry: curl.configuration.retry,
                                                                   budget: budget, metrics: metrics, knownHosts: config.knownHostsFile))
        credentials = try Runtime.gitCredentials(config, token: token, environment: environment)
    }
}
