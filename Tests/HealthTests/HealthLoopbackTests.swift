import Foundation
import HTTP
import Policies
import Sandbox
import Testing
import TestSupport
@testable import Health

/// The health checker through its real path: libcurl over loopback to the sandbox's Argo CD and
/// Prometheus stand-ins, plus plain HTTP probes.
@Suite struct HealthLoopbackTests {
    static let app = "registry.example.com/oms/app"

    /// A started sandbox and a checker pointed at it; `withSandbox` shuts it down and removes its folder on every path.
    func withChecker(_ body: (Sandbox, HealthChecker) async throws -> Void) async throws {
        try await withSandbox("health") { sandbox, _ in
            let http = CurlHTTPClient(configuration: HTTPClientConfiguration(retry: .none, proxy: .none))
            let access = ServiceAccess(baseURL: sandbox.baseURL, token: nil)
            let checker = HealthChecker(transport: http, argocd: access, prometheus: access, timeout: .seconds(5))
            try await body(sandbox, checker)
        }
    }

    @Test func argoCDApplicationMustBeHealthySyncedSettledAndRunTheCandidate() async throws {
        try await withChecker { sandbox, checker in
            let now = Date()
            let candidate = ["\(Self.app):1.5.0"]
            let settle = PolicyDuration(seconds: 120)
            sandbox.setArgoApplication(SandboxArgoApplication(name: "oms-dev", images: candidate,
                                                              operationFinishedAt: now.addingTimeInterval(-600)))
            let healthy = await checker.run(.argocd(application: "oms-dev", settle: settle), candidate: candidate.map(ref), now: now)
            #expect(healthy.passed, "\(healthy.detail)")
            #expect(healthy.check == "argocd oms-dev")

            let older = await checker.run(.argocd(application: "oms-dev", settle: settle), candidate: [ref("\(Self.app):1.6.0")], now: now)
            #expect(!older.passed)
            #expect(older.detail.contains("1.6.0"), "\(older.detail)")

            sandbox.setArgoApplication(SandboxArgoApplication(name: "oms-dev", health: "Degraded", images: candidate,
                                                              operationFinishedAt: now.addingTimeInterval(-600)))
            let degraded = await checker.run(.argocd(application: "oms-dev", settle: nil), candidate: candidate.map(ref), now: now)
            #expect(!degraded.passed)
            #expect(degraded.detail.contains("Degraded"), "\(degraded.detail)")

            sandbox.setArgoApplication(SandboxArgoApplication(name: "oms-dev", images: candidate,
                                                              operationFinishedAt: now.addingTimeInterval(-30)))
            let unsettled = await checker.run(.argocd(application: "oms-dev", settle: settle), candidate: candidate.map(ref), now: now)
            #expect(!unsettled.passed)
            #expect(unsettled.detail.contains("settle"), "\(unsettled.detail)")

            let missing = await checker.run(.argocd(application: "ghost", settle: nil), candidate: candidate.map(ref), now: now)
            #expect(!missing.passed)
            #expect(missing.detail.contains("ghost"), "\(missing.detail)")
        }
    }

    @Test func prometheusQueryIsComparedWithItsThreshold() async throws {
        try await withChecker { sandbox, checker in
            let query = #"sum(rate(http_errors_total{env="dev"}[5m])) + 0"#
            sandbox.setPrometheus(query: query, value: 0.2)
            let low = await checker.run(.prometheus(query: query, below: 0.5, above: nil), candidate: [], now: Date())
            #expect(low.passed, "\(low.detail)")
            sandbox.setPrometheus(query: query, value: 0.9)
            let high = await checker.run(.prometheus(query: query, below: 0.5, above: nil), candidate: [], now: Date())
            #expect(!high.passed)
            #expect(high.detail.contains("0.9"), "\(high.detail)")
            // An unknown query has no samples: fail closed.
            let empty = await checker.run(.prometheus(query: "up{job=\"nothing\"}", below: 1, above: nil), candidate: [], now: Date())
            #expect(!empty.passed, "\(empty.detail)")
        }
    }

    @Test func httpProbeComparesTheStatusAndFailsClosedWhenUnreachable() async throws {
        try await withChecker { sandbox, checker in
            sandbox.setArgoApplication(SandboxArgoApplication(name: "probe"))
            let url = sandbox.baseURL.absoluteString + "/api/v1/applications/probe"
            let ok = await checker.run(.http(url: url, status: 200), candidate: [], now: Date())
            #expect(ok.passed, "\(ok.detail)")
            let wrong = await checker.run(.http(url: sandbox.baseURL.absoluteString + "/api/v1/applications/none", status: 200),
                                          candidate: [], now: Date())
            #expect(!wrong.passed)
            #expect(wrong.detail == "answered 404, expected 200")
            let closed = await checker.run(.http(url: "http://127.0.0.1:1/healthz", status: 200), candidate: [], now: Date())
            #expect(!closed.passed)
            #expect(closed.detail.hasPrefix("check failed:"), "\(closed.detail)")
        }
    }

    /// A service's own transport (its private CA bundle) is used for that service only.
    @Test(.enabled(if: TLSServer.available, "needs the openssl command"))
    func serviceWithItsOwnCABundleUsesItsOwnTransport() async throws {
        try await TLSServer.with { server in
            let shared = CurlHTTPClient(configuration: HTTPClientConfiguration(retry: .none, proxy: .none))
            var ownCA = HTTPClientConfiguration(retry: .none, proxy: .none)
            ownCA.caBundlePath = server.certificatePath
            let argocd = ServiceAccess(baseURL: server.url, token: "argocd-token", transport: CurlHTTPClient(configuration: ownCA))
            let prometheus = ServiceAccess(baseURL: server.url, token: nil)
            let checker = HealthChecker(transport: shared, argocd: argocd, prometheus: prometheus, timeout: .seconds(5))
            // Argo CD: TLS succeeds with its bundle; `s_server -www` then answers with HTML, not an application.
            let argo = await checker.run(.argocd(application: "oms-dev", settle: nil), candidate: [], now: Date())
            #expect(!argo.passed)
            #expect(!argo.detail.contains("TLS"), "\(argo.detail)")
            // Prometheus has no bundle of its own: the shared transport does not trust the certificate.
            let prom = await checker.run(.prometheus(query: "up", below: 1, above: nil), candidate: [], now: Date())
            #expect(!prom.passed)
            #expect(prom.detail.contains("TLS"), "\(prom.detail)")
        }
    }

    @Test func checksRunTogetherAndKeepTheirOrder() async throws {
        try await withChecker { sandbox, checker in
            sandbox.setPrometheus(query: "errors", value: 0)
            let checks: [HealthCheck] = [
                .http(url: "http://127.0.0.1:1/down", status: 200),
                .prometheus(query: "errors", below: 1, above: nil),
                .argocd(application: "absent", settle: nil),
            ]
            let results = await checker.run(checks, candidate: [], now: Date())
            #expect(results.map(\.check) == checks.map(HealthChecker.label))
            #expect(results.map(\.passed) == [false, true, false])
        }
    }
}
