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
    func withChecker(timeout: Duration = .seconds(5), _ body: (Sandbox, HealthChecker) async throws -> Void) async throws {
        try await withSandbox("health") { sandbox, _ in
            let http = CurlHTTPClient(configuration: HTTPClientConfiguration(retry: .none, proxy: .none))
            let access = ServiceAccess(baseURL: sandbox.baseURL, token: nil)
            let checker = HealthChecker(transport: http, argocd: access, prometheus: access, timeout: timeout)
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
            #expect(healthy.state == .passed)
            #expect(healthy.check == "argocd oms-dev")

            let older = await checker.run(.argocd(application: "oms-dev", settle: settle), candidate: [ref("\(Self.app):1.6.0")], now: now)
            #expect(!older.passed)
            #expect(older.state == .unknown, "not rolled out yet is no verdict on the app")
            #expect(older.detail.contains("1.6.0"), "\(older.detail)")

            sandbox.setArgoApplication(SandboxArgoApplication(name: "oms-dev", health: "Degraded", images: candidate,
                                                              operationFinishedAt: now.addingTimeInterval(-600)))
            let degraded = await checker.run(.argocd(application: "oms-dev", settle: nil), candidate: candidate.map(ref), now: now)
            #expect(!degraded.passed)
            #expect(degraded.state == .failed)
            #expect(degraded.detail.contains("Degraded"), "\(degraded.detail)")

            sandbox.setArgoApplication(SandboxArgoApplication(name: "oms-dev", images: candidate,
                                                              operationFinishedAt: now.addingTimeInterval(-30)))
            let unsettled = await checker.run(.argocd(application: "oms-dev", settle: settle), candidate: candidate.map(ref), now: now)
            #expect(!unsettled.passed)
            #expect(unsettled.state == .unknown)
            #expect(unsettled.detail.contains("settle"), "\(unsettled.detail)")

            let missing = await checker.run(.argocd(application: "ghost", settle: nil), candidate: candidate.map(ref), now: now)
            #expect(!missing.passed)
            #expect(missing.state == .unknown, "a 404 from Argo CD says nothing about the app")
            #expect(missing.detail.contains("ghost"), "\(missing.detail)")

            sandbox.setArgoApplication(SandboxArgoApplication(name: "oms-dev", health: "Missing", images: candidate,
                                                              operationFinishedAt: now.addingTimeInterval(-600)))
            let gone = await checker.run(.argocd(application: "oms-dev", settle: nil), candidate: candidate.map(ref), now: now)
            #expect(gone.state == .failed, "\(gone.detail)")

            sandbox.setArgoApplication(SandboxArgoApplication(name: "oms-dev", images: candidate,
                                                              operationFinishedAt: now.addingTimeInterval(-600), operationPhase: "Failed"))
            let failedSync = await checker.run(.argocd(application: "oms-dev", settle: settle), candidate: candidate.map(ref), now: now)
            #expect(!failedSync.passed)
            #expect(failedSync.state == .unknown, "a failed sync says nothing about the running app")
            #expect(failedSync.detail == "last operation is Failed")
        }
    }

    /// Argo CD that cannot answer (5xx, a dropped connection, a timeout) blocks promotions but is no
    /// confirmed failure, so it can never roll a stage back.
    @Test func argoCDThatCannotAnswerIsUnknown() async throws {
        try await withChecker(timeout: .milliseconds(500)) { sandbox, checker in
            let candidate = ["\(Self.app):1.5.0"]
            let now = Date()
            sandbox.setArgoApplication(SandboxArgoApplication(name: "oms-dev", images: candidate,
                                                              operationFinishedAt: now.addingTimeInterval(-600)))
            let check = HealthCheck.argocd(application: "oms-dev", settle: nil)
            let path = "/api/v1/applications/oms-dev"

            sandbox.injectFault(SandboxFault(pathPrefix: path, kind: .status(503, body: "upstream connect error")))
            let unavailable = await checker.run(check, candidate: candidate.map(ref), now: now)
            #expect(!unavailable.passed)
            #expect(unavailable.state == .unknown)
            #expect(unavailable.detail == "Argo CD answered 503 for application 'oms-dev'", "\(unavailable.detail)")

            sandbox.injectFault(SandboxFault(pathPrefix: path, kind: .status(403, body: #"{"error":"permission denied","code":7,"message":"permission denied"}"#,
                                                                              headers: ["Content-Type": "application/json"])))
            let denied = await checker.run(check, candidate: candidate.map(ref), now: now)
            #expect(denied.state == .unknown)
            #expect(denied.detail.hasSuffix("permission denied"), "\(denied.detail)")

            // Two drops: libcurl resends once by itself when a reused keep-alive connection dies unanswered.
            sandbox.injectFault(SandboxFault(pathPrefix: path, kind: .drop, count: 2))
            let dropped = await checker.run(check, candidate: candidate.map(ref), now: now)
            sandbox.clearFaults()
            #expect(dropped.state == .unknown)
            #expect(dropped.detail.hasPrefix("check failed:"), "\(dropped.detail)")

            sandbox.injectFault(SandboxFault(pathPrefix: path, kind: .delay(.seconds(2))))
            let slow = await checker.run(check, candidate: candidate.map(ref), now: now)
            #expect(slow.state == .unknown)
            #expect(slow.detail.hasPrefix("check failed:"), "\(slow.detail)")

            // The same application, answered normally, still passes.
            let healthy = await checker.run(check, candidate: candidate.map(ref), now: now)
            #expect(healthy.state == .passed, "\(healthy.detail)")
        }
    }

    @Test func prometheusQueryIsComparedWithItsThreshold() async throws {
        try await withChecker { sandbox, checker in
            let query = #"sum(rate(http_errors_total{env="dev"}[5m])) + 0"#
            sandbox.setPrometheus(query: query, value: 0.2)
            let low = await checker.run(.prometheus(query: query, below: 0.5, above: nil), candidate: [], now: Date())
            #expect(low.passed, "\(low.detail)")
            #expect(low.state == .passed)
            sandbox.setPrometheus(query: query, value: 0.9)
            let high = await checker.run(.prometheus(query: query, below: 0.5, above: nil), candidate: [], now: Date())
            #expect(!high.passed)
            #expect(high.state == .failed)
            #expect(high.detail.contains("0.9"), "\(high.detail)")
            // An unknown query has no samples: fail closed, but no data is no verdict.
            let empty = await checker.run(.prometheus(query: "up{job=\"nothing\"}", below: 1, above: nil), candidate: [], now: Date())
            #expect(!empty.passed, "\(empty.detail)")
            #expect(empty.state == .unknown)
            sandbox.setPrometheus(query: query, value: Double.nan)
            let nan = await checker.run(.prometheus(query: query, below: 0.5, above: nil), candidate: [], now: Date())
            #expect(nan.state == .unknown, "\(nan.detail)")
        }
    }

    /// Prometheus that cannot answer (an error envelope, a proxy's HTML page, a timeout) is unknown.
    @Test func prometheusThatCannotAnswerIsUnknown() async throws {
        try await withChecker(timeout: .milliseconds(500)) { sandbox, checker in
            sandbox.setPrometheus(query: "errors", value: 0.9)
            let check = HealthCheck.prometheus(query: "errors", below: 0.5, above: nil)

            sandbox.injectFault(SandboxFault(pathPrefix: "/api/v1/query", kind: .status(422,
                body: #"{"status":"error","errorType":"execution","error":"query processing would load too many samples"}"#,
                headers: ["Content-Type": "application/json"])))
            let refused = await checker.run(check, candidate: [], now: Date())
            #expect(!refused.passed)
            #expect(refused.state == .unknown)
            #expect(refused.detail.hasPrefix("Prometheus error execution:"), "\(refused.detail)")

            sandbox.injectFault(SandboxFault(pathPrefix: "/api/v1/query", kind: .status(502, body: "<html>Bad Gateway</html>")))
            let gateway = await checker.run(check, candidate: [], now: Date())
            #expect(gateway.state == .unknown)
            #expect(gateway.detail == "Prometheus answered 502 with a body promobot cannot read")

            sandbox.injectFault(SandboxFault(pathPrefix: "/api/v1/query", kind: .delay(.seconds(2))))
            let slow = await checker.run(check, candidate: [], now: Date())
            #expect(slow.state == .unknown)
            #expect(slow.detail.hasPrefix("check failed:"), "\(slow.detail)")

            // Answered normally, the value is out of bounds: a confirmed failure.
            let high = await checker.run(check, candidate: [], now: Date())
            #expect(high.state == .failed, "\(high.detail)")
        }
    }

    @Test func httpProbeComparesTheStatusAndFailsClosedWhenUnreachable() async throws {
        try await withChecker { sandbox, checker in
            sandbox.setArgoApplication(SandboxArgoApplication(name: "probe"))
            let url = sandbox.baseURL.absoluteString + "/api/v1/applications/probe"
            let ok = await checker.run(.http(url: url, status: 200), candidate: [], now: Date())
            #expect(ok.passed, "\(ok.detail)")
            #expect(ok.state == .passed)
            let wrong = await checker.run(.http(url: sandbox.baseURL.absoluteString + "/api/v1/applications/none", status: 200),
                                          candidate: [], now: Date())
            #expect(!wrong.passed)
            #expect(wrong.state == .failed)
            #expect(wrong.detail == "answered 404, expected 200")
            let closed = await checker.run(.http(url: "http://127.0.0.1:1/healthz", status: 200), candidate: [], now: Date())
            #expect(!closed.passed)
            #expect(closed.state == .unknown, "no answer is no verdict")
            #expect(closed.detail.hasPrefix("check failed:"), "\(closed.detail)")
        }
    }

    /// The probe's answer is the app's own word: any other status, a 503 too, is a confirmed failure;
    /// no answer in time is unknown.
    @Test func httpProbeAnsweringAnotherStatusFailsAndATimeoutIsUnknown() async throws {
        try await withChecker(timeout: .milliseconds(500)) { sandbox, checker in
            sandbox.setArgoApplication(SandboxArgoApplication(name: "probe"))
            let url = sandbox.baseURL.absoluteString + "/api/v1/applications/probe"
            sandbox.injectFault(SandboxFault(pathPrefix: "/api/v1/applications/probe", kind: .status(503, body: "no healthy upstream")))
            let unavailable = await checker.run(.http(url: url, status: 200), candidate: [], now: Date())
            #expect(unavailable.state == .failed)
            #expect(unavailable.detail == "answered 503, expected 200")

            sandbox.injectFault(SandboxFault(pathPrefix: "/api/v1/applications/probe", kind: .delay(.seconds(2))))
            let slow = await checker.run(.http(url: url, status: 200), candidate: [], now: Date())
            #expect(slow.state == .unknown)
            #expect(slow.detail.hasPrefix("check failed:"), "\(slow.detail)")

            // Two drops: libcurl resends once by itself when a reused keep-alive connection dies unanswered.
            sandbox.injectFault(SandboxFault(pathPrefix: "/api/v1/applications/probe", kind: .drop, count: 2))
            let dropped = await checker.run(.http(url: url, status: 200), candidate: [], now: Date())
            sandbox.clearFaults()
            #expect(dropped.state == .unknown)
            #expect(dropped.detail.hasPrefix("check failed:"), "\(dropped.detail)")

            let expected404 = await checker.run(.http(url: sandbox.baseURL.absoluteString + "/api/v1/applications/none", status: 404),
                                                candidate: [], now: Date())
            #expect(expected404.state == .passed, "\(expected404.detail)")
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
            #expect(argo.state == .unknown)
            #expect(!argo.detail.contains("TLS"), "\(argo.detail)")
            // Prometheus has no bundle of its own: the shared transport does not trust the certificate.
            let prom = await checker.run(.prometheus(query: "up", below: 1, above: nil), candidate: [], now: Date())
            #expect(!prom.passed)
            #expect(prom.state == .unknown, "a TLS error is no verdict")
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
            #expect(results.map(\.state) == [.unknown, .passed, .unknown])
        }
    }
}
