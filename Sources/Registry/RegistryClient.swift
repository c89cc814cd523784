import Foundation
import GitLab
import HTTP
import Manifests
import Policies

/// Asks container registries (the OCI distribution API, Docker Registry v2) which digest a tag points at.
///
/// `HEAD /v2/<name>/manifests/<tag>` with every manifest type in `Accept` (OCI index and manifest, Docker
/// manifest list and v2), reading `Docker-Content-Digest`; a registry that leaves it out of a HEAD answer is asked
/// again with GET, and the body hashed when the header is missing there too. A 401 with a `Bearer` challenge
/// fetches a token from its realm (anonymously, or with the registry's Basic credentials), caches it until it
/// expires and sends the request once more; a `Basic` challenge is answered with the credentials directly.
/// Credentials come from the ``RegistryDirectory`` entry of the image's host and go nowhere else: not to another
/// registry, and not across a redirect to another host. The client follows redirects itself, so give it a
/// transport that does not (``transport(caBundle:retry:)``); one that does still drops credentials across
/// origins, but a 401 after such a redirect would then look like this registry's own.
///
/// Retries of connection errors, 5xx and 429 (with `Retry-After`) are the transport's; every request first takes
/// a token from the optional ``RequestBudget`` (a budget of its own, not GitLab's: a registry's limits are not the
/// API's), which `RateLimit-Remaining` (Docker Hub's `ratelimit-remaining: 20;w=21600`) tightens.
/// Thread-safe: a value holding `Sendable` state; copies share the token cache.
public struct RegistryClient: ImageRegistry {
    /// The registries this client may ask, with their credentials.
    public let directory: RegistryDirectory
    let transport: any HTTPTransport
    /// Per-host transports (a registry with its own `caBundle`); others use `transport`.
    let transports: [String: any HTTPTransport]
    let budget: RequestBudget?
    let tokens: TokenCache

    /// Every manifest type promobot accepts, so the registry answers with the digest `image@digest` pins (the
    /// index of a multi-arch image) rather than rewriting the answer or refusing it.
    public static let acceptedManifestTypes = [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]

    /// Creates a client; sends nothing.
    /// - Parameters:
    ///   - directory: the registries and their credentials.
    ///   - transport: usually the HTTP module's `CurlHTTPClient`.
    ///   - transports: host -> transport for registries that need their own (a private CA).
    ///   - budget: a client-side request budget for registry requests; nil = none.
    ///   - clock: when tokens expire (injectable for tests).
    public init(directory: RegistryDirectory, transport: any HTTPTransport, transports: [String: any HTTPTransport] = [:],
                budget: RequestBudget? = nil, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.directory = directory
        self.transport = transport
        self.transports = Dictionary(transports.map { (RegistryDirectory.normalizedHost($0.key), $0.value) }) { _, last in last }
        self.budget = budget
        self.tokens = TokenCache(clock: clock)
    }

    /// Whether the image's registry is one this client may ask.
    public func isConfigured(host: String) -> Bool { directory.entry(for: host) != nil }

    // MARK: - Lookups (values, for the engine)

    /// What the registry says about `image` at `version`: asked by tag when there is one (so a moved tag shows),
    /// else by digest. Never throws: an image of a registry that is not configured is `.notConfigured`, a failure
    /// is `.unknown` with the reason.
    public func lookup(image: String, version: ImageVersion) async -> RegistryLookup {
        guard let reference = version.reference(of: image) else {
            return RegistryLookup(image: image, version: version, host: "", outcome: .unknown("'\(EchoText.escapingControls(image))' is not an image name"))
        }
        guard isConfigured(host: reference.registry) else {
            return RegistryLookup(image: image, version: version, host: reference.registry, outcome: .notConfigured)
        }
        do {
            let digest = try await resolve(reference)
            return RegistryLookup(image: image, version: version, host: reference.registry, outcome: .found(digest: digest))
        } catch let error where error.kind == .notFound {
            return RegistryLookup(image: image, version: version, host: reference.registry, outcome: .notFound(code: error.code ?? "MANIFEST_UNKNOWN"))
        } catch {
            return RegistryLookup(image: image, version: version, host: reference.registry,
                                  outcome: .unknown("\(error.kind.rawValue)\(error.code.map { " (\($0))" } ?? ""): \(error.message)"))
        }
    }

