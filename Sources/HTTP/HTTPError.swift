import Foundation

/// A transport failure: the request got no HTTP response (any status, even 503, is a response).
///
/// Carries no secrets: `url` is redacted with ``Redaction/redact(url:)-(URL)`` and `message`
/// is scrubbed of the request's credentials, so the error is safe to log or show.
public struct HTTPError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. Compare with the static members (`.connect`, `.timeout`, ...);
    /// new kinds may be added without breaking callers.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: String, Hashable, Sendable {
            case connect, timeout, tls, dropped, tooManyRedirects, invalidRequest, responseTooLarge, other
        }
        private let code: Code
        private init(_ code: Code) { self.code = code }

        /// The host could not be resolved or refused / did not accept the connection.
        public static let connect = Kind(.connect)
        /// The connect timeout or the total timeout elapsed.
        public static let timeout = Kind(.timeout)
        /// The TLS handshake or certificate verification failed.
        public static let tls = Kind(.tls)
        /// The connection broke while sending the request or reading the response (or no reply at all).
        public static let dropped = Kind(.dropped)
        /// The server redirected more often than `HTTPClientConfiguration.maxRedirects` allows.
        public static let tooManyRedirects = Kind(.tooManyRedirects)
        /// The request cannot be sent as built (unsupported scheme, control characters in a header).
        public static let invalidRequest = Kind(.invalidRequest)
        /// The response body exceeded `HTTPClientConfiguration.maxResponseSize`.
        public static let responseTooLarge = Kind(.responseTooLarge)
        /// Any other libcurl failure; see ``HTTPError/message``.
        public static let other = Kind(.other)

        /// A short, stable label (e.g. `"connect"`), safe for metrics.
        public var description: String { code.rawValue }

        /// Whether a retryable request may be sent again after this failure.
        var isRetryable: Bool {
            switch code {
            case .connect, .timeout, .dropped: true
            case .tls, .tooManyRedirects, .invalidRequest, .responseTooLarge, .other: false
            }
        }
    }

    /// What went wrong.
    public var kind: Kind
    /// The request method.
    public var method: HTTPMethod
    /// The request URL with userinfo and token query values redacted.
    public var url: String
    /// How many times the request was sent (1 when it was not retried).
    public var attempts: Int
    /// libcurl's message (scrubbed of secrets), e.g. "Failed to connect to 127.0.0.1 port 1: Connection refused".
    public var message: String
    /// libcurl's `CURLcode`, when libcurl reported the failure.
    public var curlCode: Int?

    /// Creates an error. `url` must already be redacted and `message` scrubbed.
    public init(kind: Kind, method: HTTPMethod, url: String, attempts: Int, message: String, curlCode: Int? = nil) {
        self.kind = kind
        self.method = method
        self.url = url
        self.attempts = attempts
        self.message = message
        self.curlCode = curlCode
    }

    /// One line: what failed, where, why, and what to try.
    public var description: String {
        let tries = switch attempts {
        case ...0: "was not sent"
        case 1: "failed after 1 attempt"
        default: "failed after \(attempts) attempts"
        }
        let code = curlCode.map { " (curl error \($0))" } ?? ""
        return "\(method.rawValue) \(url) \(tries): \(summary): \(message)\(code). \(advice)"
    }

    private var summary: String {
        switch kind {
        case .connect: "could not connect"
        case .timeout: "timed out"
        case .tls: "TLS failed"
        case .dropped: "connection dropped"
        case .tooManyRedirects: "too many redirects"
        case .invalidRequest: "invalid request"
        case .responseTooLarge: "response too large"
        default: "transport error"
        }
    }

    private var advice: String {
        switch kind {
        case .connect:
            "Check the host name and port, that the server is up, and the proxy settings (http_proxy, https_proxy, no_proxy)."
        case .timeout:
            "The server or network is slow or unreachable; retry later or raise the timeout."
        case .tls:
            "Check the server certificate; for a private CA set the CA bundle path rather than turning verification off."
        case .dropped:
            "The server or a proxy closed the connection; retry later and check the server logs."
        case .tooManyRedirects:
            "Check the URL: the server keeps redirecting (a redirect loop or a login page)."
        case .invalidRequest:
            "Fix the request: only http and https URLs, and no line breaks in header names or values."
        case .responseTooLarge:
            "Ask for less (paginate) or raise maxResponseSize."
        default:
            "See the message above."
        }
    }
}
