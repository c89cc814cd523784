import Foundation
import Testing
import GitLab
import HTTP
import Sandbox

@Suite struct GitLabPaginationTests {
    @Test func listsMoreThanOnePageOfMergeRequests() async throws {
        try await withSandbox { h in
            let client = h.client()
            var iids: Set<Int> = []
            for index in 0..<105 {
                try h.sandbox.createBranch(project: SandboxHarness.projectPath, branch: "promote/bulk-\(index)")
                let mr = try await client.createMergeRequest(h.project, CreateMergeRequest(
                    title: "Bulk \(index)", sourceBranch: "promote/bulk-\(index)", targetBranch: "main", labels: ["bulk"]))
                iids.insert(mr.iid)
            }
            #expect(iids.count == 105)
            let listPath = h.apiProjectPrefix + "/merge_requests"
            h.sandbox.resetRequestLog()
            let before = client.requestCount
            let all = try await client.mergeRequests(h.project, MergeRequestQuery(labels: ["bulk"]))
            #expect(all.count == 105)
            #expect(Set(all.map(\.iid)) == iids)
            #expect(client.requestCount - before == 2, "per_page=100 → exactly two pages")
            #expect(h.sandbox.requestLog() == [listPath, listPath])
        }
    }

    static func pipelineJSON(_ id: Int) -> String {
        #"{"id":\#(id),"iid":\#(id),"project_id":1,"sha":"\#(String(repeating: "a", count: 40))","ref":"main","status":"success","source":"push","web_url":"","created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00Z"}"#
    }

    @Test func followsXNextPageWithoutLinkAndIgnoresXTotal() async throws {
        try await withSandbox { h in
            let client = h.client()
            let path = h.apiProjectPrefix + "/merge_requests/77/pipelines"
            // X-Total lies (1); X-Next-Page drives; an empty X-Next-Page ends the list.
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: path, kind: .status(
                200, body: "[\(Self.pipelineJSON(1))]", headers: ["Content-Type": "application/json", "X-Next-Page": "2", "X-Total": "1"])))
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: path, kind: .status(
                200, body: "[\(Self.pipelineJSON(2))]", headers: ["Content-Type": "application/json", "X-Next-Page": "3"])))
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: path, kind: .status(
                200, body: "[\(Self.pipelineJSON(3))]", headers: ["Content-Type": "application/json", "X-Next-Page": ""])))
            let pipelines = try await client.pipelines(h.project, iid: 77)
            #expect(pipelines.map(\.id) == [1, 2, 3])
            #expect(client.requestCount == 3)
        }
    }

    @Test func followsSameOriginLink() async throws {
        try await withSandbox { h in
            let client = h.client()
            let path = h.apiProjectPrefix + "/merge_requests/77/pipelines"
            // The next link points at a distinct path, proving the client followed Link and kept %2F.
            let nextPath = "/api/v4/projects/other%2Fgroup/merge_requests/77/pipelines"
            let next = h.sandbox.baseURL.absoluteString + nextPath + "?page=2&per_page=100"
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: path, kind: .status(
                200, body: "[\(Self.pipelineJSON(1))]", headers: ["Link": "<\(next)>; rel=\"next\""])))
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: nextPath, kind: .status(
                200, body: "[\(Self.pipelineJSON(2))]", headers: [:])))
            h.sandbox.resetRequestLog()
            let pipelines = try await client.pipelines(h.project, iid: 77)
            #expect(pipelines.map(\.id) == [1, 2])
            #expect(h.sandbox.requestLog() == [path, nextPath])
        }
    }

    @Test func refusesACrossOriginNextLink() async throws {
        try await withSandbox { h in
            let client = h.client()
            let path = h.apiProjectPrefix + "/merge_requests/77/pipelines"
            let evil = "<http://203.0.113.7:9/api/v4/projects/1/merge_requests/77/pipelines?page=2>; rel=\"next\""
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: path, kind: .status(
                200, body: "[\(Self.pipelineJSON(1))]", headers: ["Link": evil])))
            let error = await #expect(throws: GitLabError.self) { try await client.pipelines(h.project, iid: 77) }
            #expect(error?.kind == .unexpected)
            #expect(error?.message.contains("203.0.113.7") == true)
            #expect(client.requestCount == 1, "nothing was sent to the other origin")
            if let error { expectNoSecrets(error, h) }

            // With X-Next-Page as well, the page is fetched from our own origin instead.
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: path, kind: .status(
                200, body: "[\(Self.pipelineJSON(1))]", headers: ["Link": evil, "X-Next-Page": "2"])))
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: path, kind: .status(
                200, body: "[\(Self.pipelineJSON(2))]", headers: ["X-Next-Page": ""])))
            let fallback = try await client.pipelines(h.project, iid: 77)
            #expect(fallback.map(\.id) == [1, 2])
        }
    }

    @Test func stopsAPaginationLoop() async throws {
        try await withSandbox { h in
            let client = h.client()
            let path = h.apiProjectPrefix + "/merge_requests/77/pipelines"
            let same = h.sandbox.baseURL.absoluteString + path + "?per_page=100"
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: path, kind: .status(
                200, body: "[\(Self.pipelineJSON(1))]", headers: ["Link": "<\(same)>; rel=\"next\""])))
            let error = await #expect(throws: GitLabError.self) { try await client.pipelines(h.project, iid: 77) }
            #expect(error?.kind == .unexpected)
            #expect(client.requestCount == 1)
        }
    }
}
