import Foundation

/// Settings for a `CurlHTTPClient`. A plain value; build one, then hand it to the client.
public struct HTTPClientConfiguration: Sendable {
    /// Where requests go through.
    public enum Proxy: Sendable, Hashable {
        /// libcurl reads `http_proxy`, `https_proxy`, `all_proxy` and `no_proxy` itself (the default).
        case environment
        /// Connect directly, ignoring the environment.
        case none
        /// Use this proxy URL (e.g. `http://proxy.internal:3128`) for every request.
        case url(String)
    }

    /// Called after every attempt that went on the wire: the response, or nil after a transport
    /// failure. For counting requests in benchmarks and tests; runs on the sending task, keep it cheap.
    /// The request still carries its credentials: log it only through `Redaction`.
    public typealias Observer = @Sendable (HTTPRequest, HTTPResponse?) -> Void

    /// The longest wait for a TCP (and TLS) connection to be set up.
    public var connectTimeout: Duration
    /// The longest a single attempt may take, from connecting to the last byte of the body.
    /// `HTTPRequest.timeout` overrides it per request.
    public var totalTimeout: Duration
    /// When and how long to wait before retrying a retryable request.
    public var retry: RetryPolicy
    /// A PEM file of CA certificates to trust instead of the system bundle (for a private CA).
    public var caBundlePath: String?
    /// Whether to verify the server certificate and host name. Keep it on: turning it off exposes
    /// the tokens the bot sends to anyone on the network path.
    public var verifyTLS: Bool
    /// The `User-Agent` header sent unless a request sets its own.
    public var userAgent: String
    /// Which proxy to use; by default the usual environment variables.
    public var proxy: Proxy
    /// How many redirects to follow (0 = return the 3xx response). Credentials headers are not sent
    /// to a different origin.
    public var maxRedirects: Int
    /// The largest response body accepted, in bytes; larger ones fail with `HTTPError.Kind.responseTooLarge`.
    public var maxResponseSize: Int
    /// The most connections open at once to one host (0 = no limit); further requests wait for one.
    public var maxConnectionsPerHost: Int
    /// Sees every attempt; see ``Observer``.
    public var observer: Observer?
    /// Waits between retries. Tests inject a recorder here; the default is `Task.sleep`.
    public var sleep: @Sendable (Duration) async throws -> Void

    /// Creates a configuration; every setting has a production default.
    public init(
        connectTimeout: Duration = .seconds(10),
        totalTimeout: Duration = .seconds(60),
        retry: RetryPolicy = RetryPolicy(),
        caBundlePath: String? = nil,
        verifyTLS: Bool = true,
        userAgent: String = "promobot (libcurl/\(LibCurl.version))",
        proxy: Proxy = .environment,
        maxRedirects: Int = 5,
        maxResponseSize: Int = 256 << 20,
        maxConnectionsPerHost: Int = 0,
        observer: Observer? = nil,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.retry = retry
        self.caBundlePath = caBundlePath
        self.verifyTLS = verifyTLS
        self.userAgent = userAgent
        self.proxy = proxy
        self.maxRedirects = maxRedirects
        self.maxResponseSize = maxResponseSize
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.observer = observer
        self.sleep = sleep
    }
}