    // MARK: - Resolving

    /// The digest `reference` points at: its tag's when it has one, else its digest's (checked to exist).
    ///
    /// - Throws: ``RegistryError`` — `.notFound` with the registry's code, `.denied`, `.unreachable`,
    ///   `.rateLimited` or `.unexpected`; `.unexpected` too when the host is not configured.
    public func resolve(_ reference: ImageReference) async throws(RegistryError) -> String {
        let shown = Self.display(reference)
        guard let entry = directory.entry(for: reference.registry) else {
            throw RegistryError(kind: .unexpected, reference: shown,
                                message: "no registry is configured for \(reference.registry): add it under 'registries:' in the config")
        }
        guard let selector = reference.tag ?? reference.digest else {
            throw RegistryError(kind: .unexpected, reference: shown, message: "the reference has neither a tag nor a digest")
        }
        let repository = reference.repository  // Docker Hub's official images are already under `library/`.
        let url = entry.baseURL.appendingPathComponent("v2/\(repository)/manifests/\(selector)")
        let scope = "repository:\(repository):pull"
        let head = try await send(.head, url: url, entry: entry, scope: scope, reference: shown)
        switch head.status {
        case 200..<300:
            if let digest = Self.digestHeader(head) { return digest }
            // An older registry may leave the digest out of HEAD answers: read the manifest and hash it.
            let get = try await send(.get, url: url, entry: entry, scope: scope, reference: shown)
            guard (200..<300).contains(get.status) else { throw error(for: get, reference: shown, entry: entry) }
            return Self.digestHeader(get) ?? SHA256.digest(get.body)
        case 404:
            // HEAD answers carry no body: ask with GET for the registry's code (MANIFEST_UNKNOWN or NAME_UNKNOWN).
            let get = try? await send(.get, url: url, entry: entry, scope: scope, reference: shown)
            throw error(for: get ?? head, reference: shown, entry: entry)
        default:
            throw error(for: head, reference: shown, entry: entry)
        }
    }

    /// `registry.example.com/oms/app:1.5.0` as people write it (Docker Hub images by their short name).
    static func display(_ reference: ImageReference) -> String {
        var text = reference.familiarName
        if let tag = reference.tag { text += ":\(tag)" }
        if let digest = reference.digest { text += "@\(digest)" }
        return text
    }

    /// `Docker-Content-Digest` when it is a digest the reference grammar accepts (it ends up in manifests), else nil.
    static func digestHeader(_ response: HTTPResponse) -> String? {
        guard let value = response.headers["Docker-Content-Digest"]?.trimmingCharacters(in: .whitespaces),
              (try? ImageReference.parse("registry.invalid/x@" + value))?.digest == value else { return nil }
        return value
    }

    // MARK: - Requests and auth

    /// Sends one request with a cached token (or Basic credentials) and, after a 401 challenge, once more with
    /// a fresh token. Returns any response; throws only when no answer arrived. A challenge from a server the
    /// request was redirected to on another host is not answered: its realm is not this registry's.
    func send(_ method: HTTPMethod, url: URL, entry: RegistryDirectory.Entry, scope: String, reference: String) async throws(RegistryError) -> HTTPResponse {
        let key = TokenCache.Key(host: entry.host, scope: scope)
        var authorization = tokens.token(for: key).map { "Bearer \($0)" }
        if authorization == nil, tokens.usesBasic(entry.host), let credentials = entry.credentials {
            authorization = credentials.basicAuthorization
        }
        let first = try await transmit(method, url: url, authorization: authorization, entry: entry, reference: reference)
        guard first.response.status == 401, !first.leftOrigin, let header = first.response.headers["WWW-Authenticate"],
              let challenge = AuthChallenge.parse(header) else {
            return first.response
        }
        switch challenge.scheme {
        case "bearer":
            let token = try await fetchToken(challenge, entry: entry, scope: scope, key: key, reference: reference)
            return try await transmit(method, url: url, authorization: "Bearer \(token)", entry: entry, reference: reference).response
        default:
            guard let credentials = entry.credentials, authorization == nil else { return first.response }
            tokens.rememberBasic(entry.host)
            return try await transmit(method, url: url, authorization: credentials.basicAuthorization, entry: entry, reference: reference).response
        }
    }

