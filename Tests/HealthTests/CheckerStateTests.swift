import Foundation
import HTTP
import Policies
import Testing
@testable import Health

/// The checker's own rules, before any answer is read: what it cannot even ask is `unknown`, never
/// `failed`, so a gap in promobot's configuration can never roll a stage back.
struct CheckerStateTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// A transport that must not be reached, or that fails like a network would.
    struct Unreachable: HTTPTransport {
        struct Refused: Error, CustomStringConvertible { var description: String { "connection refused" } }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse { throw Refused() }
    }

    struct CheckerCase: Sendable, CustomTestStringConvertible {
        var name: String
        var check: HealthCheck
        var configured: Bool
        var detail: String
        var testDescription: String { name }
    }

    static let cases: [CheckerCase] = [
        .init(name: "no Argo CD configured", check: .argocd(application: "oms-dev", settle: nil), configured: false,
              detail: "no Argo CD configured (set argocd.url in the config file)"),
        .init(name: "no Prometheus configured", check: .prometheus(query: "up", below: nil, above: 0), configured: false,
              detail: "no Prometheus configured (set prometheus.url in the config file)"),
        .init(name: "probe URL not http(s)", check: .http(url: "ftp://oms-dev.example.com/healthz", status: 200), configured: true,
              detail: "not an http(s) URL: ftp://oms-dev.example.com/healthz"),
        .init(name: "probe URL without a scheme", check: .http(url: "oms-dev.example.com/healthz", status: 200), configured: true,
              detail: "not an http(s) URL: oms-dev.example.com/healthz"),
        .init(name: "Argo CD transport error", check: .argocd(application: "oms-dev", settle: nil), configured: true,
              detail: "check failed: connection refused"),
        .init(name: "Prometheus transport error", check: .prometheus(query: "up", below: nil, above: 0), configured: true,
              detail: "check failed: connection refused"),
        .init(name: "probe transport error", check: .http(url: "https://oms-dev.example.com/healthz", status: 200), configured: true,
              detail: "check failed: connection refused"),
    ]

    @Test(arguments: cases)
    func checkThatCannotAskIsUnknown(_ c: CheckerCase) async {
        let access = c.configured ? ServiceAccess(baseURL: URL(string: "https://monitoring.example.com")!, token: "secret-token") : nil
        let checker = HealthChecker(transport: Unreachable(), argocd: access, prometheus: access)
        let result = await checker.run(c.check, candidate: [], now: Self.now)
        #expect(result.state == .unknown)
        #expect(!result.passed)
        #expect(result.detail == c.detail)
        #expect(!result.detail.contains("secret-token"))
        #expect(result.checkedAt == Self.now)
    }
}
