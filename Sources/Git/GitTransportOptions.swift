import HTTP

/// Transport settings shared by every remote of a `RepositoryCache`.
///
/// Not `Hashable`: it carries the request permit, a closure.
public struct GitTransportOptions: Sendable {
    /// A PEM bundle of CA certificates to trust for HTTPS. libgit2 holds this process-wide
    /// (`GIT_OPT_SET_SSL_CERT_LOCATIONS`), so the last cache created with a bundle wins; nil keeps the system store.
    public var caBundlePath: String?
    /// When true (the default), a connection whose certificate fails verification is refused.
    /// False accepts any certificate (test servers only).
    public var verifyTLS: Bool
    /// When true (the default), libgit2 picks the proxy from git config / `https_proxy` / `http_proxy` /
    /// `no_proxy` (`GIT_PROXY_AUTO`); false connects directly.
    public var proxyFromEnvironment: Bool
    /// The OpenSSH `known_hosts` file that SSH servers' host keys are checked against; nil means
    /// `$HOME/.ssh/known_hosts`. An unknown or changed key is refused (unless `verifyTLS` is false).
    public var knownHostsPath: String?
    /// How long to wait for a TCP connection to a git server, and for each read or write after it
    /// (a server that stops answering fails the operation rather than hanging the cycle). Applies to
    /// http(s) remotes, which go through promobot's own TCP stream.
    public var connectTimeout: Duration
    /// See `connectTimeout`.
    public var ioTimeout: Duration
    /// How http(s) git operations are retried: the REST client's policy type, with the same defaults
    /// (4 attempts, jittered backoff from 0.5 s). `refresh`, `remoteTips`, `push` and `deleteBranch` are each
    /// retried as a whole after a connect error, a reset or dropped connection, an I/O timeout, or an HTTP
    /// 408, 429 or 5xx; never after an authentication, certificate, not-found or lease error, nor for
    /// SSH or local remotes. The wait is the server's `Retry-After` where promobot can see it: for plain
    /// http its TCP stream reads the response head; over https it carries only TLS records and libgit2
    /// passes no headers on, so there the policy's backoff applies. `RetryPolicy.none` turns retries off.
    public var retry: RetryPolicy
    /// Asked before every git network request of every attempt (e.g. the run's shared request budget);
    /// nil sends without asking.
    public var requestPermit: GitRequestPermit?

    /// Creates transport settings; nothing is applied until a `RepositoryCache` is created.
    public init(caBundlePath: String? = nil, verifyTLS: Bool = true, proxyFromEnvironment: Bool = true, knownHostsPath: String? = nil,
                connectTimeout: Duration = .seconds(10), ioTimeout: Duration = .seconds(120),
                retry: RetryPolicy = RetryPolicy(), requestPermit: GitRequestPermit? = nil) {
        self.connectTimeout = connectTimeout
        self.ioTimeout = ioTimeout
        self.knownHostsPath = knownHostsPath
        self.caBundlePath = caBundlePath
        self.verifyTLS = verifyTLS
        self.proxyFromEnvironment = proxyFromEnvironment
        self.retry = retry
        self.requestPermit = requestPermit
    }
}