    /// Asks the challenge's realm for a pull token for `scope` (the registry's own scope when it named one).
    func fetchToken(_ challenge: AuthChallenge, entry: RegistryDirectory.Entry, scope: String, key: TokenCache.Key, reference: String) async throws(RegistryError) -> String {
        guard let realm = challenge.realm, var components = URLComponents(string: realm),
              let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw RegistryError(kind: .unexpected, reference: reference, message: "the registry asked for a token but named no usable realm")
        }
        // A token server reached over plain HTTP on another host would see the password: only the registry's own
        // origin may be plain HTTP (a lab registry, the sandbox).
        if scheme == "http", components.host?.lowercased() != entry.baseURL.host?.lowercased() {
            throw RegistryError(kind: .denied, reference: reference,
                                message: "the registry's token realm \(Redaction.redact(url: realm)) is plain HTTP on another host; promobot sends no credentials there")
        }
        var items = components.queryItems ?? []
        if let service = challenge.service { items.append(URLQueryItem(name: "service", value: service)) }
        items.append(URLQueryItem(name: "scope", value: challenge.scope ?? scope))
        components.queryItems = items
        guard let url = components.url else {
            throw RegistryError(kind: .unexpected, reference: reference, message: "the token realm \(Redaction.redact(url: realm)) is not a URL")
        }
        let response = try await transmit(.get, url: url, authorization: entry.credentials?.basicAuthorization, entry: entry, reference: reference).response
        guard (200..<300).contains(response.status) else {
            var failure = error(for: response, reference: reference, entry: entry)
            if response.status == 401 || response.status == 403 {
                failure.kind = .denied
                failure.message = "the token server refused \(entry.credentials == nil ? "anonymous access" : "the credentials (from \(entry.credentialSource ?? "config"))"): \(failure.message)"
            } else if failure.kind == .notFound {
                // A token server's 404 (GitLab: unknown service, registry disabled) says nothing about the image.
                failure.kind = .unexpected
                failure.code = nil
                failure.message = "the token server answered \(failure.message)"
            }
            throw failure
        }
        struct Answer: Decodable { var token: String?; var access_token: String?; var expires_in: Int? }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: response.body),
              let token = [answer.token, answer.access_token].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw RegistryError(kind: .unexpected, reference: reference, message: "the token server's answer has no token")
        }
        tokens.store(token, for: key, expiresIn: answer.expires_in ?? TokenCache.defaultLifetime)
        return token
    }

    /// How many redirects one request may follow.
    static let maxRedirects = 5

    /// One request through the budget and the transport (which retries 5xx, 429 and connection errors),
    /// following redirects here rather than in the transport (with the HTTP module's rules: credentials are
    /// dropped when a redirect leaves the origin); `leftOrigin` says whether the answer came from another one.
    func transmit(_ method: HTTPMethod, url: URL, authorization: String?, entry: RegistryDirectory.Entry,
                  reference: String) async throws(RegistryError) -> (response: HTTPResponse, leftOrigin: Bool) {
        var headers: HTTPHeaders = ["Accept": Self.acceptedManifestTypes.joined(separator: ", ")]
        if let authorization { headers["Authorization"] = authorization }
        var request = HTTPRequest(method: method, url: url, headers: headers)
        for _ in 0...Self.maxRedirects {
            let response = try await transmitOnce(request, entry: entry, reference: reference)
            guard let next = CurlHTTPClient.redirect(from: request, response: response) else {
                return (response, !CurlHTTPClient.sameOrigin(url, request.url))
            }
            request = next
        }
        throw RegistryError(kind: .unexpected, reference: reference, message: "more than \(Self.maxRedirects) redirects")
    }

    /// A transport for registries: libcurl that leaves redirects to the client (so a challenge after a redirect to
    /// another host is never answered with this registry's credentials), trusting `caBundle` when given.
    public static func transport(caBundle: String? = nil, retry: RetryPolicy = RetryPolicy()) -> CurlHTTPClient {
        var configuration = HTTPClientConfiguration(retry: retry)
        configuration.caBundlePath = caBundle
        configuration.maxRedirects = 0
        return CurlHTTPClient(configuration: configuration)
    }

    /// One request on the wire (with the transport's own retries).
    func transmitOnce(_ request: HTTPRequest, entry: RegistryDirectory.Entry, reference: String) async throws(RegistryError) -> HTTPResponse {
        do {
            try await budget?.acquire(for: request.method.rawValue, path: request.url.path)
        } catch let error as GitLabError {
            throw RegistryError(kind: .rateLimited, reference: reference, message: error.message)
        } catch {
            throw RegistryError(kind: .unreachable, reference: reference, message: "\(error)")
        }
        let response: HTTPResponse
        do {
            response = try await (transports[entry.host] ?? transport).send(request)
        } catch let error as HTTPError {
            throw RegistryError(kind: .unreachable, reference: reference,
                                message: Redaction.redact(text: error.description, secrets: entry.credentials?.secrets ?? []))
        } catch {
            throw RegistryError(kind: .unreachable, reference: reference, message: Redaction.redact(text: "\(error)", secrets: entry.credentials?.secrets ?? []))
        }
        if let budget, let remaining = Self.remaining(in: response) { await budget.observe(remaining: remaining) }
        return response
    }

    /// `RateLimit-Remaining` as GitLab (`20`) and Docker Hub (`20;w=21600`) write it.
    static func remaining(in response: HTTPResponse) -> Int? {
        guard let value = response.headers["RateLimit-Remaining"] else { return nil }
        return Int(value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "")
    }

    /// The error a non-2xx answer means, with the registry's code and message when its body has them.
    func error(for response: HTTPResponse, reference: String, entry: RegistryDirectory.Entry) -> RegistryError {
        struct Envelope: Decodable {
            struct Item: Decodable { var code: String?; var message: String? }
            var errors: [Item]?
        }
        let first = (try? JSONDecoder().decode(Envelope.self, from: response.body))?.errors?.first
        let secrets = entry.credentials?.secrets ?? []
        let said = first?.message.map { Redaction.redact(text: EchoText.escapingControls(String($0.prefix(200))), secrets: secrets) }
        let message = "HTTP \(response.status)" + (said.map { ": \($0)" } ?? "")
        let code = first?.code
        switch response.status {
        case 404:
            return RegistryError(kind: .notFound, code: code ?? "MANIFEST_UNKNOWN", reference: reference, message: message)
        case 401, 403:
            return RegistryError(kind: .denied, code: code ?? (response.status == 401 ? "UNAUTHORIZED" : "DENIED"), reference: reference,
                                 message: message + (entry.credentials == nil ? "; no credentials are configured for \(entry.host)" : ""))
        case 429:
            let wait = RetryPolicy.serverRequestedDelay(in: response).map { ", retry after \($0.components.seconds) s" } ?? ""
            return RegistryError(kind: .rateLimited, code: code ?? "TOOMANYREQUESTS", reference: reference, message: message + wait)
        case 500...599:
            return RegistryError(kind: .unreachable, code: code, reference: reference, message: message)
        default:
            return RegistryError(kind: .unexpected, code: code, reference: reference, message: message)
        }
    }
}
