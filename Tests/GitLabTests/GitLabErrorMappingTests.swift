import Foundation
import Testing
import GitLab
import HTTP
import Sandbox

/// Every error mapping, from the sandbox's real answers where it produces them and from injected
/// faults (GitLab's exact bodies) where it cannot.
@Suite struct GitLabErrorMappingTests {
    @Test func unauthorizedWithABadToken() async throws {
        try await withSandbox { h in
            let bad = "glpat-BADSECRET-\(UUID().uuidString)"
            let client = h.client(token: bad)
            let error = await #expect(throws: GitLabError.self) { try await client.currentUser() }
            #expect(error?.kind == .unauthorized)
            #expect(error?.status == 401)
            #expect(error?.method == "GET" && error?.path == "/user")
            #expect(error?.description.contains("token") == true)
            #expect(error?.description.contains(bad) == false)
            if let error { expectNoSecrets(error, h) }
        }
    }

    @Test func expiredTokenBodyIsFlattened() async throws {
        try await withSandbox { h in
            let client = h.client()
            h.sandbox.injectFault(SandboxFault(pathPrefix: "/api/v4/user", kind: .status(
                401, body: #"{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}"#)))
            let error = await #expect(throws: GitLabError.self) { try await client.currentUser() }
            #expect(error?.kind == .unauthorized)
            #expect(error?.message == "invalid_token: Token is expired. You can either do re-authorization or token refresh.")
        }
    }

    @Test func forbiddenForAReadOnlyUser() async throws {
        try await withSandbox { h in
            try h.push("promote/ro")
            let reader = h.client(token: h.readerToken)
            _ = try await reader.project(h.project) // reading works
            let error = await #expect(throws: GitLabError.self) {
                try await reader.createMergeRequest(h.project, CreateMergeRequest(title: "t", sourceBranch: "promote/ro", targetBranch: "main"))
            }
            #expect(error?.kind == .forbidden)
            #expect(error?.status == 403)
            #expect(error?.path == "/projects/group%2Fsub%2Fdeploy/merge_requests")
            #expect(error?.description.contains("role") == true)
            #expect(reader.requestCount == 2, "403 is not retried")
            if let error { expectNoSecrets(error, h) }
        }
    }

    @Test func forbiddenForAReadAPIScopedToken() async throws {
        try await withSandbox { h in
            let client = h.client()
            h.sandbox.injectFault(SandboxFault(method: "POST", pathPrefix: h.apiProjectPrefix + "/merge_requests", kind: .status(
                403, body: #"{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api"}"#)))
            try h.push("promote/scope")
            let error = await #expect(throws: GitLabError.self) {
                try await client.createMergeRequest(h.project, CreateMergeRequest(title: "t", sourceBranch: "promote/scope", targetBranch: "main"))
            }
            #expect(error?.kind == .forbidden)
            #expect(error?.isInsufficientScope == true)
            #expect(error?.description.contains("scope 'api'") == true)
        }
    }

    @Test func notFound() async throws {
        try await withSandbox { h in
            let client = h.client()
            let project = await #expect(throws: GitLabError.self) { try await client.project(.path("nope/missing")) }
            #expect(project?.kind == .notFound)
            #expect(project?.message.contains("Project Not Found") == true)
            #expect(project?.path == "/projects/nope%2Fmissing")
            let mr = await #expect(throws: GitLabError.self) { try await client.mergeRequest(h.project, iid: 999) }
            #expect(mr?.kind == .notFound)
            #expect(mr?.description.contains("!999") == true)
        }
    }

    @Test func methodNotAllowedWhenNotMergeable() async throws {
        try await withSandbox { h in
            let client = h.client()
            let mr = try await h.openMergeRequest(client, branch: "promote/closed")
            _ = try await client.updateMergeRequest(h.project, iid: mr.iid, UpdateMergeRequest(stateEvent: .close))
            let before = client.requestCount
            let error = await #expect(throws: GitLabError.self) { try await client.merge(h.project, iid: mr.iid, MergeOptions(sha: nil)) }
            #expect(error?.kind == .methodNotAllowed)
            #expect(error?.description.contains("detailed_merge_status") == true)
            #expect(client.requestCount == before + 1, "a plain merge's 405 is not retried")
        }
    }

    @Test func autoMergeRetries405RightAfterCreation() async throws {
        try await withSandbox { h in
            let client = h.client()
            let mr = try await h.openMergeRequest(client, branch: "promote/fresh")
            h.sandbox.injectFault(SandboxFault(method: "PUT", pathPrefix: h.apiProjectPrefix + "/merge_requests/\(mr.iid)/merge",
                                               kind: .status(405, body: #"{"message":"405 Method Not Allowed"}"#), count: 2))
            let before = client.requestCount
            let merged = try await client.merge(h.project, iid: mr.iid, MergeOptions(sha: mr.sha, autoMerge: true))
            #expect(merged.state == .merged) // no pipeline: GitLab merges at once
            #expect(client.requestCount == before + 3)
        }
    }

    @Test func duplicateMergeRequestNamesTheExistingOne() async throws {
        try await withSandbox { h in
            let client = h.client()
            let first = try await h.openMergeRequest(client, branch: "promote/dup")
            let error = await #expect(throws: GitLabError.self) {
                try await client.createMergeRequest(h.project, CreateMergeRequest(title: "again", sourceBranch: "promote/dup", targetBranch: "main"))
            }
            #expect(error?.kind == .conflict)
            #expect(error?.isDuplicateMergeRequest == true)
            #expect(error?.existingMergeRequestIID == first.iid)
            #expect(error?.isResourceLock == false)
            #expect(h.sandbox.mergeRequests(project: SandboxHarness.projectPath).count == 1)
        }
    }

    @Test func resourceLockIsRetriedThenSucceeds() async throws {
        try await withSandbox { h in
            let client = h.client()
            let mr = try await h.openMergeRequest(client, branch: "promote/lock")
            h.sandbox.injectFault(SandboxFault(method: "PUT", pathPrefix: h.apiProjectPrefix + "/merge_requests/\(mr.iid)",
                                               kind: .status(409, body: #"{"message":"Resource lock"}"#), count: 2))
            let before = client.requestCount
            let updated = try await client.updateMergeRequest(h.project, iid: mr.iid, UpdateMergeRequest(title: "locked once"))
            #expect(updated.title == "locked once")
            #expect(client.requestCount == before + 3)

            // A lock that never clears ends as a conflict after the policy's attempts.
            h.sandbox.injectFault(SandboxFault(method: "PUT", pathPrefix: h.apiProjectPrefix + "/merge_requests/\(mr.iid)",
                                               kind: .status(409, body: #"{"message":"Resource lock"}"#), count: 10))
            let error = await #expect(throws: GitLabError.self) {
                try await client.updateMergeRequest(h.project, iid: mr.iid, UpdateMergeRequest(title: "never"))
            }
            #expect(error?.isResourceLock == true)
            #expect(client.requestCount == before + 3 + 4)
            h.sandbox.clearFaults()
        }
    }

    @Test func missingSourceBranchRightAfterPushIsRetried() async throws {
        try await withSandbox { h in
            let client = h.client()
            try h.push("promote/late")
            h.sandbox.injectFault(SandboxFault(method: "POST", pathPrefix: h.apiProjectPrefix + "/merge_requests", kind: .status(
                422, body: #"{"message":["Source branch \"promote/late\" does not exist"]}"#)))
            let mr = try await client.createMergeRequest(h.project, CreateMergeRequest(title: "t", sourceBranch: "promote/late", targetBranch: "main"))
            #expect(mr.sourceBranch == "promote/late")
            #expect(client.requestCount == 2)
        }
    }

    @Test func unprocessable() async throws {
        try await withSandbox { h in
            let client = h.client()
            let error = await #expect(throws: GitLabError.self) {
                try await client.createMergeRequest(h.project, CreateMergeRequest(title: "t", sourceBranch: "main", targetBranch: "main"))
            }
            #expect(error?.kind == .unprocessable)
            #expect(error?.message == "You can't use same project/branch for source and target")
        }
    }

    @Test func badRequestFromValidation() async throws {
        try await withSandbox { h in
            let client = h.client()
            try h.push("promote/bad")
            let error = await #expect(throws: GitLabError.self) {
                try await client.createMergeRequest(h.project, CreateMergeRequest(title: "", sourceBranch: "promote/bad", targetBranch: "main"))
            }
            #expect(error?.kind == .badRequest)
            #expect(error?.message.contains("title") == true)
        }
    }

    @Test func rateLimitRetriedByTheHTTPLayerThenReported() async throws {
        try await withSandbox { h in
            let client = h.client()
            // Two 429s: the transport (3 attempts) retries and succeeds; the client sent one request.
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: "/api/v4/user", kind: .status(
                429, body: "Retry later", headers: ["Retry-After": "1", "RateLimit-Name": "throttle_authenticated_api"]), count: 2))
            h.sandbox.resetRequestLog()
            let user = try await client.currentUser()
            #expect(user.username == "promobot")
            #expect(client.requestCount == 1)
            #expect(h.sandbox.requestCount == 3)

            // Exhausted: the client reports .rateLimited with GitLab's Retry-After.
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: "/api/v4/user", kind: .status(
                429, body: "Retry later", headers: ["Retry-After": "30"]), count: 5))
            let error = await #expect(throws: GitLabError.self) { try await client.currentUser() }
            #expect(error?.kind == .rateLimited)
            #expect(error?.retryAfter == .seconds(30))
            #expect(error?.message == "Retry later")
            h.sandbox.clearFaults()
        }
    }

    @Test(arguments: [500, 503])
    func serverErrors(status: Int) async throws {
        try await withSandbox { h in
            let client = h.client()
            let body = status == 500 ? #"{"message":"500 Internal Server Error"}"# : #"{"message":"503 Service Unavailable"}"#
            // Idempotent GET: retried by the transport (3 attempts), then reported.
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: h.apiProjectPrefix, kind: .status(status, body: body), count: 3))
            h.sandbox.resetRequestLog()
            let read = await #expect(throws: GitLabError.self) { try await client.project(h.project) }
            #expect(read?.kind == .server)
            #expect(read?.status == status)
            #expect(h.sandbox.requestCount == 3)

            // A note (POST) is never repeated: a 5xx after the server acted would post it twice.
            let mr = try await h.openMergeRequest(client, branch: "promote/5xx")
            h.sandbox.injectFault(SandboxFault(method: "POST", pathPrefix: h.apiProjectPrefix + "/merge_requests/\(mr.iid)/notes",
                                               kind: .status(status, body: body), count: 1))
            h.sandbox.resetRequestLog()
            let post = await #expect(throws: GitLabError.self) { try await client.createNote(h.project, iid: mr.iid, body: "hello") }
            #expect(post?.kind == .server)
            #expect(h.sandbox.requestCount == 1)
            if let post { expectNoSecrets(post, h) }

            // A SHA-pinned merge is retryable: the transport repeats it and it succeeds.
            h.sandbox.injectFault(SandboxFault(method: "PUT", pathPrefix: h.apiProjectPrefix + "/merge_requests/\(mr.iid)/merge",
                                               kind: .status(status, body: body), count: 1))
            let merged = try await client.merge(h.project, iid: mr.iid, MergeOptions(sha: mr.sha))
            #expect(merged.state == .merged)
        }
    }

    @Test func tokenEchoedByTheServerIsRedacted() async throws {
        try await withSandbox { h in
            let client = h.client()
            h.sandbox.injectFault(SandboxFault(pathPrefix: "/api/v4/user", kind: .status(
                400, body: #"{"message":"bad header PRIVATE-TOKEN: \#(h.botToken)"}"#)))
            let error = await #expect(throws: GitLabError.self) { try await client.currentUser() }
            #expect(error?.message.contains(Redaction.placeholder) == true)
            if let error { expectNoSecrets(error, h) }
        }
    }

    @Test func budgetBoundsTheRun() async throws {
        try await withSandbox { h in
            let budget = RequestBudget(requestsPerMinute: 1, burst: 2, maxWait: .milliseconds(200))
            let first = h.client(budget: budget)
            let second = h.client(token: h.reviewerToken, budget: budget)
            _ = try await first.currentUser()
            _ = try await second.currentUser()
            h.sandbox.resetRequestLog()
            let error = await #expect(throws: GitLabError.self) { try await first.currentUser() }
            #expect(error?.kind == .budgetExhausted)
            #expect(h.sandbox.requestCount == 0, "an exhausted budget sends nothing")
            #expect(await budget.grantedCount == 2)
        }
    }

    /// GitLab saying the account has no requests left takes the client's burst away: the next request waits
    /// for the steady rate (here: longer than allowed), instead of going out and earning a 429.
    @Test func gitLabsRateLimitRemainingTightensTheBudget() async throws {
        try await withSandbox { h in
            let budget = RequestBudget(requestsPerMinute: 1, burst: 10, maxWait: .milliseconds(200))
            let client = h.client(budget: budget)
            let user = #"{"id": 1, "username": "promobot", "name": "promobot", "state": "active"}"#
            h.sandbox.injectFault(SandboxFault(pathPrefix: "/api/v4/user", kind: .status(200, body: user,
                                                headers: ["Content-Type": "application/json", "RateLimit-Remaining": "0"])))
            _ = try await client.currentUser()
            let error = await #expect(throws: GitLabError.self) { try await client.currentUser() }
            #expect(error?.kind == .budgetExhausted, "9 tokens were left in the burst, but GitLab said 0 remain")
        }
    }

    @Test func undecodableAnswerIsUnexpected() async throws {
        try await withSandbox { h in
            let client = h.client()
            h.sandbox.injectFault(SandboxFault(pathPrefix: "/api/v4/user", kind: .status(200, body: #"{"id":"not a number"}"#)))
            let error = await #expect(throws: GitLabError.self) { try await client.currentUser() }
            #expect(error?.kind == .unexpected)
            #expect(error?.status == 200)
            #expect(error?.message.contains("GitLabUser") == true)
        }
    }
}
