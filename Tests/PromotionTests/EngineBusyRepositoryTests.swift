import Foundation
import Planning
import GitLab
import Policies
import Promotion
import Testing
@testable import Sandbox

/// The seed's real setting: CI commits to the deploy repo on every build, several times between two bot
/// cycles, with the demo's policy (dev -> test `auto` -> prod `approved`). Each test is one numbered case
/// of the issue "Promotions must finish on a busy deploy repo"; each failed on the engine before it.
@Suite(.serialized) struct EngineBusyRepositoryTests {
    static let argoDev = "    health:\n      - argocd: oms-dev\n"
    static let prodApproved = "    merge: approved\n    approvals: 2\n"

    /// CI builds `version` for dev and Argo CD syncs it (healthy unless told otherwise).
    static func ciBuilds(_ version: String, _ h: EngineHarness, health: String = "Healthy") throws {
        try h.setDev(version)
        h.setArgo("oms-dev", version: version, health: health)
    }

    /// One cycle per cache name, all at once (separate names are separate pods), each ending without an error.
    static func runAtOnce(_ h: EngineHarness, caches: [String]) async throws {
        let engines = try caches.map { try h.engine(cache: $0) }
        let reports = await withTaskGroup(of: CycleReport.self) { group in
            for engine in engines { group.addTask { await engine.runCycle() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for report in reports {
            #expect(!report.hasErrors, "\(report.errors) \(report.stages.compactMap(\.error))")
        }
    }

    static func prodMR(_ h: EngineHarness) -> SandboxMergeRequest? {
        h.openMergeRequests.first { $0.sourceBranch == "promobot/oms/prod" }
    }

    // 1. Approvals are not thrown away by unrelated commits.
    @Test func approvalsSurviveCICommitsToOtherPaths() async throws {
        try await withHarness(testStage: "    merge: auto\n", prodStage: Self.prodApproved, devHealth: Self.argoDev) { h in
            try Self.ciBuilds("1.5.0", h)
            try await h.cycle()                      // test: opened and merged in the same cycle
            try await h.cycle()                      // prod: MR for 1.5.0
            let mr = try #require(Self.prodMR(h))
            try h.sandbox.approve(project: EngineHarness.project, iid: mr.iid, username: "alice")

            // dev breaks, and CI keeps committing: test does not move, prod's candidate does not change.
            for version in ["1.5.1", "1.5.2", "1.5.3"] {
                try Self.ciBuilds(version, h, health: "Degraded")
                try await h.cycle()
            }
            let after = try #require(Self.prodMR(h))
            #expect(after.iid == mr.iid)
            #expect(after.sha == mr.sha, "the prod branch was rebuilt for commits that touched only dev/")
            #expect(after.approvedBy == ["alice"], "the approval was thrown away")
            #expect(!h.logs.text.contains("master moved"), "\(h.logs.text)")

            try h.sandbox.approve(project: EngineHarness.project, iid: mr.iid, username: "bob")
            let report = try await h.cycle()
            #expect(report.stages.first { $0.plan.stage == "prod" }?.action == "merged !\(mr.iid)", "\(report.stages.map(\.action))")
            #expect(try h.file("prod/app/deploy.yaml").contains("\(EngineHarness.app):1.5.0"))
            #expect(try h.file("dev/app/deploy.yaml").contains("\(EngineHarness.app):1.5.3"), "CI's commits are kept by the merge")
        }
    }

    /// A change under the stage's own paths is a reason: the bot's edit no longer applies as built.
    @Test func aChangeUnderTheStagePathsRebuilds() async throws {
        try await withHarness(prodStage: Self.prodApproved) { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            let mr = try #require(h.openMergeRequests.first { $0.sourceBranch == "promobot/oms/test" })
            let edited = try h.file("test/web/deploy.yaml").replacingOccurrences(of: "name: oms-web", with: "name: oms-web\n  labels: {team: web}")
            try h.sandbox.commit(project: EngineHarness.project, branch: "master", files: ["test/web/deploy.yaml": edited],
                                 message: "label web", author: "alice")
            let report = try await h.cycle()
            #expect(report.stages.first { $0.plan.stage == "test" }?.action == "updated !\(mr.iid)")
            #expect(h.logs.text.contains("test/ changed on master"), "\(h.logs.text)")
            let rebuilt = try h.file("test/web/deploy.yaml", ref: "promobot/oms/test")
            #expect(rebuilt.contains("labels: {team: web}") && rebuilt.contains(":1.5.0"))
        }
    }

    /// A bot branch deleted under an open MR (by a person, or by a race between runs) is pushed again,
    /// and the MR goes on to merge; it never sticks on a lease that expects the vanished head.
    @Test func aDeletedBranchUnderAnOpenMRIsPushedAgain() async throws {
        try await withHarness(testStage: "    merge: manual\n") { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            let mr = try #require(h.openMergeRequests.first { $0.sourceBranch == "promobot/oms/test" })
            _ = try await h.alice.deleteBranch(.path(EngineHarness.project), "promobot/oms/test")
            let report = try await h.cycle()
            #expect(report.stages.first { $0.plan.stage == "test" }?.action == "updated !\(mr.iid)", "\(report.stages.map(\.action))")
            #expect(h.logs.text.contains("its branch no longer exists"), "\(h.logs.text)")
            #expect(try h.file("test/app/deploy.yaml", ref: "promobot/oms/test").contains(":1.5.0"))
            #expect(try await h.cycle().stages.first { $0.plan.stage == "test" }?.action == nil, "settled: nothing more to do")
        }
    }

    // 2. Auto stages do not starve.
    @Test func autoStageAdvancesUnderACommitBeforeEveryCycle() async throws {
        try await withHarness(testStage: "    merge: auto\n", prodStage: Self.prodApproved, devHealth: Self.argoDev) { h in
            var promoted = 0
            var last = "1.4.2"
            for cycle in 1...6 {
                let version = "1.6.\(cycle)"
                try Self.ciBuilds(version, h)
                try await h.cycle()
                let test = try h.file("test/app/deploy.yaml")
                let now = test.contains(":\(version)") ? version : (test.contains(":\(last)") ? last : "?")
                if now != last { promoted += 1 }
                last = now
            }
            #expect(promoted >= 3, "test advanced \(promoted) times in 6 cycles")
            #expect(h.openMergeRequests.filter { $0.sourceBranch == "promobot/oms/test" }.count <= 1)
        }
    }

    /// GitLab computes mergeability asynchronously: the cycle that opens an auto MR waits for it (bounded).
    @Test func sameCycleMergeWaitsForGitLabsMergeabilityCheck() async throws {
        try await withHarness(testStage: "    merge: auto\n") { h in
            h.sandbox.setMergeabilityDelay(project: EngineHarness.project, seconds: 0.6)
            h.configure = { $0.mergeabilityWait = .seconds(5); $0.mergeabilityPoll = .milliseconds(100) }
            try h.setDev("1.5.0")
            let report = try await h.cycle()
            #expect(report.stages.first { $0.plan.stage == "test" }?.action == "opened !1, merged !1", "\(report.stages.map(\.action))")

            // Bounded: with a wait shorter than GitLab's check, the cycle ends and the next one merges.
            h.sandbox.setMergeabilityDelay(project: EngineHarness.project, seconds: 30)
            h.configure = { $0.mergeabilityWait = .milliseconds(300); $0.mergeabilityPoll = .milliseconds(100) }
            try h.setDev("1.5.1")
            let start = ContinuousClock.now
            let waited = try await h.cycle()
            #expect(ContinuousClock.now - start < .seconds(10))
            let test = try #require(waited.stages.first { $0.plan.stage == "test" })
            #expect(test.action == "opened !2")
            #expect(test.note?.contains("checking") == true, "\(String(describing: test.note))")
        }
    }

    // 3. A failed MR update never sticks the stage.
    @Test func failedUpdateThenNewerCandidateIsNotMistakenForAForeignPush() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            let iid = try #require(h.openMergeRequests.first?.iid)
            try h.setDev("1.5.1")
            h.sandbox.injectFault(SandboxFault(method: "PUT", pathPrefix: "/api/v4/projects/group%2Foms-deploy/merge_requests/\(iid)",
                                               kind: .status(500, body: #"{"message":"500 Internal Server Error"}"#), count: 50))
            #expect(try await h.cycle().hasErrors)      // branch rebuilt for 1.5.1, description still says 1.5.0
            h.sandbox.clearFaults()

            try h.setDev("1.5.2")                        // and the candidate moves again before the next cycle
            let report = try await h.cycle()
            #expect(!report.hasErrors, "\(report.errors) \(report.stages.compactMap(\.error))")
            let mr = try #require(h.openMergeRequests.first { $0.iid == iid })
            #expect(mr.title == "Promote oms to test: app 1.5.2, web 1.5.2")
            #expect(try h.file("test/app/deploy.yaml", ref: "promobot/oms/test").contains(":1.5.2"))
            #expect(!mr.notes.contains { $0.body.contains("promobot:foreign-commit") }, "its own commit is not foreign")
            #expect(!h.logs.text.contains("left alone"), "\(h.logs.text)")
        }
    }

    // 4. Races between runs are normal; a person's later pushes are each announced.
    @Test func threeRunsRacingToOpenAllSucceedWithOneMR() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            try await Self.runAtOnce(h, caches: (0..<3).map { "pod-\($0)" })
            #expect(h.mergeRequests.filter { $0.sourceBranch == "promobot/oms/test" }.count == 1)
            #expect(h.mergeRequests.allSatisfy { mr in !mr.notes.contains { $0.body.contains("promobot:foreign-commit") } })
        }
    }

    @Test func runsRacingToUpdateNeverCommentAndLosersSayWhatHappened() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            try h.setDev("1.5.1")
            try await Self.runAtOnce(h, caches: (0..<3).map { "pod-\($0)" })
            try await h.cycle()
            let mr = try #require(h.openMergeRequests.first { $0.sourceBranch == "promobot/oms/test" })
            #expect(mr.title.contains("1.5.1"))
            #expect(!mr.notes.contains { $0.body.contains("promobot:foreign-commit") }, "a race is not someone else's push")
            for line in h.logs.text.split(separator: "\n") where line.contains("action=") {
                #expect(!(line.contains("update MR") && line.contains("action=left")), "a line contradicts itself: \(line)")
            }
        }
    }

