import Foundation
import Testing
import GitLab
import HTTP
import Sandbox

/// Every endpoint of `GitLabClient` against the GitLab-compatible sandbox on loopback.
@Suite struct GitLabEndpointTests {
    @Test(arguments: [GitLabToken.Style.privateToken, .bearer])
    func currentUserWithEitherHeader(style: GitLabToken.Style) async throws {
        try await withSandbox { h in
            let client = h.client(style: style)
            let user = try await client.currentUser()
            #expect(user.username == "promobot")
            #expect(user.id > 0)
            #expect(client.requestCount == 1)
        }
    }

    @Test func projectByPathAndByID() async throws {
        try await withSandbox { h in
            let client = h.client()
            let byPath = try await client.project(h.project)
            #expect(byPath.pathWithNamespace == SandboxHarness.projectPath)
            #expect(byPath.defaultBranch == "main")
            #expect(byPath.mergeMethod == .merge)
            #expect(byPath.httpURLToRepo == h.sandbox.project(SandboxHarness.projectPath)?.httpURLToRepo)
            #expect(byPath.webURL == h.sandbox.project(SandboxHarness.projectPath)?.webURL)
            let byID = try await client.project(.id(byPath.id))
            #expect(byID == byPath)
            let byString = try await client.project(ProjectRef(String(byPath.id)))
            #expect(byString.id == byPath.id)
            // The encoded path went over the wire as %2F (a decoded "/" would be a 404).
            #expect(h.sandbox.requestLog().contains { $0.hasPrefix(h.apiProjectPrefix) })
        }
    }

    @Test func branchReadAndDelete() async throws {
        try await withSandbox { h in
            let client = h.client()
            let sha = try h.push("promote/app-1.2.3")
            let branch = try #require(try await client.branch(h.project, "promote/app-1.2.3"))
            #expect(branch.name == "promote/app-1.2.3")
            #expect(branch.commitSHA == sha)
            #expect(try await client.branch(h.project, "no/such-branch") == nil)
            #expect(try await client.deleteBranch(h.project, "promote/app-1.2.3") == true)
            #expect(try h.sandbox.branchSHA(project: SandboxHarness.projectPath, branch: "promote/app-1.2.3") == nil)
            #expect(try await client.branch(h.project, "promote/app-1.2.3") == nil)
            #expect(try await client.deleteBranch(h.project, "promote/app-1.2.3") == false)
            // A missing project is an error, not "no branch".
            let error = await #expect(throws: GitLabError.self) { try await client.branch(.path("nope/missing"), "main") }
            #expect(error?.kind == .notFound)
        }
    }

