import Foundation
import HTTP
import Planning
import ProcessMemory
import Server
import Testing
import TestSupport

/// `promobot serve` end to end: a real HTTP server on loopback, the real engine against the sandbox.
@Suite(.serialized) struct ServeTests {
    static func mergeRequestHook(_ iid: Int, action: String, source: String = "promobot/oms/test") -> [String: Any] {
        ["object_kind": "merge_request", "event_type": "merge_request", "project": ServeHarness.projectJSON(),
         "object_attributes": ["iid": iid, "action": action, "source_branch": source, "target_branch": "master", "state": "opened"]]
    }

    @Test func anApprovalMergesWithinSecondsWithNoScheduleInvolved() async throws {
        try await withServe(testStage: "    merge: approved\n    approvals: 1\n") { h in
            try await h.start()                        // the first cycle opens the test MR; the resync is an hour away
            let mr = try #require(h.mergeRequests.first { $0.sourceBranch == "promobot/oms/test" && $0.state == "opened" })
            try h.sandbox.approve(project: ServeHarness.project, iid: mr.iid, username: "alice")

            let answer = try await h.deliver("Merge Request Hook", Self.mergeRequestHook(mr.iid, action: "approved"))
            #expect(answer.status == 202, "\(String(decoding: answer.body, as: UTF8.self))")
            let merged = try await h.eventually { h.mergeRequests.first { $0.iid == mr.iid }?.state == "merged" }
            #expect(merged, "the approved MR was not merged after the webhook")
            let content = try h.sandbox.fileContent(project: ServeHarness.project, ref: "master", path: "test/deploy.yaml")
            #expect(content?.contains(":1.5.0") == true)
        }
    }

    /// No hand-made payloads: GitLab (the sandbox) sends its own Push and Merge Request Hooks to the server.
    @Test func gitLabsOwnWebhooksMoveAPromotionFromCIPushToMerge() async throws {
        try await withServe(testStage: "    merge: approved\n    approvals: 1\n") { h in
            try await h.start()
            try h.sandbox.addWebhook(project: ServeHarness.project, url: h.baseURL.appendingPathComponent("hooks/gitlab").absoluteString,
                                     token: h.secret, events: [.push, .mergeRequest, .pipeline])
            let dev = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: \(ServeHarness.app):1.6.0\n"
            try h.sandbox.commit(project: ServeHarness.project, branch: "master", files: ["dev/deploy.yaml": dev], message: "[ci] dev 1.6.0")
            let updated = try await h.eventually { h.mergeRequests.contains { $0.state == "opened" && $0.title.contains("1.6.0") } }
            #expect(updated, "the Push Hook did not move the MR to 1.6.0: \(h.mergeRequests.map(\.title))")
            let mr = try #require(h.mergeRequests.first { $0.state == "opened" })
            try h.sandbox.approve(project: ServeHarness.project, iid: mr.iid, username: "alice")
            let merged = try await h.eventually { h.mergeRequests.first { $0.iid == mr.iid }?.state == "merged" }
            #expect(merged, "the approval's Merge Request Hook did not get the MR merged")
            await h.sandbox.waitForWebhookDeliveries()
            let deliveries = h.sandbox.webhookDeliveries(project: ServeHarness.project)
            #expect(!deliveries.isEmpty && deliveries.allSatisfy(\.succeeded), "\(deliveries.map { "\($0.event) \($0.statusCode ?? 0) \($0.error ?? "")" })")
        }
    }

    @Test func aPushToAStageBranchTriggersThePoliciesThatReadIt() async throws {
        try await withServe(testStage: "    merge: manual\n") { h in
            try await h.start()
            let before = h.mergeRequests.count
            #expect(before == 1)
            // CI writes 1.6.0 into dev; the Push Hook moves the open MR to 1.6.0 without waiting for a resync.
            let dev = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: \(ServeHarness.app):1.6.0\n"
            try h.sandbox.commit(project: ServeHarness.project, branch: "master", files: ["dev/deploy.yaml": dev], message: "dev 1.6.0")
            let push: [String: Any] = ["object_kind": "push", "ref": "refs/heads/master", "project": ServeHarness.projectJSON()]
            let answer = try await h.deliver("Push Hook", push)
            #expect(answer.status == 202)
            let updated = try await h.eventually { h.mergeRequests.first?.title.contains("1.6.0") == true }
            #expect(updated, "\(h.mergeRequests.map(\.title))")
        }
    }

