import Foundation
import HTTP
import Synchronization

/// A typed client for exactly the GitLab REST v4 endpoints promobot needs.
///
/// Every request carries the token in a header (`PRIVATE-TOKEN` or `Authorization: Bearer`),
/// never in the URL, so the token cannot reach an error message, a log line or argv. URLs are
/// built from strings with `URL(string:)`, keeping `%2F` in project paths and branch names intact.
///
/// Retries are split in two: the `HTTPTransport` retries connection errors, 5xx and 429 for
/// requests marked `retryable` (idempotent ones, plus `merge` with a pinned SHA); the client
/// itself retries GitLab's known transient refusals per `retryPolicy` (409 "Resource lock",
/// "source branch does not exist" right after a push on create, 405 right after creation when
/// enabling auto-merge). Non-2xx answers become `GitLabError`; transport failures propagate as
/// the HTTP module threw them.
///
/// A value type holding only `Sendable` state; copies share the request counter, the user
/// cache and the optional `RequestBudget`. Safe to use from many tasks at once.
public struct GitLabClient: Sendable {
    /// The GitLab instance, e.g. `https://gitlab.example.com` (`/api/v4` is appended unless already there).
    public let baseURL: URL
    /// Client-side rate limit shared by all clients of a run; `nil` = unlimited.
    public let budget: RequestBudget?
    /// Requests this client (and its copies) handed to the transport.
    public let counter: RequestCounter
    /// How GitLab's transient refusals are retried by the client.
    public var retryPolicy: GitLabRetryPolicy
    /// Safety stop for pagination loops: at most this many pages per list call.
    public var maxPages: Int = 1000

    let apiRoot: String
    let token: GitLabToken
    let transport: any HTTPTransport
    let users: UserCache

    /// Creates a client; sends nothing.
    /// - Parameters:
    ///   - baseURL: the instance root, e.g. `https://gitlab.example.com` or `http://127.0.0.1:8080`;
    ///     a path prefix (`https://host/gitlab`) is kept; `/api/v4` is appended unless already present.
    ///   - token: sent in a header on every request.
    ///   - transport: usually the HTTP module's `CurlHTTPClient`.
    ///   - budget: share one between every client of a run; `nil` = no client-side limit.
    ///   - retryPolicy: client-side retries of transient refusals.
    ///   - counter: pass one in to count several clients together.
    public init(baseURL: URL, token: GitLabToken, transport: any HTTPTransport, budget: RequestBudget? = nil,
                retryPolicy: GitLabRetryPolicy = .standard, counter: RequestCounter = RequestCounter()) {
        self.baseURL = baseURL
        self.token = token
        self.transport = transport
        self.budget = budget
        self.retryPolicy = retryPolicy
        self.counter = counter
        self.users = UserCache()
        var root = baseURL.absoluteString
        while root.hasSuffix("/") { root.removeLast() }
        if !root.hasSuffix("/api/v4") { root += "/api/v4" }
        self.apiRoot = root
    }

    /// Requests sent by this client and its copies (client-side retries included; retries
    /// inside the transport are not visible here).
    public var requestCount: Int { counter.value }
}

// MARK: - Request machinery

/// Which of GitLab's transient refusals an endpoint retries.
struct TransientRetries: OptionSet, Sendable {
    let rawValue: Int
    /// 409 "Resource lock".
    static let resourceLock = TransientRetries(rawValue: 1)
    /// 400/404/422 "source branch does not exist" (MR create right after a push).
    static let missingSourceBranch = TransientRetries(rawValue: 2)
    /// 405 (auto-merge right after creation, before mergeability was checked).
    static let notYetMergeable = TransientRetries(rawValue: 4)
}

/// One API call: everything below `/api/v4`.
struct Endpoint: Sendable {
    var method: HTTPMethod
    /// Percent-encoded path below `/api/v4`, starting with `/`.
    var path: String
    var query: [(name: String, value: String)] = []
    var body: [String: JSONValue]? = nil
    /// Whether the transport may repeat it on 5xx/429/connection errors; `nil` = by method.
    var retryable: Bool? = nil
    /// For messages: `merge !4 in group/oms`.
    var operation: String
    var transient: TransientRetries = [.resourceLock]
}

extension GitLabClient {
    func url(_ path: String, query: [(name: String, value: String)]) throws -> URL {
        var string = apiRoot + path
        if !query.isEmpty { string += "?" + URLEncoding.query(query) }
        guard let url = URL(string: string) else {
            throw GitLabError(kind: .unexpected, status: nil, message: "could not build a URL from the base URL and path", method: "", path: path)
        }
        return url
    }

