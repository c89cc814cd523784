import Foundation
import HTTP
import Policies
import Manifests
import Testing
@testable import Health

/// Table tests for the pure readers of Argo CD and Prometheus answers.
struct VerdictTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func argo(health: String = "Healthy", sync: String = "Synced", images: [String] = ["registry.example.com/oms/app:1.5.0"],
                     phase: String? = "Succeeded", finishedSecondsAgo: Int? = 600) -> HTTPResponse {
        var status: [String: Any] = [
            "health": ["status": health],
            "sync": ["status": sync, "revision": "abc"],
            "summary": ["images": images],
        ]
        if let phase {
            var op: [String: Any] = ["phase": phase]
            if let ago = finishedSecondsAgo {
                op["finishedAt"] = ISO8601DateFormatter().string(from: now.addingTimeInterval(TimeInterval(-ago)))
            }
            status["operationState"] = op
        }
        let body = try! JSONSerialization.data(withJSONObject: ["metadata": ["name": "oms-dev"], "status": status])
        return HTTPResponse(status: 200, body: body)
    }

    struct ArgoCase: Sendable, CustomTestStringConvertible {
        var name: String
        var response: HTTPResponse
        var settle: PolicyDuration?
        /// Only `failed` may roll a stage back; `unknown` blocks promotions but never does.
        var state: HealthState
        var detailContains: String
        var testDescription: String { name }
    }

    static func argoAnswer(_ status: Int, _ body: String) -> HTTPResponse { HTTPResponse(status: status, body: Data(body.utf8)) }

    static let argoCases: [ArgoCase] = [
        // Passed.
        .init(name: "healthy", response: argo(), settle: .init(seconds: 120), state: .passed, detailContains: "Healthy"),
        .init(name: "settle exactly reached", response: argo(finishedSecondsAgo: 120), settle: .init(seconds: 120), state: .passed, detailContains: "Healthy"),
        .init(name: "no settle, no operation", response: argo(phase: nil), settle: nil, state: .passed, detailContains: "Healthy"),
        // Failed: Argo CD's own verdict on the running app.
        .init(name: "degraded", response: argo(health: "Degraded"), settle: nil, state: .failed, detailContains: "health is Degraded"),
        .init(name: "missing", response: argo(health: "Missing"), settle: nil, state: .failed, detailContains: "health is Missing"),
        // Bad health before the candidate is rolled out and settled says nothing about the candidate.
        .init(name: "degraded while out of sync", response: argo(health: "Degraded", sync: "OutOfSync"), settle: nil, state: .unknown, detailContains: "health is Degraded"),
        .init(name: "degraded within settle", response: argo(health: "Degraded", finishedSecondsAgo: 30), settle: .init(seconds: 120), state: .unknown, detailContains: "health is Degraded"),
        .init(name: "degraded on the previous version", response: argo(health: "Degraded", images: ["registry.example.com/oms/app:1.4.2"]), settle: nil, state: .unknown, detailContains: "health is Degraded"),
        .init(name: "degraded after settle", response: argo(health: "Degraded", finishedSecondsAgo: 300), settle: .init(seconds: 120), state: .failed, detailContains: "health is Degraded"),
        // Unknown: health that is not a verdict.
        .init(name: "progressing", response: argo(health: "Progressing"), settle: nil, state: .unknown, detailContains: "Progressing"),
        .init(name: "suspended", response: argo(health: "Suspended"), settle: nil, state: .unknown, detailContains: "health is Suspended"),
        .init(name: "health Unknown", response: argo(health: "Unknown"), settle: nil, state: .unknown, detailContains: "health is Unknown"),
        // Unknown: not synced, or the last sync did not finish well.
        .init(name: "out of sync", response: argo(sync: "OutOfSync"), settle: nil, state: .unknown, detailContains: "sync is OutOfSync"),
        .init(name: "sync Unknown", response: argo(sync: "Unknown"), settle: nil, state: .unknown, detailContains: "sync is Unknown"),
        .init(name: "operation running", response: argo(phase: "Running", finishedSecondsAgo: nil), settle: nil, state: .unknown, detailContains: "last operation is Running"),
        .init(name: "operation terminating", response: argo(phase: "Terminating", finishedSecondsAgo: nil), settle: nil, state: .unknown, detailContains: "last operation is Terminating"),
        .init(name: "operation failed", response: argo(phase: "Failed"), settle: nil, state: .unknown, detailContains: "last operation is Failed"),
        .init(name: "operation error", response: argo(phase: "Error"), settle: nil, state: .unknown, detailContains: "last operation is Error"),
        // Unknown: the candidate is not rolled out yet, or has not settled.
        .init(name: "other image", response: argo(images: ["registry.example.com/oms/app:1.4.2"]), settle: nil, state: .unknown, detailContains: "not running registry.example.com/oms/app:1.5.0"),
        .init(name: "no images", response: argo(images: []), settle: nil, state: .unknown, detailContains: "(runs none)"),
        .init(name: "settle not reached", response: argo(finishedSecondsAgo: 30), settle: .init(seconds: 120), state: .unknown, detailContains: "settle is 2m"),
        .init(name: "no operation but settle asked", response: argo(phase: nil), settle: .init(seconds: 60), state: .unknown, detailContains: "no finished sync"),
        .init(name: "operation not finished but settle asked", response: argo(finishedSecondsAgo: nil), settle: .init(seconds: 60), state: .unknown, detailContains: "no finished sync"),
        // Unknown: Argo CD did not answer with an application.
        .init(name: "404", response: argoAnswer(404, #"{"error":"not found","code":5,"message":"applications.argoproj.io \"x\" not found"}"#), settle: nil, state: .unknown, detailContains: "answered 404"),
        .init(name: "403", response: argoAnswer(403, #"{"error":"permission denied","code":7,"message":"permission denied"}"#), settle: nil, state: .unknown, detailContains: "answered 403 for application 'oms-dev': permission denied"),
        .init(name: "503 without a body", response: argoAnswer(503, ""), settle: nil, state: .unknown, detailContains: "answered 503 for application 'oms-dev'"),
        .init(name: "500 with HTML", response: argoAnswer(500, "<html>oops</html>"), settle: nil, state: .unknown, detailContains: "answered 500"),
        .init(name: "garbage", response: argoAnswer(200, "<html>"), settle: nil, state: .unknown, detailContains: "cannot read"),
    ]

    @Test(arguments: argoCases)
    func argoCD(_ c: ArgoCase) {
        let (state, detail) = ArgoCDVerdict.evaluate(response: c.response, application: "oms-dev",
                                                     candidate: [ref("registry.example.com/oms/app:1.5.0")], settle: c.settle, now: Self.now)
        #expect(state == c.state, "\(detail)")
        #expect(detail.contains(c.detailContains), "\(detail)")
        // Fail-closed: only `passed` passes.
        #expect(HealthResult(check: "argocd oms-dev", state: state, detail: detail, checkedAt: Self.now).passed == (c.state == .passed))
    }

    @Test func argoMatchesDockerHubShortNames() {
        let (state, _) = ArgoCDVerdict.evaluate(response: Self.argo(images: ["docker.io/library/nginx:1.25"]), application: "x",
                                                candidate: [ref("nginx:1.25")], settle: nil, now: Self.now)
        #expect(state == .passed)
    }

    /// Digests are compared when both sides have one (a pinned candidate, Argo CD reporting `image:tag@sha256:…`);
    /// otherwise the tag decides, so a pin on one side alone never fails a check.
    @Test(arguments: [
        ("registry.example.com/oms/app:1.5.0@sha256:\(String(repeating: "a", count: 64))", "registry.example.com/oms/app:1.5.0@sha256:\(String(repeating: "a", count: 64))", HealthState.passed),
        ("registry.example.com/oms/app:1.5.0@sha256:\(String(repeating: "a", count: 64))", "registry.example.com/oms/app:1.5.0@sha256:\(String(repeating: "b", count: 64))", HealthState.unknown),
        ("registry.example.com/oms/app:1.5.0@sha256:\(String(repeating: "a", count: 64))", "registry.example.com/oms/app@sha256:\(String(repeating: "a", count: 64))", HealthState.passed),
        ("registry.example.com/oms/app:1.5.0@sha256:\(String(repeating: "a", count: 64))", "registry.example.com/oms/app:1.5.0", HealthState.passed),
        ("registry.example.com/oms/app:1.5.0", "registry.example.com/oms/app:1.5.0@sha256:\(String(repeating: "b", count: 64))", HealthState.passed),
    ])
    func argoComparesDigestsWhenBothSidesHaveThem(candidate: String, running: String, expected: HealthState) {
        let (state, _) = ArgoCDVerdict.evaluate(response: Self.argo(images: [running]), application: "x",
                                                candidate: [ref(candidate)], settle: nil, now: Self.now)
        #expect(state == expected)
    }

    static func prom(_ json: String, status: Int = 200) -> HTTPResponse { HTTPResponse(status: status, body: Data(json.utf8)) }

    struct PromCase: Sendable, CustomTestStringConvertible {
        var name: String
        var json: String
        var status: Int = 200
        var below: Double?
        var above: Double?
        var state: HealthState
        var detailContains: String
        var testDescription: String { name }
    }

    static func vector(_ values: String...) -> String {
        let samples = values.map { #"{"metric":{},"value":[1700000000.1,"\#($0)"]}"# }.joined(separator: ",")
        return #"{"status":"success","data":{"resultType":"vector","result":[\#(samples)]}}"#
    }

    static let promCases: [PromCase] = [
        // Passed and failed: a single value, compared with the bounds.
        .init(name: "below bound", json: vector("0.2"), below: 0.5, state: .passed, detailContains: "below 0.5"),
        .init(name: "not below bound", json: vector("0.7"), below: 0.5, state: .failed, detailContains: "not below"),
        .init(name: "equal to below bound", json: vector("0.5"), below: 0.5, state: .failed, detailContains: "not below"),
        .init(name: "+Inf is out of bounds", json: vector("+Inf"), below: 0.5, state: .failed, detailContains: "not below"),
        .init(name: "scalar above", json: #"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"9"]}}"#, above: 5, state: .passed, detailContains: "above 5"),
        .init(name: "scalar not above", json: #"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3"]}}"#, above: 5, state: .failed, detailContains: "not above"),
        .init(name: "both bounds", json: vector("2"), below: 5, above: 1, state: .passed, detailContains: "below 5 and above 1"),
        // Unknown: no single number to judge.
        .init(name: "no data", json: vector(), below: 0.5, state: .unknown, detailContains: "no data"),
        .init(name: "NaN", json: vector("NaN"), below: 0.5, state: .unknown, detailContains: "NaN"),
        .init(name: "several series", json: vector("0.1", "0.2"), below: 0.5, state: .unknown, detailContains: "2 series, expected one"),
        .init(name: "matrix", json: #"{"status":"success","data":{"resultType":"matrix","result":[]}}"#, below: 0.5, state: .unknown, detailContains: "returned a matrix"),
        .init(name: "string", json: #"{"status":"success","data":{"resultType":"string","result":[1700000000,"x"]}}"#, below: 0.5, state: .unknown, detailContains: "returned a string"),
        // Unknown: Prometheus did not answer with a result.
        .init(name: "error envelope", json: #"{"status":"error","errorType":"bad_data","error":"parse error"}"#, status: 400, below: 0.5, state: .unknown, detailContains: "bad_data"),
        .init(name: "error envelope with 200", json: #"{"status":"error","errorType":"timeout","error":"query timed out"}"#, below: 0.5, state: .unknown, detailContains: "timeout"),
        .init(name: "success but 503", json: vector("0.1"), status: 503, below: 0.5, state: .unknown, detailContains: "Prometheus error 503"),
        .init(name: "unreadable body", json: "<html>bad gateway</html>", status: 502, below: 0.5, state: .unknown, detailContains: "answered 502 with a body promobot cannot read"),
        .init(name: "empty body", json: "", below: 0.5, state: .unknown, detailContains: "cannot read"),
    ]

    @Test(arguments: promCases)
    func prometheus(_ c: PromCase) {
        let (state, detail) = PrometheusVerdict.evaluate(response: Self.prom(c.json, status: c.status), below: c.below, above: c.above)
        #expect(state == c.state, "\(detail)")
        #expect(detail.contains(c.detailContains), "\(detail)")
        #expect(HealthResult(check: "prometheus q", state: state, detail: detail, checkedAt: Self.now).passed == (c.state == .passed))
    }
}

/// A parsed reference for a table row (the rows are valid by construction).
func ref(_ text: String) -> ImageReference { try! ImageReference.parse(text) }