    @Test func webhooksAreRefusedOrIgnoredWithoutEverCrashing() async throws {
        try await withServe { h in
            try await h.start()
            let cycles = await h.loop.current.cycles

            let wrong = try await h.deliver("Push Hook", ["object_kind": "push"], token: "not-the-secret")
            #expect(wrong.status == 401)
            var headers: HTTPHeaders = ["X-Gitlab-Event": "Push Hook"]
            let missing = try await h.request(.post, "hooks/gitlab", headers: headers, body: Data("{}".utf8))
            #expect(missing.status == 401)

            headers.add("X-Gitlab-Token", h.secret)
            let huge = try await h.request(.post, "hooks/gitlab", headers: headers, body: Data(repeating: 0x20, count: WebhookReceiver.bodyLimit + 1))
            #expect(huge.status == 413)
            let malformed = try await h.request(.post, "hooks/gitlab", headers: headers, body: Data("{not json".utf8))
            #expect(malformed.status == 400)
            let note = try await h.deliver("Note Hook", ["object_kind": "note"])
            #expect(note.status == 204)
            let stranger = try await h.deliver("Push Hook", ["object_kind": "push", "ref": "refs/heads/master",
                                                             "project": ["id": 99, "path_with_namespace": "other/repo"]])
            #expect(stranger.status == 204)
            let personMR = try await h.deliver("Merge Request Hook", Self.mergeRequestHook(1, action: "open", source: "feature/x"))
            #expect(personMR.status == 204)

            let key = UUID().uuidString
            let first = try await h.deliver("Merge Request Hook", Self.mergeRequestHook(1, action: "update"), key: key)
            let again = try await h.deliver("Merge Request Hook", Self.mergeRequestHook(1, action: "update"), key: key)
            #expect(first.status == 202 && again.status == 200, "\(first.status) \(again.status)")

            // Only the one accepted delivery caused a cycle.
            try await Task.sleep(for: .milliseconds(800))
            #expect(await h.loop.current.cycles == cycles + 1)
            let metrics = h.metrics.render()
            for line in [#"promobot_webhook_events_total{event="unknown",result="unauthorized"} 2"#,
                         #"promobot_webhook_events_total{event="unknown",result="too_large"} 1"#,
                         #"promobot_webhook_events_total{event="unknown",result="malformed"} 1"#,
                         #"promobot_webhook_events_total{event="merge_request",result="duplicate"} 1"#,
                         #"promobot_webhook_events_total{event="merge_request",result="accepted"} 1"#] {
                #expect(metrics.contains(line), "missing \(line) in\n\(metrics)")
            }
            #expect(!h.logs.text.contains(h.secret))
        }
    }

    @Test func everyCycleGivesWhatItFreedBackToTheKernelAndReportsWhatIsLeft() async throws {
        try await withServe { h in
            try await h.start()
            let (cycles, releases) = (await h.loop.current.cycles, ProcessMemory.releases)
            let answer = try await h.deliver("Merge Request Hook", Self.mergeRequestHook(1, action: "update"))
            #expect(answer.status == 202)
            #expect(try await h.eventually { ProcessMemory.releases > releases }, "no release after the webhook's cycle")
            #expect(await h.loop.current.cycles == cycles + 1)
            // and says how much the process holds afterwards
            func line() -> Substring? { h.metrics.render().split(separator: "\n").first { $0.hasPrefix("promobot_resident_memory_bytes ") } }
            _ = try await h.eventually { line() != nil }
            let line = line()
            let bytes = line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
            #expect(bytes > 16 * 1024 * 1024, "\(line ?? "no promobot_resident_memory_bytes")")
        }
    }

