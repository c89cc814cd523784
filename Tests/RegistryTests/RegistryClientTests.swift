import Foundation
import Synchronization
import GitLab
import HTTP
import Manifests
import Policies
import Sandbox
import Testing
import TestSupport
@testable import Registry

/// The registry client against the sandbox's registry on loopback: digests by HEAD, the GET fallback, token
/// auth (anonymous, Basic, cached, expired), typed errors, and where credentials may go.
@Suite struct RegistryClientTests {
    static let host = "registry.example.com"

    /// A client whose only registry is `registry.example.com`, served by `sandbox`.
    func client(_ sandbox: Sandbox, credentials: RegistryCredentials? = nil, clock: @escaping @Sendable () -> Date = { Date() },
                observer: HTTPClientConfiguration.Observer? = nil) -> RegistryClient {
        let directory = RegistryDirectory(entries: [.init(host: Self.host, baseURL: sandbox.registryURL, credentials: credentials, credentialSource: "config")])
        let transport = CurlHTTPClient(configuration: HTTPClientConfiguration(retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10), jitter: .none),
                                                                              maxRedirects: 0, observer: observer))
        return RegistryClient(directory: directory, transport: transport, clock: clock)
    }

    /// The digest `text` resolves to (untyped throws, for `#expect`).
    func resolved(_ client: RegistryClient, _ text: String) async throws -> String {
        let reference = try ImageReference.parse(text)
        do { return try await client.resolve(reference) } catch { throw error as any Error }
    }

    @Test func headReadsTheDigestAndSendsEveryManifestType() async throws {
        try await withSandbox("registry-head") { sandbox, _ in
            let digest = sandbox.pushImage("oms/app", tag: "1.5.0")
            let accepts = Recorder()
            let registry = client(sandbox, observer: { request, _ in accepts.add("\(request.method.rawValue) \(request.headers["Accept"] ?? "")") })
            let got1 = try await resolved(registry, "registry.example.com/oms/app:1.5.0")
            #expect(got1 == digest)
            #expect(accepts.values == ["HEAD " + RegistryClient.acceptedManifestTypes.joined(separator: ", ")])
        }
    }

    @Test func getFallbackWhenHeadOmitsTheDigest() async throws {
        try await withSandbox("registry-get") { sandbox, _ in
            let digest = sandbox.pushImage("oms/app", tag: "1.5.0")
            sandbox.setRegistryOmitsDigestOnHead(true)
            sandbox.resetRequestLog()
            let got2 = try await resolved(client(sandbox), "registry.example.com/oms/app:1.5.0")
            #expect(got2 == digest)
            #expect(sandbox.requestLines() == ["HEAD /v2/oms/app/manifests/1.5.0", "GET /v2/oms/app/manifests/1.5.0"])
        }
    }

    @Test func aRePushedTagResolvesToItsNewDigest() async throws {
        try await withSandbox("registry-repush") { sandbox, _ in
            let first = sandbox.pushImage("oms/app", tag: "1.5.0")
            let second = sandbox.pushImage("oms/app", tag: "1.5.0")
            #expect(first != second)
            let got3 = try await resolved(client(sandbox), "registry.example.com/oms/app:1.5.0")
            #expect(got3 == second)
            // By digest, the old manifest is still there.
            let got4 = try await resolved(client(sandbox), "registry.example.com/oms/app@\(first)")
            #expect(got4 == first)
        }
    }

    @Test func missingTagAndRepositoryAreTypedNotFound() async throws {
        try await withSandbox("registry-404") { sandbox, _ in
            sandbox.pushImage("oms/app", tag: "1.5.0")
            let registry = client(sandbox)
            let typo = await registry.lookup(image: "registry.example.com/oms/app", version: "1.5.O")
            #expect(typo.outcome == .notFound(code: "MANIFEST_UNKNOWN"))
            let repo = await registry.lookup(image: "registry.example.com/oms/nope", version: "1.0.0")
            #expect(repo.outcome == .notFound(code: "NAME_UNKNOWN"))
            await #expect(throws: RegistryError.self) { try await resolved(registry, "registry.example.com/oms/app:2.0.0") }
        }
    }

    @Test func unconfiguredHostIsNotCheckedAndSendsNothing() async throws {
        try await withSandbox("registry-unconfigured") { sandbox, _ in
            sandbox.resetRequestLog()
            let lookup = await client(sandbox).lookup(image: "ghcr.io/acme/app", version: "1.0.0")
            #expect(lookup.outcome == .notConfigured)
            #expect(lookup.host == "ghcr.io")
            #expect(sandbox.requestCount == 0)
        }
    }

    @Test func dockerHubNamesAreNormalised() async throws {
        try await withSandbox("registry-hub") { sandbox, _ in
            let digest = sandbox.pushImage("library/nginx", tag: "1.27")
            let directory = RegistryDirectory(entries: [.init(host: "docker.io", baseURL: sandbox.registryURL)])
            let registry = RegistryClient(directory: directory, transport: CurlHTTPClient())
            sandbox.resetRequestLog()
            for name in ["nginx", "docker.io/library/nginx", "index.docker.io/library/nginx"] {
                let lookup = await registry.lookup(image: name, version: "1.27")
                #expect(lookup.outcome == .found(digest: digest), "\(name)")
            }
            #expect(Set(sandbox.requestLines()) == ["HEAD /v2/library/nginx/manifests/1.27"])
            #expect(RegistryDirectory(entries: []).entry(for: "docker.io") == nil)
            #expect(RegistryDirectory.baseURL(host: "docker.io", url: nil)?.absoluteString == "https://registry-1.docker.io")
        }
    }

    @Test func rateLimitIsUnknownWithTheServersWait() async throws {
        try await withSandbox("registry-429") { sandbox, _ in
            sandbox.pushImage("oms/app", tag: "1.5.0")
            sandbox.injectFault(SandboxFault(pathPrefix: "/v2/oms/app/manifests", kind: .status(429, body: #"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}"#,
                                                                                                headers: ["Retry-After": "0", "RateLimit-Remaining": "0;w=21600"]), count: 2))
            let lookup = await client(sandbox).lookup(image: "registry.example.com/oms/app", version: "1.5.0")
            guard case let .unknown(reason) = lookup.outcome else { Issue.record("expected unknown, got \(lookup.outcome)"); return }
            #expect(reason.contains("rate limited (TOOMANYREQUESTS)"))
            #expect(RegistryClient.remaining(in: HTTPResponse(status: 200, headers: ["ratelimit-remaining": "20;w=21600"])) == 20)
        }
    }

    @Test func onlyValidDigestHeadersAreBelieved() {
        let good = "sha256:" + String(repeating: "ab", count: 32)
        #expect(RegistryClient.digestHeader(HTTPResponse(status: 200, headers: ["Docker-Content-Digest": good])) == good)
        for bad in ["sha256:abc", "sha256:" + String(repeating: "AB", count: 32), "md5:x", "sha256:\(String(repeating: "ab", count: 32))\nX-Evil: 1"] {
            #expect(RegistryClient.digestHeader(HTTPResponse(status: 200, headers: ["Docker-Content-Digest": bad])) == nil, "\(bad)")
        }
    }

    @Test func unreachableRegistryIsUnknown() async throws {
        let directory = RegistryDirectory(entries: [.init(host: Self.host, baseURL: URL(string: "http://127.0.0.1:1")!)])
        let registry = RegistryClient(directory: directory, transport: CurlHTTPClient(configuration: HTTPClientConfiguration(retry: .none)))
        let lookup = await registry.lookup(image: "registry.example.com/oms/app", version: "1.5.0")
        guard case let .unknown(reason) = lookup.outcome else { Issue.record("expected unknown, got \(lookup.outcome)"); return }
        #expect(reason.hasPrefix("unreachable"))
    }

    @Test func serverErrorsAreRetriedThenUnknown() async throws {
        try await withSandbox("registry-5xx") { sandbox, _ in
            let digest = sandbox.pushImage("oms/app", tag: "1.5.0")
            sandbox.injectFault(SandboxFault(pathPrefix: "/v2/oms/app/manifests", kind: .status(503), count: 1))
            let got5 = try await resolved(client(sandbox), "registry.example.com/oms/app:1.5.0")
            #expect(got5 == digest, "one 503 is retried")
            sandbox.injectFault(SandboxFault(pathPrefix: "/v2/oms/app/manifests", kind: .status(503), count: 10))
            let lookup = await client(sandbox).lookup(image: "registry.example.com/oms/app", version: "1.5.0")
            guard case .unknown = lookup.outcome else { Issue.record("expected unknown, got \(lookup.outcome)"); return }
        }
    }

    @Test func tokenAuthWithBasicCredentialsAndACachedToken() async throws {
        try await withSandbox("registry-token") { sandbox, _ in
            sandbox.addUser("ci", token: "ci-secret-token-1234", role: .developer)
            sandbox.setRegistryTokenAuth(true, lifetime: 300)
            let digest = sandbox.pushImage("oms/app", tag: "1.5.0")
            let sent = Recorder()
            let registry = client(sandbox, credentials: RegistryCredentials(username: "ci", password: "ci-secret-token-1234"),
                                  observer: { request, _ in sent.add("\(request.url.host ?? "") \(request.url.path) \(request.headers["Authorization"]?.split(separator: " ").first ?? "-")") })
            sandbox.resetRequestLog()
            let got6 = try await resolved(registry, "registry.example.com/oms/app:1.5.0")
            #expect(got6 == digest)
            let got7 = try await resolved(registry, "registry.example.com/oms/app:1.5.0")
            #expect(got7 == digest)
            #expect(sandbox.requestLines() == [
                "HEAD /v2/oms/app/manifests/1.5.0", "GET /jwt/auth", "HEAD /v2/oms/app/manifests/1.5.0",
                "HEAD /v2/oms/app/manifests/1.5.0",
            ], "the token is fetched once and reused until it expires")
            #expect(sent.values.map { $0.split(separator: " ").last.map(String.init) ?? "" } == ["-", "Basic", "Bearer", "Bearer"])
        }
    }

    @Test func anExpiredTokenIsFetchedAgain() async throws {
        try await withSandbox("registry-expiry") { sandbox, _ in
            sandbox.addUser("ci", token: "ci-secret-token-1234", role: .developer)
            sandbox.setRegistryTokenAuth(true)  // no expires_in: the spec's 60 s
            sandbox.pushImage("oms/app", tag: "1.5.0")
            let now = Clock()
            let registry = client(sandbox, credentials: RegistryCredentials(username: "ci", password: "ci-secret-token-1234"), clock: { now.value })
            _ = try await resolved(registry, "registry.example.com/oms/app:1.5.0")
            now.advance(61)
            sandbox.resetRequestLog()
            _ = try await resolved(registry, "registry.example.com/oms/app:1.5.0")
            #expect(sandbox.requests(matching: "/jwt/auth") == 1, "a token older than 60 s is not sent")
        }
    }

    @Test func anonymousTokenWithoutRightsIsDeniedAndWrongCredentialsToo() async throws {
        try await withSandbox("registry-denied") { sandbox, _ in
            sandbox.setRegistryTokenAuth(true)
            sandbox.pushImage("oms/app", tag: "1.5.0")
            let anonymous = await client(sandbox).lookup(image: "registry.example.com/oms/app", version: "1.5.0")
            guard case let .unknown(reason) = anonymous.outcome else { Issue.record("expected unknown, got \(anonymous.outcome)"); return }
            #expect(reason.hasPrefix("denied"))
            let wrong = await client(sandbox, credentials: RegistryCredentials(username: "ci", password: "wrong-password-5678"))
                .lookup(image: "registry.example.com/oms/app", version: "1.5.0")
            guard case let .unknown(why) = wrong.outcome else { Issue.record("expected unknown, got \(wrong.outcome)"); return }
            #expect(why.hasPrefix("denied"))
            #expect(!why.contains("wrong-password-5678"))
        }
    }

    /// A redirect to another host drops the token, and that host's 401 challenge is not answered with this
    /// registry's credentials: its realm is not this registry's. Same-origin redirects keep the token.
    @Test func redirectsToAnotherHostCarryNoCredentials() async throws {
        try await withSandbox("registry-redirect-a") { sandbox, _ in
            try await withSandbox("registry-redirect-b") { other, _ in
                sandbox.addUser("ci", token: "ci-secret-token-1234", role: .developer)
                other.addUser("ci", token: "ci-secret-token-1234", role: .developer)
                sandbox.setRegistryTokenAuth(true)
                other.setRegistryTokenAuth(true)
                let digest = sandbox.pushImage("oms/app", tag: "1.5.0")
                other.pushImage("oms/app", tag: "1.5.0")
                let sent = Recorder()
                let registry = client(sandbox, credentials: RegistryCredentials(username: "ci", password: "ci-secret-token-1234"),
                                      observer: { request, _ in sent.add("\(request.url.port ?? 0) \(request.url.path) \(request.headers["Authorization"] == nil ? "-" : "auth")") })
                _ = try await resolved(registry, "registry.example.com/oms/app:1.5.0")  // a token is cached now
                // Same origin: the token follows the redirect.
                sandbox.injectFault(SandboxFault(method: "HEAD", pathPrefix: "/v2/oms/app/manifests/latest",
                                                 kind: .status(307, headers: ["Location": "/v2/oms/app/manifests/1.5.0"])))
                let got = try await resolved(registry, "registry.example.com/oms/app:latest")
                #expect(got == digest)
                // Another host: no credentials go there, and its challenge is not answered.
                other.resetRequestLog()
                sandbox.injectFault(SandboxFault(method: "HEAD", pathPrefix: "/v2/oms/app/manifests/1.5.0", kind: .status(307, headers: [
                    "Location": other.baseURL.absoluteString + "/v2/oms/app/manifests/1.5.0",
                ])))
                let lookup = await registry.lookup(image: "registry.example.com/oms/app", version: "1.5.0")
                guard case let .unknown(reason) = lookup.outcome else { Issue.record("expected unknown, got \(lookup.outcome)"); return }
                #expect(reason.hasPrefix("denied"))
                #expect(other.requestLines() == ["HEAD /v2/oms/app/manifests/1.5.0"], "the other host's token realm is never asked")
                let port = other.baseURL.port ?? -1
                #expect(sent.values.filter { $0.hasPrefix("\(port) ") } == ["\(port) /v2/oms/app/manifests/1.5.0 -"])
            }
        }
    }

    @Test func credentialsAreNotSentToAPlainHTTPRealmOnAnotherHost() async throws {
        try await withSandbox("registry-realm") { sandbox, _ in
            sandbox.injectFault(SandboxFault(pathPrefix: "/v2/oms/app/manifests", kind: .status(401, headers: [
                "WWW-Authenticate": "Bearer realm=\"http://evil.example.net/token\",service=\"x\"",
            ]), count: 1))
            let lookup = await client(sandbox, credentials: RegistryCredentials(username: "ci", password: "ci-secret-token-1234"))
                .lookup(image: "registry.example.com/oms/app", version: "1.5.0")
            guard case let .unknown(reason) = lookup.outcome else { Issue.record("expected unknown, got \(lookup.outcome)"); return }
            #expect(reason.contains("sends no credentials there"))
        }
    }

    @Test(arguments: [
        (#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
         "bearer", "https://auth.docker.io/token", "registry.docker.io", "repository:library/nginx:pull"),
        (#"Basic realm="Registry", Bearer realm="https://h/jwt/auth",service="container_registry""#,
         "bearer", "https://h/jwt/auth", "container_registry", nil),
        (#"Basic realm="Registry Realm""#, "basic", "Registry Realm", nil, nil),
    ])
    func challenges(header: String, scheme: String, realm: String, service: String?, scope: String?) throws {
        let challenge = try #require(AuthChallenge.parse(header))
        #expect(challenge.scheme == scheme)
        #expect(challenge.realm == realm)
        #expect(challenge.service == service)
        #expect(challenge.scope == scope)
    }
}

/// Records strings from `@Sendable` observers.
final class Recorder: Sendable {
    private let storage = Mutex<[String]>([])
    func add(_ value: String) { storage.withLock { $0.append(value) } }
    var values: [String] { storage.withLock { $0 } }
}

/// A settable clock for token expiry.
final class Clock: Sendable {
    private let now = Mutex(Date())
    var value: Date { now.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
