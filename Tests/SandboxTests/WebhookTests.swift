import Foundation
import Testing
import TestSupport
@testable import Sandbox

/// Project hooks over REST, and the deliveries the sandbox makes to a receiver on loopback.
@Suite("Webhooks")
struct WebhookTests {
    static let secret = "hook-secret-\(UUID().uuidString.prefix(8))"

    /// A seeded fixture, a receiver, and one hook of the fixture's project pointing at it.
    static func withHook(events: Set<SandboxWebhookEvent>, filter: String = "",
                         _ body: (Fixture, WebhookReceiver, SandboxWebhook) async throws -> Void) async throws {
        try await Fixture.with { f in
            try await withWebhookReceiver { receiver in
                let hook = try f.sandbox.addWebhook(project: Fixture.project, url: receiver.url, token: secret, events: events,
                                                    pushEventsBranchFilter: filter)
                try await body(f, receiver, hook)
            }
        }
    }

    /// The `object_attributes.action` of every Merge Request Hook the receiver got, in order.
    static func actions(_ receiver: WebhookReceiver) -> [String] {
        receiver.received.filter { $0.header("X-Gitlab-Event") == "Merge Request Hook" }
            .map { ($0.json["object_attributes"] as? [String: Any])?["action"] as? String ?? "?" }
    }

    // MARK: - REST

