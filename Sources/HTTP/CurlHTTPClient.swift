import Foundation
import Synchronization

/// The libcurl-backed `HTTPTransport`: async, retrying, keep-alive HTTP/1.1 and HTTP/2 client.
///
/// Requests run on one dedicated thread driving a libcurl multi handle, so `send` never blocks
/// Swift's cooperative thread pool, and connections to a host are kept alive and reused across
/// requests. Create one client and share it: it is thread-safe (`Sendable`) and all its methods may
/// be called concurrently. Its libcurl handles are freed when the last reference goes away; a client
/// cannot go away while a `send` is running (the call keeps it alive).
public final class CurlHTTPClient: HTTPTransport, Sendable {
    /// The settings every request is sent with.
    public let configuration: HTTPClientConfiguration
    private let engine: CurlMultiEngine
    private let counters = Mutex(HTTPClientStatistics())

    /// Creates a client and starts its libcurl thread.
    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        self.configuration = configuration
        engine = CurlMultiEngine(maxConnectionsPerHost: configuration.maxConnectionsPerHost)
    }

    deinit {
        engine.shutdown()
    }

    /// What this client has done so far; for benchmarks and tests.
    public var statistics: HTTPClientStatistics {
        counters.withLock { $0 }
    }

    /// Sends `request`, retrying it per `configuration.retry` and following redirects, and returns
    /// the final response, whatever its status (after the last attempt, a 503 is returned, not thrown).
    ///
    /// - Throws: `HTTPError` when no response arrived (connect, timeout, TLS, dropped connection,
    ///   too many redirects, invalid request); `CancellationError` when the task is cancelled
    ///   (an attempt in flight is aborted).
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var current = request
        var redirects = 0
        while true {
            let response = try await sendWithRetries(current)
            guard configuration.maxRedirects > 0, let next = Self.redirect(from: current, response: response) else {
                return response
            }
            redirects += 1
            if redirects > configuration.maxRedirects {
                throw HTTPError(
                    kind: .tooManyRedirects, method: request.method, url: Redaction.redact(url: request.url),
                    attempts: redirects,
                    message: "more than \(configuration.maxRedirects) redirects, the last to \(Redaction.redact(url: next.url))")
            }
            current = next
        }
    }

    // MARK: - Retries

    private func sendWithRetries(_ request: HTTPRequest) async throws -> HTTPResponse {
        if let problem = Self.validate(request) {
            throw HTTPError(kind: .invalidRequest, method: request.method, url: Redaction.redact(url: request.url),
                            attempts: 0, message: problem)
        }
        let policy = configuration.retry
        let maxAttempts = request.retryable ? max(1, policy.maxAttempts) : 1
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            do {
                let response = try await sendOnce(request)
                configuration.observer?(request, response)
                guard attempt < maxAttempts, RetryPolicy.isRetryable(status: response.status) else { return response }
                counters.withLock { $0.retries += 1 }
                try await configuration.sleep(policy.delay(afterAttempt: attempt, response: response))
            } catch let failure as TransportFailure {
                configuration.observer?(request, nil)
                guard attempt < maxAttempts, failure.kind.isRetryable else {
                    counters.withLock { $0.failures += 1 }
                    throw HTTPError(
                        kind: failure.kind, method: request.method, url: Redaction.redact(url: request.url),
                        attempts: attempt,
                        message: Redaction.redact(text: failure.message, secrets: Redaction.secrets(in: request)),
                        curlCode: failure.curlCode)
                }
                counters.withLock { $0.retries += 1 }
                try await configuration.sleep(policy.delay(afterAttempt: attempt))
            }
        }
    }

    /// One attempt on the wire.
    private func sendOnce(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = CurlTransfer(request: request, configuration: configuration)
        let outcome = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.attach(continuation)
                engine.submit(transfer)
            }
        } onCancel: {
            engine.cancel(transfer)
        }
        counters.withLock {
            $0.requests += 1
            $0.connectionsOpened += outcome.newConnections
        }
        return outcome.response
    }

    // MARK: - Pure helpers

    /// Why `request` cannot be sent, or nil.
    static func validate(_ request: HTTPRequest) -> String? {
        guard let scheme = request.url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            return "only http and https URLs are supported, got scheme '\(request.url.scheme ?? "")'"
        }
        guard request.url.host != nil else { return "the URL has no host" }
        for field in request.headers {
            if field.name.isEmpty || field.name.contains(where: { $0 == ":" || $0.isWhitespace || $0.isNewline }) {
                return "header name '\(field.name)' is not a valid token"
            }
            if field.value.contains(where: { $0.isNewline || $0 == "\0" }) {
                return "the value of header '\(field.name)' contains a line break"
            }
        }
        return nil
    }

    /// The request to send next when `response` is a redirect to follow, or nil.
    ///
    /// 303, and 301/302 after a POST, become a GET without body (as browsers do); 307/308 repeat the
    /// request. Credential headers are dropped when the redirect leaves the origin (scheme, host, port),
    /// so a token is never handed to another server. Public for clients that follow redirects themselves
    /// (the registry client, which must know when an answer came from another origin).
    public static func redirect(from request: HTTPRequest, response: HTTPResponse) -> HTTPRequest? {
        guard [301, 302, 303, 307, 308].contains(response.status),
              let location = response.headers["Location"],
              let target = URL(string: location, relativeTo: request.url)?.absoluteURL,
              let scheme = target.scheme?.lowercased(), scheme == "http" || scheme == "https" else { return nil }
        var next = request
        next.url = target
        if response.status == 303 || (request.method == .post && (response.status == 301 || response.status == 302)) {
            next.method = request.method == .head ? .head : .get
            next.body = nil
            next.headers["Content-Type"] = nil
            next.retryable = true
        }
        if !sameOrigin(request.url, target) {
            var kept = HTTPHeaders()
            for field in next.headers where !Redaction.isSensitiveHeader(field.name) { kept.add(field.name, field.value) }
            next.headers = kept
        }
        return next
    }

    /// Whether `a` and `b` have the same scheme, host and port (default ports filled in).
    public static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        func port(_ url: URL) -> Int? { url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80) }
        return a.scheme?.lowercased() == b.scheme?.lowercased() && a.host?.lowercased() == b.host?.lowercased()
            && port(a) == port(b)
    }
}
