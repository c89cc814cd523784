import Foundation
import HTTP
import Manifests
import Sandbox
import Testing
import TestSupport
@testable import Registry

/// Randomized: faults on every kind of registry request (manifest HEAD and GET, the token realm), tags moved
/// between lookups, tokens expiring. Invariants: a lookup never reports a digest the tag did not point at,
/// never says "not found" for a tag that exists unless the registry said 404, and never shows the password.
/// Replay a failure with `PROMOBOT_REGISTRY_SEED=<seed>`; more rounds with `PROMOBOT_REGISTRY_ROUNDS`.
@Suite struct RegistryFaultTests {
    @Test func faultsNeverYieldAWrongDigestOrALeak() async throws {
        var random = SeededGenerator.fromEnvironment("PROMOBOT_REGISTRY_SEED")
        let rounds = environmentInt("PROMOBOT_REGISTRY_ROUNDS", default: 40)
        let password = "ci-secret-token-\(random.seed)"
        try await withSandbox("registry-faults") { sandbox, _ in
            sandbox.addUser("ci", token: password, role: .developer)
            sandbox.setRegistryTokenAuth(true, lifetime: 61)
            var current = sandbox.pushImage("oms/app", tag: "1.5.0")
            let clock = Clock()
            let directory = RegistryDirectory(entries: [.init(host: "registry.example.com", baseURL: sandbox.registryURL,
                                                              credentials: RegistryCredentials(username: "ci", password: password))])
            let registry = RegistryClient(directory: directory,
                                          transport: RegistryClient.transport(retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), jitter: .none)),
                                          clock: { clock.value })
            let paths = ["/v2/oms/app/manifests", "/jwt/auth"]
            for round in 0..<rounds {
                var injected404 = false
                if random.chance(1, in: 4) { current = sandbox.pushImage("oms/app", tag: "1.5.0") }
                if random.chance(1, in: 4) { clock.advance(62) }
                if random.chance(1, in: 5) { sandbox.setRegistryOmitsDigestOnHead(random.chance(1, in: 2)) }
                if random.chance(1, in: 2) {
                    let kinds: [SandboxFault.Kind] = [.status(503), .status(500), .status(429, headers: ["Retry-After": "0"]), .status(404), .drop,
                                                      .status(401, headers: ["WWW-Authenticate": #"Bearer realm="\#(sandbox.baseURL.absoluteString)/jwt/auth",service="container_registry""#])]
                    let kind = kinds[random.below(kinds.count)]
                    let path = paths[random.below(paths.count)]
                    if case .status(404, _, _) = kind, path.hasPrefix("/v2") { injected404 = true }
                    sandbox.injectFault(SandboxFault(pathPrefix: path, kind: kind, count: 1 + random.below(2)))
                }
                let lookup = await registry.lookup(image: "registry.example.com/oms/app", version: "1.5.0")
                sandbox.clearFaults()
                let context = "round \(round), seed \(random.seed) (PROMOBOT_REGISTRY_SEED=\(random.seed))"
                switch lookup.outcome {
                case let .found(digest):
                    #expect(digest == current, "a wrong digest: \(context)")
                case let .notFound(code):
                    #expect(injected404, "not found (\(code)) without a 404: \(context)")
                case let .unknown(reason):
                    #expect(!reason.contains(password), "the password leaked: \(context)")
                    #expect(!reason.contains(Data("ci:\(password)".utf8).base64EncodedString()), "the Basic credential leaked: \(context)")
                case .notConfigured:
                    Issue.record("a configured registry reported as not configured: \(context)")
                }
            }
        }
    }
}