    @Test func probesAndMetricsScrapeCleanlyWithPrometheusOwnParser() async throws {
        try await withServe { h in
            try await h.start()
            #expect(try await h.request(.get, "healthz").status == 200)
            #expect(try await h.request(.get, "readyz").status == 200)
            let response = try await h.request(.get, "metrics")
            #expect(response.status == 200)
            #expect(response.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(decoding: response.body, as: UTF8.self)
            for name in ["promobot_cycle_duration_seconds_bucket", "promobot_cycles_total", "promobot_stage_state",
                         "promobot_merge_requests_total", "promobot_gitlab_requests_total", "promobot_last_successful_cycle_timestamp_seconds",
                         "promobot_build_info", "promobot_emergency_stop"] {
                #expect(text.contains(name), "missing \(name)")
            }
            #expect(text.contains(#"promobot_stage_state{policy="oms",stage="test",state="up_to_date",gate=""} 1"#)
                    || text.contains(#"promobot_merge_requests_total{policy="oms",stage="test",action="merged"} 1"#), "\(text)")
            let parsed = try await PrometheusParser.families(text)
            #expect(parsed.contains("promobot_cycle_duration_seconds") && parsed.contains("promobot_build_info"), "\(parsed)")
        }
    }
}

/// The live page in a real browser: headless Chromium loads `/` from a running server against the sandbox.
@Suite(.serialized) struct ServePageChromiumTests {
    @Test func theBrowserShowsTheBlockedReasonTheMRLinkAndTheRefresh() async throws {
        try await withServe(testStage: "    merge: manual\n", prodStage: "    soak: 2h\n    merge: manual\n") { h in
            try await h.start()
            let folder = try TestPaths.temporaryFolder("serve-page")
            let keep = ProcessInfo.processInfo.environment["PROMOBOT_KEEP_SCREENSHOTS"] == "1"
            defer { if !keep { try? FileManager.default.removeItem(at: folder) } }
            let dom = try await Chromium.dumpDOM(url: h.baseURL)
            #expect(dom.contains(#"<meta http-equiv="refresh" content="10">"#), "\(dom)")
            #expect(dom.contains(#"data-stage="oms/prod""#), "\(dom)")
            let reason = try #require(dom.firstMatch(of: /<p class="blocked-reason">([^<]*)<\/p>/)?.1, "\(dom)")
            #expect(reason.contains("app 1.4.2 in test for") && reason.contains("of 2h"), "\(reason)")
            #expect(dom.contains(#"<time class="until""#), "the soak end is shown")
            let mr = try #require(h.mergeRequests.first { $0.sourceBranch == "promobot/oms/test" })
            #expect(dom.contains(#"<a class="mr" href="\#(h.sandbox.baseURL.absoluteString)/group/oms-deploy/-/merge_requests/\#(mr.iid)""#), "\(dom)")
            let picture = folder.appendingPathComponent("serve.png")
            try await Chromium.screenshot(url: h.baseURL, to: picture, width: 1280, height: 900)
            #expect(try Data(contentsOf: picture).starts(with: [0x89, 0x50, 0x4E, 0x47]))
            if keep { print("serve page screenshot: \(picture.path)") }
        }
    }
}

/// The docs and the example alert rules name only metrics that exist, and the docs name all of them.
@Suite struct MetricsDocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func alertRulesAndDocsMatchTheMetrics() throws {
        let names = Set(ServeMetrics.names)
        let alerts = try String(contentsOf: Self.root.appendingPathComponent("deploy/prometheus/alerts.yaml"), encoding: .utf8)
        let used = Set(alerts.matches(of: /promobot_[a-z_]+/).map { String($0.output) })
        #expect(!used.isEmpty)
        for name in used { #expect(names.contains(name), "alerts.yaml uses \(name), which promobot does not export") }
        let docs = try String(contentsOf: Self.root.appendingPathComponent("docs/serve.md"), encoding: .utf8)
        for name in names { #expect(docs.contains("`\(name)`"), "docs/serve.md does not document \(name)") }
    }
}

/// Parses exposition text with the reference parser (`prometheus_client`, Debian's python3-prometheus-client,
/// installed by scripts/bootstrap) and returns the metric family names. Throws when it cannot parse.
enum PrometheusParser {
    static func families(_ text: String) async throws -> [String] {
        let script = """
        import sys
        from prometheus_client.parser import text_string_to_metric_families
        for family in text_string_to_metric_families(sys.stdin.read()):
            print(family.name)
        """
        // The child runs and is waited for on a thread of its own, never on the cooperative pool.
        let (status, output, errors) = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
                    process.arguments = ["-c", script]
                    let input = Pipe(), out = Pipe(), err = Pipe()
                    process.standardInput = input
                    process.standardOutput = out
                    process.standardError = err
                    try process.run()
                    input.fileHandleForWriting.write(Data(text.utf8))
                    try input.fileHandleForWriting.close()
                    let output = out.fileHandleForReading.readDataToEndOfFile()
                    let errors = err.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
                })
            }
        }
        guard status == 0 else { throw HarnessFailure("prometheus_client could not parse /metrics: \(errors)") }
        return output.split(separator: "\n").map(String.init)
    }
}
