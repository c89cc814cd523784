import HTTP

/// An `HTTPTransport` that counts every answer by status class (and transport errors) in `ServeMetrics`,
/// for the GitLab client of `promobot serve`. It only observes: requests and answers pass unchanged.
public struct MeteredTransport: HTTPTransport {
    public let inner: any HTTPTransport
    public let metrics: ServeMetrics

    public init(_ inner: any HTTPTransport, metrics: ServeMetrics) {
        self.inner = inner
        self.metrics = metrics
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        do {
            let response = try await inner.send(request)
            metrics.gitlabRequest(status: response.status)
            return response
        } catch {
            metrics.gitlabRequest(status: nil)
            throw error
        }
    }
}
