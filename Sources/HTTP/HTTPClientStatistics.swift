/// Counters a `CurlHTTPClient` keeps; read them through `CurlHTTPClient.statistics`.
public struct HTTPClientStatistics: Sendable, Hashable {
    /// Attempts that got a response (retries and redirects each count).
    public var requests = 0
    /// Connections opened; far below `requests` when keep-alive works.
    public var connectionsOpened = 0
    /// Attempts repeated after a retryable status or transport failure.
    public var retries = 0
    /// `send` calls that ended in a transport error.
    public var failures = 0

    /// All zero.
    public init() {}
}