    @Test func hooksAPICreateReadUpdateDelete() async throws {
        try await Fixture.with { f in
            let created = try await f.call("POST", "/hooks", json: #"""
                {"url":"http://127.0.0.1:9/hook","token":"s3cret-token","push_events":true,"merge_requests_events":true,
                 "pipeline_events":true,"note_events":false,"tag_push_events":false,"enable_ssl_verification":true,
                 "push_events_branch_filter":"main","name":"promobot"}
                """#)
            #expect(created.status == 201, "\(created.text)")
            #expect(!created.text.contains("s3cret-token"))
            #expect(created.object["token"] == nil)
            let id = try #require(created.object["id"] as? Int)
            #expect(created.object["url"] as? String == "http://127.0.0.1:9/hook")
            #expect(created.object["merge_requests_events"] as? Bool == true)
            #expect(created.object["note_events"] as? Bool == false)
            #expect(created.object["push_events_branch_filter"] as? String == "main")
            #expect(created.object["name"] as? String == "promobot")
            #expect(created.object["alert_status"] as? String == "executable")
            #expect(f.sandbox.webhooks(project: Fixture.project).first?.hasToken == true)

            // Form-encoded bodies work too; push_events defaults to true, the others to false.
            let second = try await f.call("POST", "/hooks", form: "url=http%3A%2F%2F127.0.0.1%3A9%2Fother")
            #expect(second.status == 201)
            #expect(second.object["push_events"] as? Bool == true)
            #expect(second.object["pipeline_events"] as? Bool == false)
            #expect(second.object["enable_ssl_verification"] as? Bool == true)

            let one = try await f.call("GET", "/hooks/\(id)")
            #expect(one.object["id"] as? Int == id)
            #expect(!one.text.contains("s3cret-token"))

            // Updating with the same URL and no token keeps the token; a new URL without a token drops it.
            let sameURL = try await f.call("PUT", "/hooks/\(id)", json: #"{"url":"http://127.0.0.1:9/hook","pipeline_events":false}"#)
            #expect(sameURL.status == 200)
            #expect(sameURL.object["pipeline_events"] as? Bool == false)
            #expect(f.sandbox.webhooks(project: Fixture.project).first?.hasToken == true)
            let moved = try await f.call("PUT", "/hooks/\(id)", json: #"{"url":"http://127.0.0.1:9/moved"}"#)
            #expect(moved.object["url"] as? String == "http://127.0.0.1:9/moved")
            #expect(f.sandbox.webhooks(project: Fixture.project).first?.hasToken == false)
            let rekeyed = try await f.call("PUT", "/hooks/\(id)", json: #"{"url":"http://127.0.0.1:9/moved","token":"new"}"#)
            #expect(rekeyed.status == 200)
            #expect(f.sandbox.webhooks(project: Fixture.project).first?.hasToken == true)

            #expect(try await f.call("DELETE", "/hooks/\(id)").status == 204)
            let gone = try await f.call("GET", "/hooks/\(id)")
            #expect(gone.status == 404)
            #expect(gone.text == #"{"message":"404 Not found"}"#)
            #expect(try await f.call("PUT", "/hooks/\(id)", json: #"{"url":"http://127.0.0.1:9/x"}"#).status == 404)
            #expect(try await f.call("DELETE", "/hooks/\(id)").status == 404)
            #expect(try await f.call("GET", "/hooks").array.count == 1)
        }
    }

    @Test func hooksAPIRefusals() async throws {
        try await Fixture.with { f in
            // Maintainer+ only, reads included.
            for token in [Fixture.devToken, Fixture.reporterToken] {
                #expect(try await f.call("GET", "/hooks", token: token).status == 403)
                let write = try await f.call("POST", "/hooks", token: token, json: #"{"url":"http://127.0.0.1:9/h"}"#)
                #expect(write.status == 403)
                #expect(write.text == #"{"message":"403 Forbidden"}"#)
            }
            #expect(try await f.call("GET", "/hooks", token: Fixture.adminToken).status == 200)
            let missing = try await f.call("POST", "/hooks", json: #"{"push_events":true}"#)
            #expect(missing.status == 400)
            #expect(missing.text == #"{"error":"url is missing"}"#)
            for url in ["not a url", "ftp://example.com/h", "/relative"] {
                let bad = try await f.call("POST", "/hooks", json: #"{"url":"\#(url)"}"#)
                #expect(bad.status == 422, "\(url)")
                #expect(bad.text == #"{"error":"Invalid url given"}"#)
            }
            let badRegex = try await f.call("POST", "/hooks", json: #"{"url":"http://127.0.0.1:9/h","branch_filter_strategy":"regex","push_events_branch_filter":"(["}"#)
            #expect(badRegex.status == 422)
            let created = try await f.call("POST", "/hooks", json: #"{"url":"http://127.0.0.1:9/h"}"#)
            let id = try #require(created.object["id"] as? Int)
            let noURL = try await f.call("PUT", "/hooks/\(id)", json: #"{"push_events":false}"#)
            #expect(noURL.status == 400)
            let badUpdate = try await f.call("PUT", "/hooks/\(id)", json: #"{"url":"nope"}"#)
            #expect(badUpdate.status == 422)
            #expect(f.sandbox.webhooks(project: Fixture.project).map(\.url) == ["http://127.0.0.1:9/h"])
            #expect(try await f.call("GET", "/hooks/abc").status == 404)
        }
    }

    @Test func hooksAreListedInPages() async throws {
        try await Fixture.with { f in
            for n in 1...3 { try f.sandbox.addWebhook(project: Fixture.project, url: "http://127.0.0.1:9/h\(n)") }
            let first = try await f.call("GET", "/hooks?per_page=2")
            #expect(first.array.map { $0["url"] as? String } == ["http://127.0.0.1:9/h1", "http://127.0.0.1:9/h2"])
            #expect(first.header("X-Total") == "3")
            #expect(first.header("X-Next-Page") == "2")
            let second = try await f.call("GET", "/hooks?per_page=2&page=2")
            #expect(second.array.map { $0["url"] as? String } == ["http://127.0.0.1:9/h3"])
            #expect(second.header("X-Next-Page") == "")
        }
    }

    // MARK: - Push Hook

    @Test func pushHookOnEveryBranchUpdate() async throws {
        try await Self.withHook(events: [.push]) { f, receiver, hook in
            let project = try #require(f.sandbox.project(Fixture.project))
            // 1. The in-process commit helper, creating a branch.
            let first = try f.sandbox.commit(project: Fixture.project, branch: "feature", files: ["a.txt": "1\n"], message: "add a")
            // 2. The commits API, moving it.
            let api = try await f.call("POST", "/repository/commits", json: #"""
                {"branch":"feature","commit_message":"change a","actions":[{"action":"update","file_path":"a.txt","content":"2\n"},{"action":"create","file_path":"b.txt","content":"b"}]}
                """#)
            #expect(api.status == 201, "\(api.text)")
            let second = try #require(api.object["id"] as? String)
            // 3. git push over smart HTTP.
            let work = f.directory.appendingPathComponent("clone")
            #expect(try await GitHTTPTests.git(["clone", "--quiet", project.httpURLToRepo, work.path], token: Fixture.botToken).status == 0)
            #expect(try await GitHTTPTests.git(["checkout", "--quiet", "-b", "pushed"], token: nil, in: work).status == 0)
            try "pushed\n".write(to: work.appendingPathComponent("c.txt"), atomically: true, encoding: .utf8)
            #expect(try await GitHTTPTests.git(["add", "c.txt"], token: nil, in: work).status == 0)
            #expect(try await GitHTTPTests.git(["-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-qm", "add c"], token: nil, in: work).status == 0)
            let push = try await GitHTTPTests.git(["push", "--quiet", "origin", "HEAD:refs/heads/pushed"], token: Fixture.devToken, in: work)
            #expect(push.status == 0, "\(push.errorText)")
            let pushedSHA = try await GitHTTPTests.git(["rev-parse", "HEAD"], token: nil, in: work).output
            // 4. Deleting a branch through the API.
            #expect(try await f.call("DELETE", "/repository/branches/feature").status == 204)

            await f.sandbox.waitForWebhookDeliveries()
            let got = try await receiver.waitForRequests(4)
            #expect(got.count == 4)
            let bodies = got.map(\.json)
            let zeros = String(repeating: "0", count: 40)
            #expect(bodies.map { $0["ref"] as? String } == ["refs/heads/feature", "refs/heads/feature", "refs/heads/pushed", "refs/heads/feature"])
            #expect(bodies.map { $0["before"] as? String } == [zeros, first, zeros, second])
            #expect(bodies.map { $0["after"] as? String } == [first, second, pushedSHA, zeros])
            #expect(bodies.map { $0["object_kind"] as? String } == Array(repeating: "push", count: 4))
            #expect(bodies.map { $0["user_username"] as? String } == ["root", "bot", "dev", "bot"])
            #expect(bodies.map { $0["total_commits_count"] as? Int } == [1, 1, 1, 0])
            let commit = try #require((bodies[1]["commits"] as? [[String: Any]])?.first)
            #expect(commit["id"] as? String == second)
            #expect(commit["message"] as? String == "change a")
            #expect(commit["added"] as? [String] == ["b.txt"])
            #expect(commit["modified"] as? [String] == ["a.txt"])
            #expect((bodies[3]["commits"] as? [Any])?.isEmpty == true)
            #expect(bodies[3]["checkout_sha"] is NSNull)
            #expect((bodies[0]["project"] as? [String: Any])?["path_with_namespace"] as? String == Fixture.project)

            // GitLab's headers, every time.
            for request in got {
                #expect(request.method == "POST")
                #expect(request.path == "/hooks/gitlab")
                #expect(request.header("Content-Type") == "application/json")
                #expect(request.header("User-Agent") == "GitLab/17.11.0-sandbox")
                #expect(request.header("X-Gitlab-Event") == "Push Hook")
                #expect(request.header("X-Gitlab-Token") == Self.secret)
                #expect(request.header("X-Gitlab-Instance") == f.sandbox.baseURL.absoluteString)
                for name in ["X-Gitlab-Webhook-UUID", "X-Gitlab-Event-UUID", "Idempotency-Key"] {
                    #expect(UUID(uuidString: request.header(name) ?? "") != nil, "\(name)")
                }
            }
            #expect(Set(got.compactMap { $0.header("Idempotency-Key") }).count == 4)

            // Every delivery is recorded.
            let deliveries = f.sandbox.webhookDeliveries(project: Fixture.project)
            #expect(deliveries.count == 4)
            #expect(deliveries.allSatisfy { $0.hookID == hook.id && $0.event == .push && $0.statusCode == 200 && $0.succeeded && $0.error == nil })
            #expect(deliveries.map(\.idempotencyKey) == got.compactMap { $0.header("Idempotency-Key") })
        }
    }

    @Test func eventFlagsAndBranchFilterChooseTheHooks() async throws {
        try await Self.withHook(events: [.push], filter: "release/*") { f, receiver, _ in
            let mrOnly = try f.sandbox.addWebhook(project: Fixture.project, url: receiver.url, events: [.mergeRequest])
            let noToken = try f.sandbox.addWebhook(project: Fixture.project, url: receiver.url + "?all", events: [.push])
            try f.sandbox.commit(project: Fixture.project, branch: "feature", files: ["a": "1"], message: "a")
            try f.sandbox.commit(project: Fixture.project, branch: "release/1.0", files: ["a": "1"], message: "a")
            try f.sandbox.commit(project: Fixture.project, branch: "releases", files: ["a": "1"], message: "a")
            await f.sandbox.waitForWebhookDeliveries()
            let deliveries = f.sandbox.webhookDeliveries(project: Fixture.project)
            let filtered = deliveries.filter { $0.hookID != noToken.id }
            #expect(filtered.map { $0.payload["ref"] as? String } == ["refs/heads/release/1.0"])
            #expect(deliveries.filter { $0.hookID == noToken.id }.count == 3)
            #expect(!deliveries.contains { $0.hookID == mrOnly.id })
            // No token set: no X-Gitlab-Token header.
            let unsigned = receiver.received.filter { $0.path == "/hooks/gitlab" && $0.header("X-Gitlab-Token") == nil }
            #expect(unsigned.count == 3)
        }
    }

    // MARK: - Merge Request Hook

    @Test func mergeRequestHookActions() async throws {
        try await Self.withHook(events: [.mergeRequest]) { f, receiver, _ in
            f.sandbox.setApprovalsRequired(project: Fixture.project, count: 2)
            let mr = try await f.openMR("bump-1")
            let iid = try #require(mr["iid"] as? Int)
            let before = try #require(try f.sandbox.branchSHA(project: Fixture.project, branch: "bump-1"))
            try f.sandbox.commit(project: Fixture.project, branch: "bump-1", files: ["apps/web/deployment.yaml": "image: web:2\n"], message: "again")
            #expect(try await f.call("PUT", "/merge_requests/\(iid)", json: #"{"title":"Bump web to 2","labels":"promotion"}"#).status == 200)
            #expect(try await f.call("PUT", "/merge_requests/\(iid)", json: #"{"state_event":"close"}"#).status == 200)
            #expect(try await f.call("PUT", "/merge_requests/\(iid)", json: #"{"state_event":"reopen"}"#).status == 200)
            #expect(try await f.call("POST", "/merge_requests/\(iid)/approve", token: Fixture.devToken).status == 201)
            try f.sandbox.approve(project: Fixture.project, iid: iid, username: "boss")
            #expect(try await f.call("POST", "/merge_requests/\(iid)/unapprove", token: Fixture.devToken).status == 201)
            #expect(try await f.call("POST", "/merge_requests/\(iid)/unapprove", token: Fixture.adminToken).status == 201)
            #expect(try await f.call("POST", "/merge_requests/\(iid)/approve", token: Fixture.devToken).status == 201)
            #expect(try await f.call("POST", "/merge_requests/\(iid)/approve", token: Fixture.adminToken).status == 201)
            #expect(try await f.call("PUT", "/merge_requests/\(iid)/merge", json: "{}").status == 200)

            await f.sandbox.waitForWebhookDeliveries()
            _ = try await receiver.waitForRequests(12)
            #expect(Self.actions(receiver) == ["open", "update", "update", "close", "reopen", "approval", "approved",
                                               "unapproved", "unapproval", "approval", "approved", "merge"])
            let bodies = receiver.received.map(\.json)
            func attributes(_ i: Int) -> [String: Any] { bodies[i]["object_attributes"] as? [String: Any] ?? [:] }
            #expect(bodies[0]["object_kind"] as? String == "merge_request")
            #expect(bodies[0]["event_type"] as? String == "merge_request")
            #expect(attributes(0)["iid"] as? Int == iid)
            #expect(attributes(0)["state"] as? String == "opened")
            #expect(attributes(0)["source_branch"] as? String == "bump-1")
            #expect(attributes(0)["oldrev"] == nil)
            // New commits: `update` with oldrev; an edit: `update` with changes and no oldrev.
            #expect(attributes(1)["oldrev"] as? String == before)
            #expect((attributes(1)["last_commit"] as? [String: Any])?["message"] as? String == "again")
            #expect(attributes(2)["oldrev"] == nil)
            let changes = try #require(bodies[2]["changes"] as? [String: Any])
            #expect((changes["title"] as? [String: Any])?["current"] as? String == "Bump web to 2")
            #expect(changes["labels"] != nil)
            #expect(attributes(3)["state"] as? String == "closed")
            #expect((bodies[5]["user"] as? [String: Any])?["username"] as? String == "dev")
            #expect((bodies[6]["user"] as? [String: Any])?["username"] as? String == "boss")
            #expect(attributes(11)["state"] as? String == "merged")
            #expect(attributes(11)["merge_commit_sha"] as? String != nil)
            #expect(receiver.received.allSatisfy { $0.header("X-Gitlab-Event") == "Merge Request Hook" })
        }
    }

    @Test func mergingSendsThePushTheMergeAndTheSourceDeletion() async throws {
        try await Self.withHook(events: [.push, .mergeRequest]) { f, receiver, _ in
            let mainBefore = try #require(try f.sandbox.branchSHA(project: Fixture.project, branch: "main"))
            let mr = try await f.openMR("bump-2", extra: #","remove_source_branch":true"#)
            let iid = try #require(mr["iid"] as? Int)
            let source = try #require(try f.sandbox.branchSHA(project: Fixture.project, branch: "bump-2"))
            let merged = try await f.call("PUT", "/merge_requests/\(iid)/merge", json: "{}")
            #expect(merged.status == 200, "\(merged.text)")
            let mainAfter = try #require(try f.sandbox.branchSHA(project: Fixture.project, branch: "main"))
            await f.sandbox.waitForWebhookDeliveries()
            let got = try await receiver.waitForRequests(5)
            let summary = got.map { r -> String in
                let json = r.json
                if r.header("X-Gitlab-Event") == "Push Hook" { return "push \(json["ref"] as? String ?? "")" }
                return "mr \((json["object_attributes"] as? [String: Any])?["action"] as? String ?? "")"
            }
            #expect(summary == ["push refs/heads/bump-2", "mr open", "push refs/heads/main", "mr merge", "push refs/heads/bump-2"])
            #expect(got[2].json["before"] as? String == mainBefore)
            #expect(got[2].json["after"] as? String == mainAfter)
            #expect(got[2].json["total_commits_count"] as? Int == 2)  // the merge commit and the bump
            #expect(got[4].json["before"] as? String == source)
            #expect(got[4].json["after"] as? String == String(repeating: "0", count: 40))
            // One event, one Event-UUID per hook; every request its own Idempotency-Key.
            #expect(Set(got.compactMap { $0.header("X-Gitlab-Event-UUID") }).count == 5)
        }
    }

    // MARK: - Pipeline Hook

    @Test func pipelineHookOnEveryStatusChange() async throws {
        try await Self.withHook(events: [.pipeline]) { f, receiver, _ in
            let mr = try await f.openMR("bump-3")
            let iid = try #require(mr["iid"] as? Int)
            let head = try #require(mr["sha"] as? String)
            f.sandbox.setPipeline(project: Fixture.project, sha: head, status: "running")
            f.sandbox.setPipeline(project: Fixture.project, sha: head, status: "running")  // no change: no event
            f.sandbox.setPipeline(project: Fixture.project, sha: head, status: "success")
            let main = try #require(try f.sandbox.branchSHA(project: Fixture.project, branch: "main"))
            f.sandbox.setPipeline(project: Fixture.project, sha: main, status: "failed")
            await f.sandbox.waitForWebhookDeliveries()
            let got = try await receiver.waitForRequests(3)
            #expect(got.count == 3)
            #expect(got.allSatisfy { $0.header("X-Gitlab-Event") == "Pipeline Hook" && $0.json["object_kind"] as? String == "pipeline" })
            let attributes = got.map { $0.json["object_attributes"] as? [String: Any] ?? [:] }
            #expect(attributes.map { $0["status"] as? String } == ["running", "success", "failed"])
            #expect(attributes.map { $0["detailed_status"] as? String } == ["running", "passed", "failed"])
            #expect(attributes.map { $0["ref"] as? String } == ["bump-3", "bump-3", "main"])
            #expect(attributes[0]["id"] as? Int == attributes[1]["id"] as? Int)
            #expect(attributes[0]["finished_at"] is NSNull)
            #expect((attributes[1]["finished_at"] as? String)?.hasSuffix(" UTC") == true)
            let block = try #require(got[1].json["merge_request"] as? [String: Any])
            #expect(block["iid"] as? Int == iid)
            #expect(block["detailed_merge_status"] as? String == "mergeable")
            #expect(got[2].json["merge_request"] is NSNull)
            #expect((got[0].json["commit"] as? [String: Any])?["id"] as? String == head)
        }
    }

    // MARK: - Delivery semantics

    @Test func deliveriesNeverHoldUpTheRequestThatCausedThem() async throws {
        try await Self.withHook(events: [.push]) { f, receiver, _ in
            receiver.respond(status: 200, after: .seconds(3))
            let clock = ContinuousClock()
            let start = clock.now
            let api = try await f.call("POST", "/repository/branches", json: #"{"branch":"slow","ref":"main"}"#)
            #expect(api.status == 201)
            #expect(clock.now - start < .seconds(2))
            _ = try await receiver.waitForRequests(1)
            #expect(f.sandbox.webhookDeliveries(project: Fixture.project).isEmpty)  // still waiting for the answer
            await f.sandbox.waitForWebhookDeliveries()
            #expect(f.sandbox.webhookDeliveries(project: Fixture.project).first?.statusCode == 200)
        }
    }

    @Test func aSlowReceiverTimesOutAndFailuresAreRecorded() async throws {
        try await Self.withHook(events: [.push]) { f, receiver, _ in
            f.sandbox.setWebhookTimeout(.milliseconds(500))
            receiver.respond(status: 200, after: .seconds(5))
            try f.sandbox.commit(project: Fixture.project, branch: "slow", files: ["a": "1"], message: "a")
            await f.sandbox.waitForWebhookDeliveries()
            let slow = try #require(f.sandbox.webhookDeliveries(project: Fixture.project).last)
            #expect(slow.statusCode == nil)
            #expect(slow.error == "timed out after 0.5 s")
            #expect(!slow.succeeded)
            #expect(slow.duration >= .milliseconds(450) && slow.duration < .seconds(3), "\(slow.duration)")

            receiver.respond(status: 500)
            try f.sandbox.commit(project: Fixture.project, branch: "failing", files: ["a": "1"], message: "a")
            await f.sandbox.waitForWebhookDeliveries()
            let failed = try #require(f.sandbox.webhookDeliveries(project: Fixture.project).last)
            #expect(failed.statusCode == 500)
            #expect(failed.error == nil)
            #expect(!failed.succeeded)

            // A receiver that is not there: the connection is refused.
            let port = try Loopback.unusedPort()
            let nowhere = try f.sandbox.addWebhook(project: Fixture.project, url: "http://127.0.0.1:\(port)/hook")
            try f.sandbox.commit(project: Fixture.project, branch: "nowhere", files: ["a": "1"], message: "a")
            await f.sandbox.waitForWebhookDeliveries()
            let refused = try #require(f.sandbox.webhookDeliveries(project: Fixture.project).last { $0.hookID == nowhere.id })
            #expect(refused.statusCode == nil)
            #expect(refused.error == "connection refused")
        }
    }

    @Test func aRedeliveryKeepsTheIdempotencyKey() async throws {
        try await Self.withHook(events: [.push]) { f, receiver, _ in
            try f.sandbox.commit(project: Fixture.project, branch: "again", files: ["a": "1"], message: "a")
            await f.sandbox.waitForWebhookDeliveries()
            let original = try #require(f.sandbox.webhookDeliveries(project: Fixture.project).first)
            let resent = try await f.sandbox.redeliver(original)
            #expect(resent.id != original.id)
            #expect(resent.redeliveryOf == original.id)
            #expect(resent.idempotencyKey == original.idempotencyKey)
            #expect(resent.eventUUID == original.eventUUID)
            #expect(resent.webhookUUID != original.webhookUUID)
            #expect(resent.body == original.body)
            #expect(resent.statusCode == 200)
            let got = try await receiver.waitForRequests(2)
            #expect(got.map { $0.header("Idempotency-Key") } == [original.idempotencyKey, original.idempotencyKey])
            #expect(got[0].body == got[1].body)
            #expect(f.sandbox.webhookDeliveries(project: Fixture.project).count == 2)

            // A deleted hook cannot be redelivered to.
            let id = original.hookID
            #expect(try await f.call("DELETE", "/hooks/\(id)").status == 204)
            await #expect(throws: SandboxError.self) { try await f.sandbox.redeliver(original) }
        }
    }
}