    @Test func eachPushByAPersonIsAnnouncedOnce() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            try await h.cycle()
            let branch = "promobot/oms/test"
            let first = try h.sandbox.commit(project: EngineHarness.project, branch: branch, files: ["test/NOTES.md": "one\n"],
                                             message: "a human fix", author: "alice")
            try await h.cycle()
            try await h.cycle()
            let second = try h.sandbox.commit(project: EngineHarness.project, branch: branch, files: ["test/NOTES.md": "two\n"],
                                              message: "another human fix", author: "alice")
            try await h.cycle()
            try await h.cycle()
            let mr = try #require(h.openMergeRequests.first { $0.sourceBranch == branch })
            let comments = mr.notes.filter { $0.body.contains("promobot:foreign-commit ") }
            #expect(comments.count == 2, "\(comments.map(\.body))")
            #expect(comments.contains { $0.body.contains(first) } && comments.contains { $0.body.contains(second) })
            #expect(try h.sandbox.branchSHA(project: EngineHarness.project, branch: branch) == second)
        }
    }

    /// Two cron runs that overlap on one machine share the cache folder: each clone's file lock makes
    /// them wait for each other instead of failing on libgit2's lock files.
    @Test func runsSharingOneCacheFolderWaitForEachOther() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            try await Self.runAtOnce(h, caches: ["shared", "shared", "shared"])   // separate cache objects, one folder
            #expect(h.mergeRequests.filter { $0.sourceBranch == "promobot/oms/test" }.count == 1)
        }
    }
}
