import Foundation
import Planning
import GitLab
import HTTP
import Policies
import Promotion
import Sandbox
import Testing

/// The engine end to end against the sandbox over loopback: real git (libgit2 + git http-backend),
/// real HTTP (libcurl + Hummingbird), the GitLab behaviours that matter, and a simulated clock.
@Suite struct EngineEndToEndTests {
    static let soaked: TimeInterval = 31 * 60

    @Test func firstPromotionOpensOneMRThatChangesOnlyTags() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            let report = try await h.cycle()
            #expect(!report.hasErrors, "\(report.errors) \(report.stages.compactMap(\.error))")
            let open = h.openMergeRequests
            try #require(open.count == 1, "expected one MR (test), got \(open.map(\.title))")
            let mr = open[0]
            #expect(mr.title == "Promote oms to test: app 1.5.0, web 1.5.0")
            #expect(mr.sourceBranch == "promobot/oms/test")
            #expect(mr.targetBranch == "master")
            #expect(mr.author == "promobot")
            #expect(mr.description.contains("<!-- promobot:marker"))
            // The branch changes exactly the tag bytes of the test files.
            for path in ["test/app/deploy.yaml", "test/app/migration.yaml", "test/web/deploy.yaml"] {
                let before = try h.file(path)
                let after = try h.file(path, ref: "promobot/oms/test")
                #expect(after == before.replacingOccurrences(of: ":1.4.2", with: ":1.5.0"), "\(path)")
            }
            // prod already runs what test runs (1.4.2): nothing to promote there yet.
            #expect(report.stages.first { $0.plan.stage == "test" }?.action?.hasPrefix("opened") == true)
        }
    }

    /// Policies on separate repositories run in concurrent lanes; the report keeps policy order.
    @Test func policiesOnOtherRepositoriesRunInTheSameCycle() async throws {
        try await withHarness { h in
            var policies = [h.policy]
            for name in ["billing", "search", "ledger"] {
                let project = "group/\(name)-deploy"
                var files: [String: String] = [:]
                for (env, version) in [("dev", "2.1.0"), ("test", "2.0.0")] {
                    files["\(env)/deploy.yaml"] = EngineHarness.deployment(name: "app", image: "registry.example.com/\(name)/app", version: version)
                }
                try h.sandbox.createProject(path: project, defaultBranch: "master", files: files)
                let yaml = """
                version: 1
                name: \(name)
                repository: \(project)
                branch: master
                images: [registry.example.com/\(name)/app]
                stages:
                  - name: dev
                    paths: [dev/]
                  - name: test
                    paths: [test/]

                """
                policies.append(try #require(PolicyParser.parse(yaml: yaml, path: "policies/\(name).yaml").policy))
            }
            try h.setDev("1.5.0")
            let report = try await h.engine(policies: policies).runCycle()
            #expect(!report.hasErrors, "\(report.errors) \(report.stages.compactMap(\.error))")
            #expect(report.stages.map { "\($0.plan.policy)/\($0.plan.stage)" }
                    == ["oms/test", "oms/prod", "billing/test", "search/test", "ledger/test"])
            for name in ["billing", "search", "ledger"] {
                let open = h.sandbox.mergeRequests(project: "group/\(name)-deploy").filter { $0.state == "opened" }
                #expect(open.map(\.title) == ["Promote \(name) to test: app 2.1.0"])
            }
            #expect(h.openMergeRequests.map(\.title) == ["Promote oms to test: app 1.5.0, web 1.5.0"])
        }
    }

    /// A repository that cannot be reached fails every stage on it, each with the reason, after a
    /// single attempt per cycle.
    @Test func unreachableRepositoryIsTriedOncePerCycle() async throws {
        try await withHarness { h in
            h.sandbox.injectFault(SandboxFault(pathPrefix: "/\(EngineHarness.project).git/", kind: .status(503), count: 100))
            h.sandbox.resetRequestLog()
            let report = try await h.cycle()
            #expect(report.errors.map(\.stage) == ["test", "prod"])
            #expect(report.errors.allSatisfy { $0.message.contains("503") }, "\(report.errors)")
            let probes = h.sandbox.requestLog().filter { $0.hasSuffix("/info/refs") || $0.contains("/info/refs") }
            // One refresh per cycle; its ref listing is tried as often as the git retry policy allows.
            #expect(probes.count == RetryPolicy().maxAttempts, "\(probes)")
        }
    }

    @Test func rerunWithNoChangeMakesNoWrite() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            let before = h.mergeRequests
            let branch = try h.sandbox.branchSHA(project: EngineHarness.project, branch: "promobot/oms/test")
            h.sandbox.resetRequestLog()
            let writesBefore = h.recorder.writes.count
            let report = try await h.cycle()
            #expect(!report.hasErrors)
            #expect(report.stages.allSatisfy { $0.action == nil || $0.action!.hasPrefix("opened") == false })
            #expect(h.mergeRequests == before)
            #expect(try h.sandbox.branchSHA(project: EngineHarness.project, branch: "promobot/oms/test") == branch)
            #expect(!h.sandbox.requestLog().contains { $0.contains("git-receive-pack") }, "\(h.sandbox.requestLog())")
            #expect(h.recorder.writes.count == writesBefore, "\(h.recorder.writes.dropFirst(writesBefore))")
        }
    }

    @Test func newerDevTagUpdatesTheOpenMRInPlace() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            try h.setDev("1.5.1")
            let report = try await h.cycle()
            #expect(!report.hasErrors)
            let mrs = h.mergeRequests
            #expect(mrs.count == 2 || mrs.filter { $0.sourceBranch == "promobot/oms/test" }.count == 1)
            let test = try #require(h.openMergeRequests.first { $0.sourceBranch == "promobot/oms/test" })
            #expect(test.title == "Promote oms to test: app 1.5.1, web 1.5.1")
            #expect(try h.file("test/app/deploy.yaml", ref: "promobot/oms/test").contains("\(EngineHarness.app):1.5.1"))
            #expect(report.stages.first { $0.plan.stage == "test" }?.action?.hasPrefix("updated") == true)
        }
    }

    @Test func devRollbackClosesTheMRWithAReason() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            let iid = try #require(h.openMergeRequests.first { $0.sourceBranch == "promobot/oms/test" }?.iid)
            try h.setDev("1.4.1")   // below what test runs (1.4.2)
            let report = try await h.cycle()
            #expect(!report.hasErrors)
            let mr = try #require(h.mergeRequests.first { $0.iid == iid })
            #expect(mr.state == "closed")
            #expect(mr.notes.contains { !$0.system && $0.body.contains("promobot closed this merge request") })
        }
    }

    @Test func humanCommitOnTheBotBranchIsRespected() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            let human = try h.sandbox.commit(project: EngineHarness.project, branch: "promobot/oms/test",
                                             files: ["test/NOTES.md": "please keep\n"], message: "a human fix", author: "alice")
            try h.setDev("1.5.1")
            try await h.cycle()
            try await h.cycle()
            #expect(try h.sandbox.branchSHA(project: EngineHarness.project, branch: "promobot/oms/test") == human)
            let mr = try #require(h.openMergeRequests.first { $0.sourceBranch == "promobot/oms/test" })
            let comments = mr.notes.filter { $0.body.contains("promobot:foreign-commits") }
            #expect(comments.count == 1, "commented \(comments.count) times")
        }
    }

    /// Killed (here: GitLab failing) after pushing the rebuilt branch but before updating the MR text:
    /// the branch head is then the bot's own commit the marker does not know yet. The next run must
    /// finish the update, not mistake its own commit for a human's.
    @Test func interruptedUpdateIsFinishedNextRun() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            try h.setDev("1.5.1")
            let iid = try #require(h.openMergeRequests.first?.iid)
            h.sandbox.injectFault(SandboxFault(method: "PUT", pathPrefix: "/api/v4/projects/group%2Foms-deploy/merge_requests/\(iid)",
                                               kind: .status(500, body: #"{"message":"500 Internal Server Error"}"#), count: 50))
            let failed = try await h.cycle()
            #expect(failed.hasErrors)
            let pushed = try h.file("test/app/deploy.yaml", ref: "promobot/oms/test")
            #expect(pushed.contains(":1.5.1"), "the branch was rebuilt before the update failed")
            #expect(h.openMergeRequests.first?.title.contains("1.5.0") == true)
            h.sandbox.clearFaults()

            let report = try await h.cycle()
            #expect(!report.hasErrors, "\(report.errors) \(report.stages.compactMap(\.error))")
            let mr = try #require(h.openMergeRequests.first { $0.iid == iid })
            #expect(mr.title == "Promote oms to test: app 1.5.1, web 1.5.1")
            #expect(!mr.notes.contains { $0.body.contains("promobot:foreign-commits") }, "its own commit is not foreign")
            #expect(h.openMergeRequests.count == 1)
        }
    }

    @Test(arguments: [
        ("Degraded", "Synced", "1.5.0", "health is Degraded"),
        ("Healthy", "OutOfSync", "1.5.0", "sync is OutOfSync"),
        ("Healthy", "Synced", "1.4.9", "not running"),
    ])
    func unhealthyUpstreamBlocks(health: String, sync: String, running: String, reason: String) async throws {
        try await withHarness(devHealth: "    health:\n      - argocd: oms-dev\n        settle: 2m\n") { h in
            try h.setDev("1.5.0")
            h.setArgo("oms-dev", version: running, health: health, sync: sync, syncedAgo: 600)
            let report = try await h.cycle()
            let test = try #require(report.stages.first { $0.plan.stage == "test" })
            guard case .blocked(let gate, let why, _) = test.plan.decision else {
                Issue.record("expected blocked, got \(test.plan.decision)")
                return
            }
            #expect(gate == .health)
            #expect(why.contains(reason), "\(why)")
            #expect(h.openMergeRequests.isEmpty)
        }
    }

    @Test func settleNotReachedBlocksThenPasses() async throws {
        try await withHarness(devHealth: "    health:\n      - argocd: oms-dev\n        settle: 5m\n") { h in
            try h.setDev("1.5.0")
            h.setArgo("oms-dev", version: "1.5.0", syncedAgo: 60)
            let first = try await h.cycle()
            #expect(first.stages.first { $0.plan.stage == "test" }?.plan.decision.summary.contains("settle") == true)
            h.clock.advance(5 * 60)
            try await h.cycle()
            #expect(h.openMergeRequests.count == 1)
        }
    }

    @Test func soakNotMetShowsTimeLeft() async throws {
        try await withHarness(testStage: "    soak: 30m\n") { h in
            try h.setDev("1.5.0")
            let report = try await h.cycle()
            let test = try #require(report.stages.first { $0.plan.stage == "test" })
            guard case .blocked(.soak, let reason, let until) = test.plan.decision else {
                Issue.record("expected soak block, got \(test.plan.decision)")
                return
            }
            #expect(reason.contains("left"), "\(reason)")
            #expect(until != nil)
            #expect(h.openMergeRequests.isEmpty)
            h.clock.advance(Self.soaked)
            try await h.cycle()
            #expect(h.openMergeRequests.count == 1)
        }
    }

    @Test func autoMergeMergesAndTheNextStageSeesTheNewTags() async throws {
        try await withHarness(testStage: "    merge: auto\n") { h in
            try h.setDev("1.5.0")
            // Opens and, GitLab answering mergeable, merges in the same cycle: no cycle lost to a busy upstream.
            let report = try await h.cycle()
            #expect(report.stages.first { $0.plan.stage == "test" }?.action == "opened !1, merged !1", "\(report.stages.map(\.action))")
            #expect(h.logs.text.contains("open MR"), "\(h.logs.text)")
            #expect(h.logs.text.contains("then merged !1 in the same cycle"), "\(h.logs.text)")
            #expect(try h.file("test/web/deploy.yaml").contains("\(EngineHarness.web):1.5.0"))
            // prod now sees test at 1.5.0 and opens its MR.
            try await h.cycle()
            #expect(h.openMergeRequests.contains { $0.sourceBranch == "promobot/oms/prod" && $0.title.contains("1.5.0") })
        }
    }

    @Test func closedWindowBlocksTheMergeButNotTheMR() async throws {
        // A window that is never open now: one hour that ended an hour ago, every day.
        let hour = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date().addingTimeInterval(-7200)).hour!
        let window = String(format: "    merge: auto\n    windows:\n      - days: [mon, tue, wed, thu, fri, sat, sun]\n        hours: \"%02d:00-%02d:00\"\n", hour, (hour + 1) % 24)
        try await withHarness(testStage: window) { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            #expect(h.openMergeRequests.count == 1)
            let report = try await h.cycle()
            let test = try #require(report.stages.first { $0.plan.stage == "test" })
            guard case .waiting(_, .window, _, let until) = test.plan.decision else {
                Issue.record("expected waiting on the window, got \(test.plan.decision)")
                return
            }
            #expect(until != nil)
            #expect(h.openMergeRequests.count == 1)
        }
    }

    @Test func approvedNeedsBothApprovals() async throws {
        try await withHarness(testStage: "    merge: approved\n    approvals: 2\n") { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            let iid = try #require(h.openMergeRequests.first?.iid)
            try h.sandbox.approve(project: EngineHarness.project, iid: iid, username: "alice")
            let report = try await h.cycle()
            #expect(h.mergeRequests.first { $0.iid == iid }?.state == "opened", "merged with 1 of 2 approvals")
            // The outcome carries the count for the status board.
            let approvals = try #require(report.stages.first { $0.plan.stage == "test" }?.approvals)
            #expect(approvals.given == 1 && approvals.required == 2)
            try h.sandbox.approve(project: EngineHarness.project, iid: iid, username: "bob")
            try await h.cycle()
            #expect(h.mergeRequests.first { $0.iid == iid }?.state == "merged")
        }
    }

    @Test func duplicateMRAnswerIsAdopted() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            let iid = try #require(h.openMergeRequests.first?.iid)
            try h.setDev("1.5.1")
            // The engine's MR list comes back empty once, so it tries to create and gets GitLab's 409.
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: "/api/v4/merge_requests",
                                               kind: .status(200, body: "[]", headers: ["Content-Type": "application/json", "X-Next-Page": ""])))
            let report = try await h.cycle()
            #expect(!report.hasErrors, "\(report.stages.compactMap(\.error))")
            #expect(h.openMergeRequests.count == 1)
            let mr = try #require(h.openMergeRequests.first)
            #expect(mr.iid == iid)
            #expect(mr.title.contains("1.5.1"))
        }
    }

    @Test func rateLimitsAndServerErrorsMidCycleAreRetried() async throws {
        try await withHarness(testStage: "    merge: auto\n") { h in
            try h.setDev("1.5.0")
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: "/api/v4/projects/group%2Foms-deploy/merge_requests",
                                               kind: .status(429, body: "Retry later", headers: ["Retry-After": "0"]), count: 1))
            h.sandbox.injectFault(SandboxFault(method: "POST", pathPrefix: "/api/v4/projects/group%2Foms-deploy/merge_requests",
                                               kind: .status(503, body: #"{"message":"503 Service Unavailable"}"#), count: 1))
            var report = try await h.cycle()
            if report.hasErrors { report = try await h.cycle() }    // converges on the next cycle at the latest
            #expect(!report.hasErrors, "\(report.stages.compactMap(\.error))")
            #expect(h.mergeRequests.filter { $0.sourceBranch == "promobot/oms/test" }.count == 1)
        }
    }

    @Test func killedAfterPushBeforeCreateCompletesWithoutDuplicate() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            h.sandbox.injectFault(SandboxFault(method: "POST", pathPrefix: "/api/v4/projects/group%2Foms-deploy/merge_requests",
                                               kind: .drop, count: 10))
            let crashed = try await h.cycle()
            #expect(crashed.hasErrors)
            #expect(try h.sandbox.branchSHA(project: EngineHarness.project, branch: "promobot/oms/test") != nil)
            #expect(h.mergeRequests.isEmpty)
            h.sandbox.clearFaults()
            let report = try await h.cycle()
            #expect(!report.hasErrors, "\(report.stages.compactMap(\.error))")
            #expect(h.mergeRequests.count == 1)
        }
    }

    @Test func twoRunsAtOnceOpenOneMR() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            let one = try h.engine(), two = try h.engine()
            async let a = one.runCycle()
            async let b = two.runCycle()
            let (ra, rb) = await (a, b)
            _ = (ra, rb)
            try await h.cycle()   // whichever lost a race converges now
            #expect(h.mergeRequests.filter { $0.sourceBranch == "promobot/oms/test" }.count == 1)
        }
    }

    @Test func tokenAppearsNowhere() async throws {
        try await withHarness(testStage: "    merge: auto\n") { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            try await h.cycle()
            try h.setDev("1.6.0")
            h.sandbox.injectFault(SandboxFault(pathPrefix: "/api/v4", kind: .status(500, body: #"{"message":"500 Internal Server Error"}"#), count: 20))
            let failing = try await h.cycle()
            h.sandbox.clearFaults()
            let texts = failing.stages.compactMap(\.error) + failing.errors.map(\.description) + [h.logs.text]
                + h.mergeRequests.flatMap { [$0.title, $0.description] + $0.notes.map(\.body) }
            for text in texts { #expect(!text.contains(h.botToken)) }
            #expect(try !h.cacheContains(h.botToken))
        }
    }

    @Test func dryRunWritesNothing() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            let report = try await h.cycle(dryRun: true)
            #expect(report.stages.first { $0.plan.stage == "test" }?.action?.contains("dry run") == true)
            #expect(h.mergeRequests.isEmpty)
            #expect(try h.sandbox.branchSHA(project: EngineHarness.project, branch: "promobot/oms/test") == nil)
        }
    }
}