    @Test func createReadListUpdate() async throws {
        try await withSandbox { h in
            let client = h.client()
            let sha = try h.push("promote/test/app")
            let bot = try #require(h.userIDs["promobot"]), reviewer = try #require(h.userIDs["reviewer"])
            let created = try await client.createMergeRequest(h.project, CreateMergeRequest(
                title: "Promote app to test", description: "Bumps app", sourceBranch: "promote/test/app", targetBranch: "main",
                labels: ["promobot", "env::test"], assignees: [.id(bot)], reviewers: [.id(reviewer)], removeSourceBranch: true))
            #expect(created.iid >= 1)
            #expect(created.state == .opened)
            #expect(created.sourceBranch == "promote/test/app")
            #expect(created.targetBranch == "main")
            #expect(created.sha == sha)
            #expect(Set(created.labels) == ["promobot", "env::test"])
            #expect(created.authorUsername == "promobot")
            #expect(created.assignees == ["promobot"])
            #expect(created.reviewers == ["reviewer"])
            #expect(created.removesSourceBranch)
            #expect(created.mergeCommitSHA == nil)
            #expect(!created.draft)

            let snapshot = try #require(h.sandbox.mergeRequests(project: SandboxHarness.projectPath).first { $0.iid == created.iid })
            #expect(snapshot.description == "Bumps app")
            #expect(snapshot.shouldRemoveSourceBranch)

            let read = try await client.mergeRequest(h.project, iid: created.iid)
            #expect(read.iid == created.iid && read.title == "Promote app to test" && read.description == "Bumps app")

            let found = try await client.mergeRequests(h.project, MergeRequestQuery(sourceBranch: "promote/test/app", targetBranch: "main"))
            #expect(found.map(\.iid) == [created.iid])
            #expect(try await client.mergeRequests(h.project, MergeRequestQuery(labels: ["promobot"])).map(\.iid) == [created.iid])
            #expect(try await client.mergeRequests(h.project, MergeRequestQuery(labels: ["other"])).isEmpty)
            #expect(try await client.mergeRequests(h.project, MergeRequestQuery(scope: .createdByMe)).map(\.iid) == [created.iid])
            #expect(try await client.mergeRequests(h.project, MergeRequestQuery(sourceBranch: "other")).isEmpty)

            let updated = try await client.updateMergeRequest(h.project, iid: created.iid, UpdateMergeRequest(
                title: "Draft: Promote app to test", description: "v2", labels: ["promobot"], assignees: [], reviewers: [.id(bot)]))
            #expect(updated.title == "Draft: Promote app to test")
            #expect(updated.description == "v2")
            #expect(updated.labels == ["promobot"])
            #expect(updated.assignees.isEmpty)
            #expect(updated.reviewers == ["promobot"])
            #expect(updated.draft)

            let closed = try await client.updateMergeRequest(h.project, iid: created.iid, UpdateMergeRequest(stateEvent: .close))
            #expect(closed.state == .closed)
            #expect(try await client.mergeRequests(h.project, MergeRequestQuery(sourceBranch: "promote/test/app")).isEmpty)
            #expect(try await client.mergeRequests(h.project, MergeRequestQuery(state: .closed)).map(\.iid) == [created.iid])
            let reopened = try await client.updateMergeRequest(h.project, iid: created.iid, UpdateMergeRequest(stateEvent: .reopen))
            #expect(reopened.state == .opened)

            let before = client.requestCount
            let unchanged = try await client.updateMergeRequest(h.project, iid: created.iid, UpdateMergeRequest())
            #expect(unchanged.iid == created.iid)
            #expect(client.requestCount == before + 1, "an empty update only reads the MR")
        }
    }

    @Test func usernamesAreResolvedOnceAndCached() async throws {
        try await withSandbox { h in
            let client = h.client()
            try h.push("promote/names")
            let reviewer = try #require(try await client.user(username: "@reviewer"))
            #expect(reviewer.id == h.userIDs["reviewer"])
            #expect(reviewer.username == "reviewer")
            let before = client.requestCount
            let mr = try await client.createMergeRequest(h.project, CreateMergeRequest(
                title: "t", sourceBranch: "promote/names", targetBranch: "main", assignees: ["promobot"], reviewers: ["reviewer"]))
            #expect(mr.assignees == ["promobot"])
            #expect(mr.reviewers == ["reviewer"])
            #expect(client.requestCount == before + 2, "one lookup for promobot (reviewer is cached), one create")
            let updated = try await client.updateMergeRequest(h.project, iid: mr.iid, UpdateMergeRequest(assignees: ["reviewer"], reviewers: []))
            #expect(updated.assignees == ["reviewer"])
            #expect(updated.reviewers.isEmpty)
            #expect(client.requestCount == before + 3)
        }
    }

