import Foundation
import Testing
@testable import Sandbox

@Suite("GitLab REST")
struct GitLabAPITests {
    @Test func authenticationAndRoles() async throws {
        try await Fixture.with { f in
            let missing = try await f.call("GET", "", token: nil)
            #expect(missing.status == 401)
            #expect(missing.text == #"{"message":"401 Unauthorized"}"#)
            let bad = try await f.call("GET", "", token: "nope")
            #expect(bad.status == 401)
            let bearer = try await Curl.request("GET", f.api + "/user", headers: ["Authorization": "Bearer \(Fixture.devToken)"])
            #expect(bearer.status == 200)
            #expect(bearer.object["username"] as? String == "dev")
            try f.sandbox.commit(project: Fixture.project, branch: "feature", files: ["a": "b"], message: "x")
            let reporter = try await f.call("POST", "/merge_requests", token: Fixture.reporterToken,
                                            json: #"{"title":"t","source_branch":"feature","target_branch":"main"}"#)
            #expect(reporter.status == 403)
            #expect(reporter.text == #"{"message":"403 Forbidden"}"#)
            let read = try await f.call("GET", "/merge_requests", token: Fixture.reporterToken)
            #expect(read.status == 200)
        }
    }

    @Test func usersAreFoundByExactUsername() async throws {
        try await Fixture.with { f in
            let found = try await Curl.request("GET", f.api + "/users?username=DEV", headers: ["PRIVATE-TOKEN": Fixture.botToken])
            #expect(found.status == 200)
            let list = try #require(try JSONSerialization.jsonObject(with: Data(found.text.utf8)) as? [[String: Any]])
            #expect(list.map { $0["username"] as? String } == ["dev"])
            let id = try #require(list.first?["id"] as? Int)
            let none = try await Curl.request("GET", f.api + "/users?username=ghost", headers: ["PRIVATE-TOKEN": Fixture.botToken])
            #expect(none.status == 200)
            #expect(none.text == "[]")
            let byID = try await Curl.request("GET", f.api + "/users/\(id)", headers: ["PRIVATE-TOKEN": Fixture.botToken])
            #expect(byID.object["username"] as? String == "dev")
            let unknown = try await Curl.request("GET", f.api + "/users/99999", headers: ["PRIVATE-TOKEN": Fixture.botToken])
            #expect(unknown.status == 404)
        }
    }

    @Test func projectByPathAndID() async throws {
        try await Fixture.with { f in
            let byPath = try await f.call("GET", "")
            #expect(byPath.status == 200)
            let id = try #require(byPath.object["id"] as? Int)
            #expect(byPath.object["path_with_namespace"] as? String == "group/deploy")
            #expect(byPath.object["default_branch"] as? String == "main")
            #expect(byPath.object["merge_method"] as? String == "merge")
            #expect(byPath.object["http_url_to_repo"] as? String == f.sandbox.baseURL.absoluteString + "/group/deploy.git")
            let byID = try await Curl.request("GET", f.api + "/projects/\(id)", headers: ["PRIVATE-TOKEN": Fixture.botToken])
            #expect(byID.object["path_with_namespace"] as? String == "group/deploy")
            let unknown = try await Curl.request("GET", f.api + "/projects/nope%2Fnope", headers: ["PRIVATE-TOKEN": Fixture.botToken])
            #expect(unknown.status == 404)
            #expect(unknown.text == #"{"message":"404 Project Not Found"}"#)
        }
    }

    @Test func createDuplicateAndValidation() async throws {
        try await Fixture.with { f in
            let mr = try await f.openMR("bump-1", extra: #","labels":"promotion,env::test","description":"d""#)
            #expect(mr["iid"] as? Int == 1)
            #expect(mr["labels"] as? [String] == ["promotion", "env::test"])
            #expect((mr["author"] as? [String: Any])?["username"] as? String == "bot")
            let dup = try await f.call("POST", "/merge_requests", json: #"{"title":"again","source_branch":"bump-1","target_branch":"main"}"#)
            #expect(dup.status == 409)
            #expect(dup.text == #"{"message":["Another open merge request already exists for this source branch: !1"]}"#)
            let noTitle = try await f.call("POST", "/merge_requests", json: #"{"source_branch":"bump-1","target_branch":"main"}"#)
            #expect(noTitle.status == 400)
            #expect(noTitle.text == #"{"error":"title is missing"}"#)
            let noBranch = try await f.call("POST", "/merge_requests", form: "title=x&source_branch=ghost&target_branch=main")
            #expect(noBranch.status == 422)
            // Closing frees the source branch for a new MR.
            let closed = try await f.call("PUT", "/merge_requests/1", json: #"{"state_event":"close"}"#)
            #expect(closed.object["state"] as? String == "closed")
            let second = try await f.call("POST", "/merge_requests", form: "title=again&source_branch=bump-1&target_branch=main&labels[]=a&labels[]=b")
            #expect(second.status == 201)
            #expect(second.object["labels"] as? [String] == ["a", "b"])
            // Reopening the first now conflicts with the second.
            let reopen = try await f.call("PUT", "/merge_requests/1", json: #"{"state_event":"reopen"}"#)
            #expect(reopen.status == 409)
        }
    }

    @Test func updateLabelsAndTitle() async throws {
        try await Fixture.with { f in
            try await f.openMR("b", extra: #","labels":["x","y"]"#)
            let r = try await f.call("PUT", "/merge_requests/1", json: #"{"title":"New","add_labels":"z","remove_labels":["x"],"description":"D"}"#)
            #expect(r.status == 200)
            #expect(r.object["title"] as? String == "New")
            #expect(r.object["labels"] as? [String] == ["y", "z"])
            let empty = try await f.call("PUT", "/merge_requests/1", json: "{}")
            #expect(empty.status == 400)
            let snapshot = try #require(f.sandbox.mergeRequests(project: Fixture.project).first)
            #expect(snapshot.description == "D")
        }
    }

    @Test func mergeWithShaPinningAndRemoveSourceBranch() async throws {
        try await Fixture.with { f in
            let mr = try await f.openMR("bump", content: "image: web:2.0.0\n", extra: #","remove_source_branch":true"#)
            let sha = try #require(mr["sha"] as? String)
            let stale = try await f.call("PUT", "/merge_requests/1/merge", json: #"{"sha":"0000000000000000000000000000000000000000"}"#)
            #expect(stale.status == 409)
            #expect(stale.text == #"{"message":"SHA does not match HEAD of source branch: \#(sha)"}"#)
            let merged = try await f.call("PUT", "/merge_requests/1/merge", json: #"{"sha":"\#(sha)"}"#)
            #expect(merged.status == 200, "\(merged.text)")
            #expect(merged.object["state"] as? String == "merged")
            let mergeSHA = try #require(merged.object["merge_commit_sha"] as? String)
            #expect(try f.sandbox.branchSHA(project: Fixture.project, branch: "main") == mergeSHA)
            #expect(try f.sandbox.fileContent(project: Fixture.project, ref: "main", path: "apps/web/deployment.yaml") == "image: web:2.0.0\n")
            #expect(try f.sandbox.branchSHA(project: Fixture.project, branch: "bump") == nil)
            let again = try await f.call("PUT", "/merge_requests/1/merge", json: "{}")
            #expect(again.status == 405)
            #expect(again.text == #"{"message":"405 Method Not Allowed"}"#)
        }
    }

    @Test func squashAndKeepSourceBranch() async throws {
        try await Fixture.with { f in
            try await f.openMR("keep")
            let merged = try await f.call("PUT", "/merge_requests/1/merge", form: "squash=true&should_remove_source_branch=false")
            #expect(merged.status == 200)
            #expect(merged.object["squash_commit_sha"] as? String != nil)
            #expect(try f.sandbox.branchSHA(project: Fixture.project, branch: "keep") != nil)
        }
    }

    enum StatusCase: String, CaseIterable, Sendable { case mergeable, draft, conflict, needRebase, ciRunning, ciFailed, notApproved, notOpen }

    @Test(arguments: StatusCase.allCases)
    func detailedMergeStatus(_ c: StatusCase) async throws {
        try await Fixture.with(mergeMethod: c == .needRebase ? .ff : .merge) { f in
            let s = f.sandbox, p = Fixture.project
            let mr = try await f.openMR("feature", title: c == .draft ? "Draft: bump" : "Bump")
            let sha = try #require(mr["sha"] as? String)
            let expected: String
            switch c {
            case .mergeable: expected = "mergeable"
            case .draft: expected = "draft_status"
            case .conflict:
                try s.commit(project: p, branch: "main", files: ["apps/web/deployment.yaml": "image: web:9.9.9\n"], message: "conflicting")
                expected = "conflict"
            case .needRebase:
                try s.commit(project: p, branch: "main", files: ["other.txt": "x"], message: "moves main")
                expected = "need_rebase"
            case .ciRunning: s.setPipeline(project: p, sha: sha, status: "running"); expected = "ci_still_running"
            case .ciFailed: s.setPipeline(project: p, sha: sha, status: "failed"); expected = "ci_must_pass"
            case .notApproved: s.setApprovalsRequired(project: p, count: 1); expected = "not_approved"
            case .notOpen: _ = try await f.call("PUT", "/merge_requests/1", json: #"{"state_event":"close"}"#); expected = "not_open"
            }
            let got = try await f.call("GET", "/merge_requests/1")
            #expect(got.object["detailed_merge_status"] as? String == expected)
            if c == .conflict { #expect(got.object["has_conflicts"] as? Bool == true) }
            let merge = try await f.call("PUT", "/merge_requests/1/merge", json: "{}")
            #expect(merge.status == (c == .mergeable ? 200 : 405), "\(c): \(merge.text)")
        }
    }

    @Test func fastForwardMergeMovesTargetToSource() async throws {
        try await Fixture.with(mergeMethod: .ff) { f in
            let mr = try await f.openMR("ff")
            let merged = try await f.call("PUT", "/merge_requests/1/merge", json: "{}")
            #expect(merged.status == 200)
            #expect(try f.sandbox.branchSHA(project: Fixture.project, branch: "main") == mr["sha"] as? String)
        }
    }

    @Test func approvals() async throws {
        try await Fixture.with { f in
            f.sandbox.setApprovalsRequired(project: Fixture.project, count: 1)
            try await f.openMR("a")
            let before = try await f.call("GET", "/merge_requests/1/approvals")
            #expect(before.object["approvals_required"] as? Int == 1)
            #expect(before.object["approvals_left"] as? Int == 1)
            let byAuthor = try await f.call("POST", "/merge_requests/1/approve")
            #expect(byAuthor.status == 401)
            let byDev = try await f.call("POST", "/merge_requests/1/approve", token: Fixture.devToken)
            #expect(byDev.status == 201)
            #expect(byDev.object["approvals_left"] as? Int == 0)
            let approvedBy = try #require(byDev.object["approved_by"] as? [[String: Any]])
            #expect((approvedBy.first?["user"] as? [String: Any])?["username"] as? String == "dev")
            let twice = try await f.call("POST", "/merge_requests/1/approve", token: Fixture.devToken)
            #expect(twice.status == 401)
            let status = try await f.call("GET", "/merge_requests/1")
            #expect(status.object["detailed_merge_status"] as? String == "mergeable")
            #expect(throws: SandboxError.self) { try f.sandbox.approve(project: Fixture.project, iid: 1, username: "dev") }
            try f.sandbox.approve(project: Fixture.project, iid: 1, username: "boss")
            #expect(f.sandbox.mergeRequests(project: Fixture.project).first?.approvedBy == ["dev", "boss"])
        }
    }

    @Test func autoMergeWhenPipelineSucceeds() async throws {
        try await Fixture.with { f in
            let mr = try await f.openMR("auto")
            let sha = try #require(mr["sha"] as? String)
            f.sandbox.setPipeline(project: Fixture.project, sha: sha, status: "running")
            let scheduled = try await f.call("PUT", "/merge_requests/1/merge", json: #"{"merge_when_pipeline_succeeds":true,"should_remove_source_branch":true}"#)
            #expect(scheduled.status == 200)
            #expect(scheduled.object["state"] as? String == "opened")
            #expect(scheduled.object["merge_when_pipeline_succeeds"] as? Bool == true)
            #expect((scheduled.object["head_pipeline"] as? [String: Any])?["status"] as? String == "running")
            f.sandbox.setPipeline(project: Fixture.project, sha: sha, status: "success")
            let after = try #require(f.sandbox.mergeRequests(project: Fixture.project).first)
            #expect(after.state == "merged")
            #expect(try f.sandbox.branchSHA(project: Fixture.project, branch: "auto") == nil)
            let pipelines = try await f.call("GET", "/pipelines?sha=\(sha)")
            #expect(pipelines.array.first?["status"] as? String == "success")
        }
    }

    @Test func notesAndCommits() async throws {
        try await Fixture.with { f in
            try await f.openMR("n")
            let created = try await f.call("POST", "/merge_requests/1/notes", json: #"{"body":"hello <!-- promobot -->"}"#)
            #expect(created.status == 201)
            let id = try #require(created.object["id"] as? Int)
            let edited = try await f.call("PUT", "/merge_requests/1/notes/\(id)", form: "body=edited")
            #expect(edited.object["body"] as? String == "edited")
            let foreign = try await f.call("PUT", "/merge_requests/1/notes/\(id)", token: Fixture.devToken, json: #"{"body":"x"}"#)
            #expect(foreign.status == 403)
            let list = try await f.call("GET", "/merge_requests/1/notes")
            #expect(list.array.map { $0["body"] as? String } == ["edited"])
            let missing = try await f.call("POST", "/merge_requests/1/notes", json: "{}")
            #expect(missing.text == #"{"error":"body is missing"}"#)
            let commits = try await f.call("GET", "/merge_requests/1/commits")
            #expect(commits.array.map { $0["title"] as? String } == ["bump n"])
        }
    }

    @Test func branchesEndpoint() async throws {
        try await Fixture.with { f in
            try f.sandbox.commit(project: Fixture.project, branch: "feature/x", files: ["f": "1"], message: "m")
            let get = try await f.call("GET", "/repository/branches/feature%2Fx")
            #expect(get.status == 200)
            #expect(get.object["name"] as? String == "feature/x")
            let delete = try await f.call("DELETE", "/repository/branches/feature%2Fx")
            #expect(delete.status == 204)
            let gone = try await f.call("GET", "/repository/branches/feature%2Fx")
            #expect(gone.text == #"{"message":"404 Branch Not Found"}"#)
            let main = try await f.call("DELETE", "/repository/branches/main")
            #expect(main.status == 400)
        }
    }

    @Test func paginationOver250MergeRequests() async throws {
        try await Fixture.with { f in
            let base = try #require(try f.sandbox.branchSHA(project: Fixture.project, branch: "main"))
            let head = try f.sandbox.commit(project: Fixture.project, branch: "seed", files: ["s": "1"], message: "seed")
            _ = base
            for i in 1...250 {
                try f.sandbox.createBranch(project: Fixture.project, branch: "b\(i)", ref: head)
                let r = try await f.call("POST", "/merge_requests", form: "title=t\(i)&source_branch=b\(i)&target_branch=main")
                try #require(r.status == 201)
            }
            var url: String? = f.projectAPI + "/merge_requests?state=opened&per_page=100"
            var seen: [Int] = []
            var pages = 0
            var lastNext: String?
            while let next = url {
                let r = try await Curl.request("GET", next, headers: ["PRIVATE-TOKEN": Fixture.botToken])
                #expect(r.header("X-Total") == "250")
                #expect(r.header("X-Total-Pages") == "3")
                seen += r.array.compactMap { $0["iid"] as? Int }
                lastNext = r.header("X-Next-Page")
                pages += 1
                url = r.header("Link")?.components(separatedBy: ", ").first { $0.hasSuffix("rel=\"next\"") }
                    .map { String($0.dropFirst().prefix { $0 != ">" }) }
                if pages > 5 { break }
            }
            #expect(pages == 3)
            #expect(lastNext == "")
            #expect(seen == Array((1...250).reversed()))
            let small = try await f.call("GET", "/merge_requests?per_page=1000")
            #expect(small.header("X-Per-Page") == "100")
            #expect(small.header("X-Prev-Page") == "")
        }
    }
}
