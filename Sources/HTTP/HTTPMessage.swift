import Foundation

/// An HTTP method. Only the idempotent ones are retried automatically.
public enum HTTPMethod: String, Sendable, Hashable {
    case get = "GET", head = "HEAD", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE"

    /// Whether repeating the request has the same effect as sending it once (RFC 9110 §9.2.2).
    public var isIdempotent: Bool {
        switch self {
        case .get, .head, .put, .delete: true
        case .post, .patch: false
        }
    }
}

/// Case-insensitive, order-preserving header list. A plain value; thread-safe.
public struct HTTPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// The fields in order, names as given.
    public private(set) var fields: [(name: String, value: String)] = []

    /// An empty header list.
    public init() {}
    /// A header list from a literal, e.g. `["PRIVATE-TOKEN": token, "Accept": "application/json"]`.
    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name, value) }
    }

    /// The first value for `name`, compared case-insensitively.
    public subscript(name: String) -> String? {
        get { fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value }
        set {
            fields.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
            if let newValue { fields.append((name, newValue)) }
        }
    }

    /// All values for `name`, in arrival order.
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    /// Appends a field, keeping any with the same name (for repeated headers).
    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    /// Iterates the fields in order.
    public func makeIterator() -> some IteratorProtocol<(name: String, value: String)> { fields.makeIterator() }

    /// Equal when the same fields appear in the same order, names compared case-insensitively.
    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name.lowercased() == $1.name.lowercased() && $0.value == $1.value }
    }
    /// Hashes consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        for field in fields { hasher.combine(field.name.lowercased()); hasher.combine(field.value) }
    }
}

/// A request to send. `body` is sent as is; set `Content-Type` yourself.
public struct HTTPRequest: Sendable {
    /// The method; decides the default of `retryable`.
    public var method: HTTPMethod
    /// Where to send it; userinfo and token query items are redacted in errors.
    public var url: URL
    /// Headers to send; credentials in them never appear in errors.
    public var headers: HTTPHeaders
    /// The body, sent as is.
    public var body: Data?
    /// Overrides the client's total timeout for this request.
    public var timeout: Duration?
    /// Whether the client may retry this request on connection errors, 5xx and 429.
    /// Defaults to `method.isIdempotent`; set it for a POST you know to be safe to repeat.
    public var retryable: Bool

    /// Creates a request; `retryable` defaults to `method.isIdempotent`.
    public init(method: HTTPMethod = .get, url: URL, headers: HTTPHeaders = [:], body: Data? = nil, timeout: Duration? = nil, retryable: Bool? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.retryable = retryable ?? method.isIdempotent
    }
}

/// A received response. Any status is a response, not an error: callers map statuses themselves.
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// The headers of the final response (not of interim 1xx ones).
    public var headers: HTTPHeaders
    /// The body, decompressed if the server compressed it.
    public var body: Data

    /// Creates a response (for test doubles).
    public init(status: Int, headers: HTTPHeaders = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Anything that can send an HTTP request: the libcurl client, or a test double.
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the final response (after any retries).
    /// Throws `HTTPError` for transport failures (connect, timeout, TLS, dropped connection).
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