    /// GitLab's own `GET /users?username=` answer (a different case, extra fields), served verbatim by
    /// fault injection; `usernamesAreResolvedOnceAndCached` covers the sandbox's route.
    @Test func usernameLookupReadsGitLabsAnswer() async throws {
        try await withSandbox { h in
            let client = h.client()
            try h.push("promote/lookup")
            let reviewerID = try #require(h.userIDs["reviewer"])
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: "/api/v4/users", kind: .status(
                200, body: #"[{"id":\#(reviewerID),"username":"Reviewer","name":"Re Viewer","state":"active","web_url":"http://x/reviewer"}]"#,
                headers: ["Content-Type": "application/json"])))
            h.sandbox.resetRequestLog()
            let mr = try await client.createMergeRequest(h.project, CreateMergeRequest(
                title: "t", sourceBranch: "promote/lookup", targetBranch: "main", reviewers: ["reviewer"]))
            #expect(mr.reviewers == ["reviewer"])
            #expect(h.sandbox.requestLog() == ["/api/v4/users", h.apiProjectPrefix + "/merge_requests"])
            // Cached: no second lookup.
            #expect(try await client.user(username: "reviewer")?.id == reviewerID)
            #expect(h.sandbox.requestCount == 2)

            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: "/api/v4/users", kind: .status(
                200, body: "[]", headers: ["Content-Type": "application/json"])))
            let error = await #expect(throws: GitLabError.self) {
                try await client.updateMergeRequest(h.project, iid: mr.iid, UpdateMergeRequest(assignees: ["ghost"]))
            }
            #expect(error?.kind == .notFound)
            #expect(error?.message.contains("no GitLab user is named 'ghost'") == true)
            #expect(error?.description.contains("update merge request !\(mr.iid)") == true)
        }
    }

    @Test func unknownUsernameIsAnActionableError() async throws {
        try await withSandbox { h in
            let client = h.client()
            try h.push("promote/x")
            let error = await #expect(throws: GitLabError.self) {
                try await client.createMergeRequest(h.project, CreateMergeRequest(
                    title: "t", sourceBranch: "promote/x", targetBranch: "main", assignees: ["ghost"]))
            }
            #expect(error?.kind == .notFound)
            #expect(error?.message.contains("no GitLab user is named 'ghost'") == true)
            #expect(h.sandbox.mergeRequests(project: SandboxHarness.projectPath).isEmpty)
        }
    }

    @Test func mergePinnedToSHA() async throws {
        try await withSandbox { h in
            let client = h.client()
            let mr = try await h.openMergeRequest(client, branch: "promote/merge")
            let stale = String(repeating: "0", count: 40)
            let mismatch = await #expect(throws: GitLabError.self) {
                try await client.merge(h.project, iid: mr.iid, MergeOptions(sha: stale))
            }
            #expect(mismatch?.kind == .conflict)
            #expect(mismatch?.isSHAMismatch == true)

            let merged = try await client.merge(h.project, iid: mr.iid, MergeOptions(sha: mr.sha, shouldRemoveSourceBranch: true))
            #expect(merged.state == .merged)
            let commit = try #require(merged.mergeCommitSHA)
            #expect(try h.sandbox.branchSHA(project: SandboxHarness.projectPath, branch: "main") == commit)
            #expect(try h.sandbox.fileContent(project: SandboxHarness.projectPath, ref: "main", path: "apps/app/values.yaml")?.contains("tag: 1.0.0") == false)

            // Repeating the pinned merge (e.g. after a lost answer) returns the merged MR instead of 405.
            let again = try await client.merge(h.project, iid: mr.iid, MergeOptions(sha: mr.sha))
            #expect(again.state == .merged && again.mergeCommitSHA == commit)
        }
    }

    @Test func autoMergeWaitsForThePipeline() async throws {
        try await withSandbox { h in
            let client = h.client()
            let mr = try await h.openMergeRequest(client, branch: "promote/auto")
            h.sandbox.setPipeline(project: SandboxHarness.projectPath, sha: mr.sha, status: "running")
            let scheduled = try await client.merge(h.project, iid: mr.iid, MergeOptions(sha: mr.sha, autoMerge: true))
            #expect(scheduled.state == .opened)
            #expect(scheduled.mergeWhenPipelineSucceeds)
            #expect(h.sandbox.mergeRequests(project: SandboxHarness.projectPath).first?.mergeWhenPipelineSucceeds == true)
            let pipelines = try await client.pipelines(h.project, iid: mr.iid)
            #expect(pipelines.map(\.sha) == [mr.sha])
            #expect(pipelines.first?.status == .running)
            #expect(pipelines.first?.status.isActive == true)
            let read = try await client.mergeRequest(h.project, iid: mr.iid)
            #expect(read.headPipelineStatus == .running)
            #expect(read.detailedMergeStatus == .ciStillRunning)

            h.sandbox.setPipeline(project: SandboxHarness.projectPath, sha: mr.sha, status: "success")
            let after = try await client.mergeRequest(h.project, iid: mr.iid)
            #expect(after.state == .merged)
            #expect(try await client.pipelines(h.project, iid: mr.iid).first?.status == .success)
        }
    }

    @Test func approvalsAndApprove() async throws {
        try await withSandbox { h in
            let client = h.client()
            h.sandbox.setApprovalsRequired(project: SandboxHarness.projectPath, count: 2)
            let mr = try await h.openMergeRequest(client, branch: "promote/approve")
            let before = try await client.approvals(h.project, iid: mr.iid)
            #expect(before.approvalsRequired == 2)
            #expect(before.approvalsLeft == 2)
            #expect(before.approvedBy.isEmpty)

            let reviewer = h.client(token: h.reviewerToken)
            try await reviewer.approve(h.project, iid: mr.iid, sha: mr.sha)
            try h.sandbox.approve(project: SandboxHarness.projectPath, iid: mr.iid, username: "reader")
            let after = try await client.approvals(h.project, iid: mr.iid)
            #expect(after.approvedBy == ["reviewer", "reader"])
            #expect(after.approvalsLeft == 0)
            #expect(after.approved)

            // The author cannot approve its own MR: GitLab answers 401.
            let own = await #expect(throws: GitLabError.self) { try await client.approve(h.project, iid: mr.iid, sha: nil) }
            #expect(own?.kind == .unauthorized)
            #expect(own?.description.contains("approve") == true)
        }
    }

    @Test func notesCreateUpdateList() async throws {
        try await withSandbox { h in
            let client = h.client()
            let mr = try await h.openMergeRequest(client, branch: "promote/notes")
            let first = try await client.createNote(h.project, iid: mr.iid, body: "<!-- promobot:status -->\nwaiting for test")
            #expect(first.authorUsername == "promobot")
            #expect(!first.system)
            let second = try await client.createNote(h.project, iid: mr.iid, body: "second")
            let edited = try await client.updateNote(h.project, iid: mr.iid, noteID: first.id, body: "<!-- promobot:status -->\nhealthy")
            #expect(edited.id == first.id)
            #expect(edited.body.hasSuffix("healthy"))
            let notes = try await client.notes(h.project, iid: mr.iid).filter { !$0.system }
            #expect(notes.map(\.id) == [first.id, second.id])
            #expect(notes.first?.body.hasSuffix("healthy") == true)
            // Someone else's note cannot be edited.
            let other = await #expect(throws: GitLabError.self) {
                try await h.client(token: h.reviewerToken).updateNote(h.project, iid: mr.iid, noteID: first.id, body: "x")
            }
            #expect(other?.kind == .forbidden)
        }
    }

    @Test func commitsOfAMergeRequest() async throws {
        try await withSandbox { h in
            let client = h.client()
            let first = try h.push("promote/commits", "2.0.0")
            let second = try h.push("promote/commits", "2.0.1")
            let mr = try await client.createMergeRequest(h.project, CreateMergeRequest(
                title: "t", sourceBranch: "promote/commits", targetBranch: "main"))
            let commits = try await client.commits(h.project, iid: mr.iid)
            #expect(Set(commits.map(\.id)) == [first, second])
            #expect(commits.allSatisfy { $0.title.hasPrefix("Bump app to 2.0.") })
            #expect(try await client.pipelines(h.project, iid: mr.iid).isEmpty)
        }
    }
}
