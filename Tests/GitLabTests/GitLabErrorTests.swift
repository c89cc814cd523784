import Foundation
import Testing
@testable import GitLab
import HTTP

@Suite struct GitLabErrorBodyTests {
    @Test(arguments: [
        (#"{"message":"404 Project Not Found"}"#, "404 Project Not Found"),
        (#"{"message":["Another open merge request already exists for this source branch: !7"]}"#,
         "Another open merge request already exists for this source branch: !7"),
        (#"{"message":["a","b"]}"#, "a; b"),
        (#"{"message":{"title":["is too long (maximum is 255 characters)"]}}"#, "title is too long (maximum is 255 characters)"),
        (#"{"message":{"base":["Target project has disabled merge requests"]}}"#, "Target project has disabled merge requests"),
        (#"{"message":{"error":"This endpoint has been requested too many times. Try again later."}}"#,
         "This endpoint has been requested too many times. Try again later."),
        (#"{"error":"title is missing"}"#, "title is missing"),
        (#"{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}"#,
         "invalid_token: Token is expired. You can either do re-authorization or token refresh."),
        (#"{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api"}"#,
         "insufficient_scope: The request requires higher privileges than provided by the access token.; needed scope: api"),
        ("Retry later\n", "Retry later"),
        ("", ""),
    ])
    func flattens(body: String, expected: String) {
        #expect(GitLabErrorBody.message(from: Data(body.utf8)) == expected)
    }

    @Test func longBodiesAreCut() {
        let message = GitLabErrorBody.message(from: Data(String(repeating: "x", count: 2000).utf8))
        #expect(message.count == 501)
    }
}

@Suite struct GitLabErrorTests {
    func error(_ status: Int, _ message: String, method: String = "POST", path: String = "/projects/group%2Foms/merge_requests") -> GitLabError {
        GitLabError(kind: GitLabError.kind(forStatus: status), status: status, message: message, method: method, path: path)
    }

    @Test(arguments: [
        (400, GitLabError.Kind.badRequest), (401, .unauthorized), (403, .forbidden), (404, .notFound), (405, .methodNotAllowed),
        (409, .conflict), (422, .unprocessable), (429, .rateLimited), (500, .server), (503, .server), (418, .unexpected), (302, .unexpected),
    ])
    func kinds(status: Int, kind: GitLabError.Kind) {
        #expect(GitLabError.kind(forStatus: status) == kind)
    }

    @Test(arguments: [
        ("Another open merge request already exists for this source branch: !7", 7),
        ("Another open merge request already exists for this source branch: !1234; other", 1234),
        ("Another open merge request already exists for this source branch", nil),
        ("SHA does not match HEAD of source branch: abc", nil),
    ] as [(String, Int?)])
    func duplicateIID(message: String, iid: Int?) {
        let e = error(409, message)
        #expect(e.existingMergeRequestIID == iid)
        #expect(e.isDuplicateMergeRequest == message.hasPrefix("Another"))
    }

    @Test func helpers() {
        #expect(error(409, "Resource lock").isResourceLock)
        #expect(!error(422, "Resource lock").isResourceLock)
        #expect(error(409, "SHA does not match HEAD of source branch: abc").isSHAMismatch)
        #expect(error(422, #"Source branch "bump/x" does not exist"#).isMissingSourceBranch)
        #expect(error(400, "source_branch does not exist").isMissingSourceBranch)
        #expect(!error(422, "You can't use same project/branch for source and target").isMissingSourceBranch)
        #expect(error(403, "insufficient_scope: The request requires higher privileges than provided by the access token.").isInsufficientScope)
    }

    @Test func descriptionSaysWhatWhereAndWhatToDo() {
        var e = error(403, "403 Forbidden", method: "PUT", path: "/projects/group%2Foms/merge_requests/4/merge")
        e.operation = "merge !4 in group/oms"
        #expect(e.description.hasPrefix("GitLab answered 403 Forbidden for PUT /projects/group%2Foms/merge_requests/4/merge (merge !4 in group/oms): 403 Forbidden — "))
        #expect(e.description.contains("cannot merge"))
        let dup = error(409, "Another open merge request already exists for this source branch: !9")
        #expect(dup.description.contains("!9"))
        var limited = error(429, "Retry later", method: "GET", path: "/user")
        limited.retryAfter = .seconds(30)
        #expect(limited.description.contains("retry after 30 s"))
    }

    /// GitLab's 429 headers, read by the one `Retry-After` parser (`RetryPolicy.serverRequestedDelay`).
    @Test func retryAfterParsing() {
        let now = Date(timeIntervalSince1970: 1_609_844_370)
        func retryAfter(_ headers: HTTPHeaders) -> Duration? {
            RetryPolicy.serverRequestedDelay(in: HTTPResponse(status: 429, headers: headers), now: now)
        }
        #expect(retryAfter(["Retry-After": "30"]) == .seconds(30))
        #expect(retryAfter(["Retry-After": "Tue, 05 Jan 2021 11:00:00 GMT"]) == .seconds(30))
        #expect(retryAfter(["RateLimit-Reset": "1609844400"]) == .seconds(30))
        #expect(retryAfter([:]) == nil)
    }
}

@Suite struct GitLabTokenTests {
    @Test func neverShowsItsValue() {
        let token = GitLabToken("glpat-SECRET-1234567890", style: .bearer)
        var dumped = ""
        dump(token, to: &dumped)
        for text in [token.description, token.debugDescription, "\(token)", String(reflecting: token), dumped] {
            #expect(!text.contains("SECRET"), "leaked in: \(text)")
        }
        #expect(token.header.name == "Authorization")
        #expect(token.header.value == "Bearer glpat-SECRET-1234567890")
        #expect(GitLabToken("x").header.name == "PRIVATE-TOKEN")
    }
}
