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
        var passes: Bool
        var detailContains: String
        var testDescription: String { name }
    }

    static let argoCases: [ArgoCase] = [
        .init(name: "healthy", response: argo(), settle: .init(seconds: 120), passes: true, detailContains: "Healthy"),
        .init(name: "degraded", response: argo(health: "Degraded"), settle: nil, passes: false, detailContains: "health is Degraded"),
        .init(name: "progressing", response: argo(health: "Progressing"), settle: nil, passes: false, detailContains: "Progressing"),
        .init(name: "out of sync", response: argo(sync: "OutOfSync"), settle: nil, passes: false, detailContains: "sync is OutOfSync"),
        .init(name: "other image", response: argo(images: ["registry.example.com/oms/app:1.4.2"]), settle: nil, passes: false, detailContains: "not running registry.example.com/oms/app:1.5.0"),
        .init(name: "settle not reached", response: argo(finishedSecondsAgo: 30), settle: .init(seconds: 120), passes: false, detailContains: "settle is 2m"),
        .init(name: "settle exactly reached", response: argo(finishedSecondsAgo: 120), settle: .init(seconds: 120), passes: true, detailContains: "Healthy"),
        .init(name: "operation running", response: argo(phase: "Running", finishedSecondsAgo: nil), settle: nil, passes: false, detailContains: "Running"),
        .init(name: "no operation but settle asked", response: argo(phase: nil), settle: .init(seconds: 60), passes: false, detailContains: "no finished sync"),
        .init(name: "404", response: HTTPResponse(status: 404, body: Data(#"{"error":"not found","code":5,"message":"applications.argoproj.io \"x\" not found"}"#.utf8)), settle: nil, passes: false, detailContains: "answered 404"),
        .init(name: "garbage", response: HTTPResponse(status: 200, body: Data("<html>".utf8)), settle: nil, passes: false, detailContains: "cannot read"),
    ]

    @Test(arguments: argoCases)
    func argoCD(_ c: ArgoCase) {
        let (passed, detail) = ArgoCDVerdict.evaluate(response: c.response, application: "oms-dev",
                                                      candidate: [ref("registry.example.com/oms/app:1.5.0")], settle: c.settle, now: Self.now)
        #expect(passed == c.passes, "\(detail)")
        #expect(detail.contains(c.detailContains), "\(detail)")
    }

    @Test func argoMatchesDockerHubShortNames() {
        let (passed, _) = ArgoCDVerdict.evaluate(response: Self.argo(images: ["docker.io/library/nginx:1.25"]), application: "x",
                                                 candidate: [ref("nginx:1.25")], settle: nil, now: Self.now)
        #expect(passed)
    }

    static func prom(_ json: String, status: Int = 200) -> HTTPResponse { HTTPResponse(status: status, body: Data(json.utf8)) }

    @Test(arguments: [
        (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.1,"0.2"]}]}}"#, 0.5, nil, true, "below 0.5"),
        (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.1,"0.7"]}]}}"#, 0.5, nil, false, "not below"),
        (#"{"status":"success","data":{"resultType":"vector","result":[]}}"#, 0.5, nil, false, "no data"),
        (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}"#, 0.5, nil, false, "NaN"),
        (#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"9"]}}"#, nil, 5.0, true, "above 5"),
        (#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3"]}}"#, nil, 5.0, false, "not above"),
        (#"{"status":"error","errorType":"bad_data","error":"parse error"}"#, 0.5, nil, false, "bad_data"),
    ] as [(String, Double?, Double?, Bool, String)])
    func prometheus(json: String, below: Double?, above: Double?, passes: Bool, contains: String) {
        let (passed, detail) = PrometheusVerdict.evaluate(response: Self.prom(json), below: below, above: above)
        #expect(passed == passes, "\(detail)")
        #expect(detail.contains(contains), "\(detail)")
    }
}

/// A parsed reference for a table row (the rows are valid by construction).
func ref(_ text: String) -> ImageReference { try! ImageReference.parse(text) }
