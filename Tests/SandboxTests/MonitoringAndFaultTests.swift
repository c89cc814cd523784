import Foundation
import Testing
import TestSupport
@testable import Sandbox

@Suite("Argo CD, Prometheus and faults")
struct MonitoringAndFaultTests {
    @Test func argoApplication() async throws {
        try await Fixture.with { f in
            let finished = Date(timeIntervalSince1970: 1_800_000_000)
            f.sandbox.setArgoApplication(SandboxArgoApplication(name: "web-test", health: "Progressing", sync: "OutOfSync",
                                                                images: ["registry/web:1.2.3"], operationFinishedAt: finished, revision: "abc123"))
            let r = try await Curl.request("GET", f.sandbox.baseURL.absoluteString + "/api/v1/applications/web-test", headers: ["Authorization": "Bearer argo"])
            #expect(r.status == 200)
            let status = try #require(r.object["status"] as? [String: Any])
            #expect((status["health"] as? [String: Any])?["status"] as? String == "Progressing")
            #expect((status["sync"] as? [String: Any])?["status"] as? String == "OutOfSync")
            #expect((status["sync"] as? [String: Any])?["revision"] as? String == "abc123")
            #expect((status["summary"] as? [String: Any])?["images"] as? [String] == ["registry/web:1.2.3"])
            let op = try #require(status["operationState"] as? [String: Any])
            #expect(op["finishedAt"] as? String == "2027-01-15T08:00:00.000Z")
            #expect(op["phase"] as? String == "Succeeded")
            let missing = try await Curl.request("GET", f.sandbox.baseURL.absoluteString + "/api/v1/applications/nope")
            #expect(missing.status == 404)
            #expect(missing.object["code"] as? Int == 5)
        }
    }

    @Test(arguments: [("GET", 0.25 as Double?), ("POST", 3 as Double?), ("GET", nil as Double?)])
    func prometheusQuery(method: String, value: Double?) async throws {
        try await Fixture.with { f in
            let query = "sum(rate(http_requests_total{code=~\"5..\"}[5m]))"
            f.sandbox.setPrometheus(query: query, value: value)
            let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let base = f.sandbox.baseURL.absoluteString + "/api/v1/query"
            let r = method == "GET"
                ? try await Curl.request("GET", base + "?query=\(encoded)")
                : try await Curl.request("POST", base, body: "query=\(encoded)", contentType: "application/x-www-form-urlencoded")
            #expect(r.status == 200)
            #expect(r.object["status"] as? String == "success")
            let data = try #require(r.object["data"] as? [String: Any])
            #expect(data["resultType"] as? String == "vector")
            let result = try #require(data["result"] as? [[String: Any]])
            if let value {
                let sample = try #require(result.first?["value"] as? [Any])
                #expect(sample.count == 2)
                #expect(Double(sample[1] as? String ?? "") == value)
            } else {
                #expect(result.isEmpty)
            }
            let unknown = try await Curl.request("GET", base + "?query=up")
            #expect(((unknown.object["data"] as? [String: Any])?["result"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func statusFaultThenRecovery() async throws {
        try await Fixture.with { f in
            f.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: "/api/v4/projects", kind: .status(429, body: "Retry later", headers: ["Retry-After": "7"]), count: 2))
            let first = try await f.call("GET", "")
            #expect(first.status == 429)
            #expect(first.header("Retry-After") == "7")
            #expect(first.text == "Retry later")
            let post = try await f.call("POST", "/merge_requests", json: "{}")
            #expect(post.status == 400) // method does not match: handled normally
            #expect(try await f.call("GET", "").status == 429)
            #expect(try await f.call("GET", "").status == 200)
            #expect(f.sandbox.requests(matching: "/api/v4/projects/group%2Fdeploy") == 4)
            f.sandbox.resetRequestLog()
            #expect(f.sandbox.requestCount == 0)
        }
    }

    @Test func dropAndDelayFaults() async throws {
        try await Fixture.with { f in
            f.sandbox.injectFault(SandboxFault(pathPrefix: "/api/v4/user", kind: .drop))
            let dropped = await #expect(throws: CurlFailure.self) { _ = try await Curl.request("GET", f.api + "/user", headers: ["PRIVATE-TOKEN": Fixture.botToken]) }
            #expect(dropped?.exitCode == 52, "curl should see an empty reply (connection closed), got \(String(describing: dropped))")
            #expect(try await Curl.request("GET", f.api + "/user", headers: ["PRIVATE-TOKEN": Fixture.botToken]).status == 200)
            f.sandbox.injectFault(SandboxFault(pathPrefix: "/api/v4/user", kind: .delay(.milliseconds(400))))
            let start = ContinuousClock.now
            let delayed = try await Curl.request("GET", f.api + "/user", headers: ["PRIVATE-TOKEN": Fixture.botToken])
            #expect(delayed.status == 200)
            #expect(ContinuousClock.now - start >= .milliseconds(400))
        }
    }

    @Test func shutdownIsIdempotentAndStopsListening() async throws {
        try await withSandbox("sandbox-test") { sandbox, _ async throws in
            let url = sandbox.baseURL.absoluteString + "/-/health"
            #expect(try await Curl.request("GET", url).status == 200)
            await sandbox.shutdown()
            await sandbox.shutdown()
            await #expect(throws: CurlFailure.self) { _ = try await Curl.request("GET", url, timeout: 3) }
        }
    }
}