    /// The path below `/api/v4` as sent (encoded), for messages; never the query.
    func displayPath(_ url: URL) -> String {
        let path = URLEncoding.encodedPath(of: url)
        let prefix = URLEncoding.encodedPath(of: URL(string: apiRoot) ?? url)
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// Sends one request (after taking a token from the budget) and returns any response.
    func sendOnce(_ endpoint: Endpoint, url: URL) async throws -> HTTPResponse {
        try await budget?.acquire(for: endpoint.method.rawValue, path: displayPath(url))
        var headers: HTTPHeaders = ["Accept": "application/json"]
        let auth = token.header
        headers[auth.name] = auth.value
        var body: Data?
        if let object = endpoint.body {
            headers["Content-Type"] = "application/json"
            body = JSONValue.encodeObject(object)
        }
        let request = HTTPRequest(method: endpoint.method, url: url, headers: headers, body: body, retryable: endpoint.retryable)
        counter.increment()
        let response = try await transport.send(request)
        // GitLab's own view of the account's remaining requests tightens the client-side budget.
        if let budget, let remaining = response.headers["RateLimit-Remaining"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
            await budget.observe(remaining: remaining)
        }
        return response
    }

    /// Sends `endpoint` (to `url`, or its own URL), retrying transient refusals; returns a 2xx response.
    /// - Throws: `GitLabError` for any other status; the transport's errors unchanged.
    func execute(_ endpoint: Endpoint, url explicitURL: URL? = nil) async throws -> HTTPResponse {
        let url = try explicitURL ?? url(endpoint.path, query: endpoint.query)
        var attempt = 1
        while true {
            let response = try await sendOnce(endpoint, url: url)
            if (200..<300).contains(response.status) { return response }
            let error = makeError(response, method: endpoint.method.rawValue, url: url, operation: endpoint.operation)
            if attempt < retryPolicy.maxAttempts, isTransient(error, endpoint.transient) {
                try await Task.sleep(for: retryPolicy.delay(beforeRetry: attempt))
                attempt += 1
                continue
            }
            throw error
        }
    }

    func isTransient(_ error: GitLabError, _ allowed: TransientRetries) -> Bool {
        (allowed.contains(.resourceLock) && error.isResourceLock)
            || (allowed.contains(.missingSourceBranch) && error.isMissingSourceBranch)
            || (allowed.contains(.notYetMergeable) && error.kind == .methodNotAllowed)
    }

    func makeError(_ response: HTTPResponse, method: String, url: URL, operation: String) -> GitLabError {
        var message = GitLabErrorBody.message(from: response.body)
        message = Redaction.redact(text: message, secrets: [token.value])
        if message.isEmpty { message = "\(response.status) \(GitLabError.reasonPhrase(response.status))" }
        return GitLabError(
            kind: GitLabError.kind(forStatus: response.status), status: response.status, message: message,
            method: method, path: displayPath(url), operation: operation,
            retryAfter: response.status == 429 ? RetryPolicy.serverRequestedDelay(in: response) : nil)
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: HTTPResponse, _ endpoint: Endpoint, url: URL? = nil) throws -> T {
        do {
            return try GitLabJSON.decoder().decode(T.self, from: response.body)
        } catch {
            let location = (try? url ?? self.url(endpoint.path, query: [])).map(displayPath) ?? endpoint.path
            throw GitLabError(
                kind: .unexpected, status: response.status,
                message: "the answer is not the expected \(T.self) JSON (\(Self.summary(of: error)))",
                method: endpoint.method.rawValue, path: location, operation: endpoint.operation)
        }
    }

    static func summary(of error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context), DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "field '\(path)': \(context.debugDescription)"
        default:
            return String(describing: error)
        }
    }

    /// Sends and decodes one object.
    func fetch<T: Decodable>(_ type: T.Type, _ endpoint: Endpoint) async throws -> T {
        let response = try await execute(endpoint)
        return try decode(T.self, response, endpoint)
    }

    /// `project` as it appears in messages.
    func name(_ project: ProjectRef) -> String { project.description }
}

/// Usernames already resolved to ids by this client. Thread-safe (a mutex guards the map).
final class UserCache: Sendable {
    private let ids = Mutex<[String: GitLabUser]>([:])
    subscript(username: String) -> GitLabUser? {
        get { ids.withLock { $0[username.lowercased()] } }
        set { ids.withLock { $0[username.lowercased()] = newValue } }
    }
}
