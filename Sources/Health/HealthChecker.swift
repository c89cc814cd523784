import Foundation
import HTTP
import Manifests
import Policies

/// Runs a stage's health checks against Argo CD, HTTP endpoints and Prometheus.
///
/// Thread-safe (immutable). Every check is fail-closed: anything but a pass blocks promotions. The
/// result's `state` separates a confirmed failure from a check that could not tell, because automatic
/// rollbacks act only on `failed`, and a blip in the monitoring must never roll a stage back:
/// - `failed`: the check answered and the answer is bad (Argo CD health `Degraded` or `Missing`,
///   the HTTP probe answered another status than expected, a Prometheus value out of bounds);
/// - `unknown`: a thrown error (transport error, timeout, a URL that cannot be built), missing
///   Argo CD or Prometheus configuration, a probe URL that is not http(s), and every answer that
///   does not judge the running app (see `ArgoCDVerdict` and `PrometheusVerdict`).
public struct HealthChecker: Sendable {
    public var transport: any HTTPTransport
    public var argocd: ServiceAccess?
    public var prometheus: ServiceAccess?
    /// Upper bound for one check's request, so a hanging endpoint cannot stall the cycle.
    public var timeout: Duration

    public init(transport: any HTTPTransport, argocd: ServiceAccess?, prometheus: ServiceAccess?, timeout: Duration = .seconds(10)) {
        self.transport = transport
        self.argocd = argocd
        self.prometheus = prometheus
        self.timeout = timeout
    }

    /// Runs `checks` concurrently and returns one result per check, in the checks' order.
    ///
    /// - Parameters:
    ///   - candidate: the image references the upstream should be running;
    ///     Argo CD checks require every one of them among the application's images.
    ///   - now: the cycle's clock, used for `settle` and stamped on each result.
    public func run(_ checks: [HealthCheck], candidate: [ImageReference], now: Date) async -> [HealthResult] {
        await withTaskGroup(of: (Int, HealthResult).self) { group in
            for (index, check) in checks.enumerated() {
                group.addTask { (index, await run(check, candidate: candidate, now: now)) }
            }
            var results = [HealthResult?](repeating: nil, count: checks.count)
            for await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
    }

    /// Runs one check. Never throws: failures are results, and an error inside the check (transport,
    /// timeout, bad URL) is `unknown`, since it says nothing about the app.
    public func run(_ check: HealthCheck, candidate: [ImageReference], now: Date) async -> HealthResult {
        let label = Self.label(check)
        do {
            let (state, detail) = try await evaluate(check, candidate: candidate, now: now)
            return HealthResult(check: label, state: state, detail: detail, checkedAt: now)
        } catch {
            return HealthResult(check: label, state: .unknown, detail: "check failed: \(error)", checkedAt: now)
        }
    }

    /// A short, stable name for a check, used in plans and MR text.
    public static func label(_ check: HealthCheck) -> String {
        switch check {
        case .argocd(let application, _): "argocd \(application)"
        case .http(let url, _): "http \(url)"
        case .prometheus(let query, _, _): "prometheus \(query)"
        }
    }

    private func evaluate(_ check: HealthCheck, candidate: [ImageReference], now: Date) async throws -> (HealthState, String) {
        switch check {
        case .argocd(let application, let settle):
            guard let argocd else { return (.unknown, "no Argo CD configured (set argocd.url in the config file)") }
            let response = try await send(.get, base: argocd, path: "/api/v1/applications/" + Self.pathSegment(application))
            return ArgoCDVerdict.evaluate(response: response, application: application, candidate: candidate, settle: settle, now: now)
        case .http(let urlText, let expected):
            guard let url = URL(string: urlText), let scheme = url.scheme, ["http", "https"].contains(scheme) else {
                return (.unknown, "not an http(s) URL: \(urlText)")
            }
            // Deliberately no credentials: the URL comes from a policy file.
            let response = try await transport.send(HTTPRequest(method: .get, url: url, timeout: timeout))
            // Any answer is the app's own word, so a wrong status (a 503 too) is a confirmed failure.
            guard response.status == expected else { return (.failed, "answered \(response.status), expected \(expected)") }
            return (.passed, "answered \(response.status)")
        case .prometheus(let query, let below, let above):
            guard let prometheus else { return (.unknown, "no Prometheus configured (set prometheus.url in the config file)") }
            var form = URLComponents()
            form.queryItems = [URLQueryItem(name: "query", value: query)]
            let body = Data((form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B").utf8)
            let response = try await send(.post, base: prometheus, path: "/api/v1/query", body: body,
                                          contentType: "application/x-www-form-urlencoded")
            return PrometheusVerdict.evaluate(response: response, below: below, above: above)
        }
    }

    /// Where an Argo CD application deploys from: its name, source repository URL and path.
    public struct ArgoSource: Sendable, Hashable {
        public var application: String
        public var repoURL: String
        public var path: String
    }

    /// Every Argo CD application with a git source (`GET /api/v1/applications`; multi-source applications
    /// contribute each source), for `promobot init` to match deploy folders to applications.
    /// - Throws: `HealthError` when Argo CD is not configured or answers with an error; transport errors.
    public func argoSources() async throws -> [ArgoSource] {
        guard let argocd else { throw HealthError.notConfigured("argocd.url") }
        let response = try await send(.get, base: argocd, path: "/api/v1/applications")
        guard response.status == 200 else { throw HealthError.status(response.status, "GET /api/v1/applications") }
        struct Source: Decodable { var repoURL: String?; var path: String? }
        struct Spec: Decodable { var source: Source?; var sources: [Source]? }
        struct Metadata: Decodable { var name: String }
        struct Application: Decodable { var metadata: Metadata; var spec: Spec? }
        struct List: Decodable { var items: [Application]? }
        let list = try JSONDecoder().decode(List.self, from: response.body)
        return (list.items ?? []).flatMap { app in
            ((app.spec?.sources ?? []) + [app.spec?.source].compactMap { $0 }).compactMap { source in
                guard let url = source.repoURL else { return nil }
                return ArgoSource(application: app.metadata.name, repoURL: url, path: source.path ?? "")
            }
        }
    }

    private func send(_ method: HTTPMethod, base: ServiceAccess, path: String, body: Data? = nil, contentType: String? = nil) async throws -> HTTPResponse {
        let text = base.baseURL.absoluteString.hasSuffix("/") ? String(base.baseURL.absoluteString.dropLast()) : base.baseURL.absoluteString
        guard let url = URL(string: text + path) else { throw HealthError.badURL(text + path) }
        var headers: HTTPHeaders = ["Accept": "application/json"]
        if let token = base.token { headers["Authorization"] = "Bearer \(token)" }
        if let contentType { headers["Content-Type"] = contentType }
        // A Prometheus POST query is read-only, so it is safe to retry.
        let request = HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: timeout, retryable: true)
        return try await (base.transport ?? transport).send(request)
    }

    private static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

/// Errors raised inside a check; they end up as an unknown result's detail.
public enum HealthError: Error, CustomStringConvertible {
    case badURL(String)
    /// The service a call needs is not in the config (the config key to set).
    case notConfigured(String)
    /// The service answered with an error status.
    case status(Int, String)

    public var description: String {
        switch self {
        case .badURL(let url): "cannot build a URL from \(url)"
        case .notConfigured(let key): "\(key) is not configured"
        case let .status(status, request): "\(request) answered HTTP \(status)"
        }
    }
}
