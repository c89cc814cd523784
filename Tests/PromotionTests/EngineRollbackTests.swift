import Foundation
import GitLab
import HTTP
import Health
import Manifests
import Planning
import Policies
import Promotion
import Synchronization
import Testing
import TestSupport
@testable import Sandbox

/// `promobot rollback`, `promobot promote` and automatic rollback, against the sandbox over loopback
/// with real git: the way back is never blocked by what guards the way forward.
@Suite(.serialized) struct EngineRollbackTests {
    static let prodArgo = "    merge: auto\n    health:\n      - argocd: oms-prod\n"

    /// dev -> test -> prod with 1.5.0, through the bot (test and prod `auto`).
    static func promoteThrough(_ version: String, _ h: EngineHarness) async throws {
        try h.setDev(version)
        try await h.cycle()
        try await h.cycle()
        #expect(try h.file("prod/app/deploy.yaml").contains(":\(version)"))
    }

    static func stage(_ name: String, _ h: EngineHarness, _ change: (inout Stage) -> Void) {
        let index = h.policy.stages.firstIndex { $0.name == name }!
        change(&h.policy.stages[index])
    }

    static func dana(_ reason: String? = nil, to: String? = nil) -> RollbackCommandRequest {
        RollbackCommandRequest(to: to, reason: reason, requestedBy: "dana")
    }

    // MARK: - The command

    @Test func rollbackBringsProdBackInOneCommandDuringAFreezeAnEmergencyStopAndAnUnhealthyUpstream() async throws {
        try await withHarness(testStage: "    merge: auto\n    health:\n      - argocd: oms-test\n", prodStage: "    merge: auto\n") { h in
            h.setArgo("oms-test", version: "1.5.0")
            try await Self.promoteThrough("1.5.0", h)

            // Now everything that guards the way forward is closed.
            let today = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: h.clock.now)
            let date = LocalDate(year: today.year!, month: today.month!, day: today.day!)
            Self.stage("prod", h) { $0.freezes = [Freeze(from: date, until: date, reason: "year-end")] }
            h.setArgo("oms-test", version: "1.5.0", health: "Degraded")
            h.configure = { $0.emergencyStop = "stop file exists" }

            let outcome = try await h.engine().rollback(policy: "oms", stage: "prod", request: Self.dana("checkout errors"))
            #expect(outcome.error == nil, "\(outcome.error ?? "")")
            #expect(outcome.actions.contains { if case .merged = $0 { true } else { false } }, "\(outcome.actions)")
            let merged = try #require(outcome.mergedCommit)
            #expect(try h.sandbox.branchSHA(project: EngineHarness.project, branch: "master") == merged)
            for path in ["prod/app/deploy.yaml", "prod/app/migration.yaml", "prod/web/deploy.yaml"] {
                #expect(try h.file(path).contains(":1.4.2"), "\(path)")
            }
            let mr = try #require(h.mergeRequests.first { $0.sourceBranch == "promobot/oms/prod.rollback" })
            #expect(mr.title == "Roll back oms in prod: app 1.5.0 -> 1.4.2, web 1.5.0 -> 1.4.2")
            #expect(mr.description.contains("Reason: checkout errors") && mr.description.contains("Requested by: dana"))
            #expect(mr.description.contains("Takes out what came in with [`"), "links the change taken out")

            // The next cycle: 1.5.0 is held; plan says why; nothing proposes it.
            h.configure = { _ in }
            h.setArgo("oms-test", version: "1.5.0")
            let report = try await h.cycle()
            let prod = try #require(report.stages.first { $0.plan.stage == "prod" && $0.plan.rollback == nil })
            guard case let .blocked(.hold, reason, _) = prod.plan.decision else {
                Issue.record("expected a hold, got \(prod.plan.summary)"); return
            }
            #expect(reason.contains("app 1.5.0, web 1.5.0 were rolled back from prod in") && reason.contains("by dana via promobot rollback"), "\(reason)")
            #expect(reason.contains("(\"checkout errors\")"), "\(reason)")
            #expect(!h.openMergeRequests.contains { $0.sourceBranch == "promobot/oms/prod" })
        }
    }

    @Test func rollbackClosesThePromotionMRWaitsForApprovalsAndCyclesMergeItThenNewerVersionsFlow() async throws {
        try await withHarness(testStage: "    merge: auto\n", prodStage: "    merge: auto\n") { h in
            try await Self.promoteThrough("1.5.0", h)
            Self.stage("prod", h) {
                $0.merge = .manual
                $0.rollback = RollbackSettings(merge: .approved, approvals: 1)
            }
            try h.setDev("1.5.1")
            try await h.cycle()                                     // test 1.5.1
            try await h.cycle()                                     // prod MR opens (manual)
            let promotion = try #require(h.openMergeRequests.first { $0.sourceBranch == "promobot/oms/prod" })

            let outcome = try await h.engine().rollback(policy: "oms", stage: "prod", request: Self.dana())
            #expect(outcome.error == nil && outcome.mergedCommit == nil)
            let rollback = try #require(h.openMergeRequests.first { $0.sourceBranch == "promobot/oms/prod.rollback" })
            #expect(outcome.mergeRequestURL?.hasSuffix("/merge_requests/\(rollback.iid)") == true)
            #expect(outcome.plan.rollback?.reason == "requested by dana")
            let closed = try #require(h.mergeRequests.first { $0.iid == promotion.iid })
            #expect(closed.state == "closed")
            let notes = try await h.alice.notes(.path(EngineHarness.project), iid: promotion.iid)
            #expect(notes.contains { $0.body.contains("superseded by rollback !\(rollback.iid)") })

            // Cycles: the rollback waits for its approval, and no promotion MR opens beside it.
            var report = try await h.cycle()
            let waiting = try #require(report.stages.first { $0.plan.rollback != nil })
            guard case .waiting(_, .approvals, _, _) = waiting.plan.decision else {
                Issue.record("expected waiting on approvals, got \(waiting.plan.summary)"); return
            }
            let prod = try #require(report.stages.first { $0.plan.stage == "prod" && $0.plan.rollback == nil })
            guard case .blocked(.rollback, _, _) = prod.plan.decision else {
                Issue.record("expected the rollback gate, got \(prod.plan.summary)"); return
            }
            #expect(!h.openMergeRequests.contains { $0.sourceBranch == "promobot/oms/prod" })

            try h.sandbox.approve(project: EngineHarness.project, iid: rollback.iid, username: "alice")
            report = try await h.cycle()
            #expect(h.mergeRequests.first { $0.iid == rollback.iid }?.state == "merged", "\(report.stages.map(\.plan.summary))")
            #expect(try h.file("prod/app/deploy.yaml").contains(":1.4.2"))

            // 1.5.0 is held; 1.5.1 (what test runs) is not: it flows.
            report = try await h.cycle()
            #expect(h.openMergeRequests.contains { $0.sourceBranch == "promobot/oms/prod" && $0.title.contains("1.5.1") },
                    "\(report.stages.map(\.plan.summary))")
        }
    }

    @Test func rollbackRefusesWhenThereIsNothingEarlierOrToIsAVersionNeverRun() async throws {
        try await withHarness(testStage: "    merge: auto\n", prodStage: "    merge: auto\n") { h in
            do {
                _ = try await h.engine().rollback(policy: "oms", stage: "prod", request: Self.dana())
                Issue.record("expected a refusal")
            } catch let error as OnDemandError {
                #expect(error.exitCode == 1)
                #expect("\(error)".contains("prod ran nothing before app 1.4.2, web 1.4.2"), "\(error)")
            }
            try await Self.promoteThrough("1.5.0", h)
            do {
                _ = try await h.engine().rollback(policy: "oms", stage: "prod", request: Self.dana(to: "1.3.0"))
                Issue.record("expected a refusal")
            } catch let error as OnDemandError {
                #expect("\(error)".contains("prod did not run 1.3.0 before; it ran (newest first): app 1.5.0, web 1.5.0 (now); app 1.4.2, web 1.4.2"), "\(error)")
            }
            do {
                _ = try await h.engine().rollback(policy: "oms", stage: "staging", request: Self.dana())
                Issue.record("expected a refusal")
            } catch let error as OnDemandError {
                #expect(error.exitCode == 2)
            }
            #expect(h.mergeRequests.allSatisfy { $0.sourceBranch != "promobot/oms/prod.rollback" })
        }
    }

    @Test func rollbackToAnOlderVersionAndADryRunThatWritesNothing() async throws {
        try await withHarness(testStage: "    merge: auto\n", prodStage: "    merge: auto\n") { h in
            try await Self.promoteThrough("1.5.0", h)
            try await Self.promoteThrough("1.6.0", h)
            let before = try h.sandbox.branchSHA(project: EngineHarness.project, branch: "master")
            let dry = try await h.engine(dryRun: true).rollback(policy: "oms", stage: "prod", request: Self.dana(to: "1.4.2"))
            #expect(dry.plan.summary == "open rollback MR: roll back app 1.6.0 -> 1.4.2, web 1.6.0 -> 1.4.2", "\(dry.plan.summary)")
            #expect(try h.sandbox.branchSHA(project: EngineHarness.project, branch: "master") == before)
            #expect(h.mergeRequests.allSatisfy { $0.sourceBranch != "promobot/oms/prod.rollback" })

            let outcome = try await h.engine().rollback(policy: "oms", stage: "prod", request: Self.dana(to: "1.4.2"))
            #expect(outcome.mergedCommit != nil)
            #expect(try h.file("prod/web/deploy.yaml").contains(":1.4.2"))
        }
    }

    // MARK: - Races and crashes

    @Test func twoBotsRollingBackAtOnceEndWithOneRollbackMR() async throws {
        try await withHarness(testStage: "    merge: auto\n", prodStage: "    merge: auto\n") { h in
            try await Self.promoteThrough("1.5.0", h)
            Self.stage("prod", h) { $0.rollback = RollbackSettings(merge: .manual) }
            let one = try h.engine(cache: "pod-a"), two = try h.engine(cache: "pod-b")
            async let a = one.rollback(policy: "oms", stage: "prod", request: Self.dana("a"))
            async let b = two.rollback(policy: "oms", stage: "prod", request: Self.dana("b"))
            let outcomes = try await [a, b]
            #expect(outcomes.allSatisfy { $0.error == nil }, "\(outcomes.map { $0.error ?? "" })")
            #expect(h.openMergeRequests.filter { $0.sourceBranch == "promobot/oms/prod.rollback" }.count == 1)
            // The next cycle finds one rollback MR, its own, and leaves it for a person (merge: manual).
            let report = try await h.cycle()
            let rollback = try #require(report.stages.first { $0.plan.rollback != nil })
            guard case .waiting(_, .approvals, _, _) = rollback.plan.decision else {
                Issue.record("expected waiting for a person, got \(rollback.plan.summary)"); return
            }
        }
    }

    @Test func aRollbackKilledBetweenPushAndMergeRequestConvergesOnTheNextRun() async throws {
        try await withHarness(testStage: "    merge: auto\n", prodStage: "    merge: auto\n") { h in
            try await Self.promoteThrough("1.5.0", h)
            // The MR creation fails past its retries: the branch is pushed, no MR exists (as if killed there).
            h.sandbox.injectFault(SandboxFault(method: "POST", pathPrefix: "/api/v4/projects/group%2Foms-deploy/merge_requests",
                                               kind: .status(500), count: 20))
            let failed = try await h.engine().rollback(policy: "oms", stage: "prod", request: Self.dana("checkout errors"))
            #expect(failed.error != nil)
            #expect(try h.sandbox.branchSHA(project: EngineHarness.project, branch: "promobot/oms/prod.rollback") != nil)
            #expect(h.mergeRequests.allSatisfy { $0.sourceBranch != "promobot/oms/prod.rollback" })
            h.sandbox.clearFaults()

            let outcome = try await h.engine().rollback(policy: "oms", stage: "prod", request: Self.dana("checkout errors"))
            #expect(outcome.error == nil && outcome.mergedCommit != nil, "\(outcome.error ?? "")")
            #expect(h.mergeRequests.filter { $0.sourceBranch == "promobot/oms/prod.rollback" }.count == 1)
            #expect(try h.file("prod/app/deploy.yaml").contains(":1.4.2"))
        }
    }

    // MARK: - promote

    @Test func promoteToLiftsAHoldOnPurpose() async throws {
        try await withHarness(testStage: "    merge: auto\n", prodStage: "    merge: auto\n") { h in
            try await Self.promoteThrough("1.5.0", h)
            _ = try await h.engine().rollback(policy: "oms", stage: "prod", request: Self.dana("checkout errors"))
            var report = try await h.cycle()
            #expect(report.stages.contains { if case .blocked(.hold, _, _) = $0.plan.decision { true } else { false } })

            let outcome = try await h.engine().promote(policy: "oms", stage: "prod", to: "1.5.0", requestedBy: "dana")
            #expect(outcome.error == nil)
            #expect(outcome.actions.contains { if case .merged = $0 { true } else { false } }, "\(outcome.plan.summary) \(outcome.actions)")
            #expect(try h.file("prod/app/deploy.yaml").contains(":1.5.0"))
            let mr = try #require(h.mergeRequests.last { $0.sourceBranch == "promobot/oms/prod" })
            #expect(mr.description.contains("Requested by dana with `promobot promote`"))

            report = try await h.cycle()
            let prod = try #require(report.stages.first { $0.plan.stage == "prod" })
            #expect(prod.plan.decision == .upToDate && prod.plan.held.isEmpty, "\(prod.plan.summary)")
        }
    }

    @Test func promoteToAVersionTheUpstreamNeverRanIsRefused() async throws {
        try await withHarness(testStage: "    merge: auto\n", prodStage: "    merge: manual\n") { h in
            do {
                _ = try await h.engine().promote(policy: "oms", stage: "prod", to: "9.9.9", requestedBy: "dana")
                Issue.record("expected a refusal")
            } catch let error as OnDemandError {
                #expect(error.exitCode == 1 && "\(error)".contains("test did not run 9.9.9"), "\(error)")
            }
            do {
                _ = try await h.engine().promote(policy: "oms", stage: "dev", to: nil, requestedBy: "dana")
                Issue.record("expected a refusal: nothing promotes into the first stage")
            } catch let error as OnDemandError {
                #expect(error.exitCode == 2)
            }
        }
    }

    // MARK: - Automatic rollback

    /// prod watches its own Argo CD application and rolls back by itself within the hour after a promotion.
    static func autoHarness(_ body: @escaping (EngineHarness) async throws -> Void) async throws {
        try await withHarness(testStage: "    merge: auto\n", prodStage: prodArgo) { h in
            Self.stage("prod", h) { $0.rollback = RollbackSettings(auto: true, within: PolicyDuration(seconds: 3600)) }
            h.configure = { $0.rollbackConfirmation = .milliseconds(50) }
            h.setArgo("oms-prod", version: "1.4.2")
            try await Self.promoteThrough("1.5.0", h)
            try await body(h)
        }
    }

    @Test func automaticRollbackFiresOnAConfirmedFailureAndHoldsTheVersion() async throws {
        try await Self.autoHarness { h in
            h.setArgo("oms-prod", version: "1.5.0", health: "Degraded")
            let report = try await h.cycle()
            let rollback = try #require(report.stages.first { $0.plan.rollback != nil })
            #expect(rollback.plan.rollback?.automatic == true)
            #expect(report.counters.automaticRollbacks == 1 && report.counters.rollbacksMerged == 1, "\(report.counters)")
            #expect(try h.file("prod/app/deploy.yaml").contains(":1.4.2"))
            let mr = try #require(h.mergeRequests.first { $0.sourceBranch == "promobot/oms/prod.rollback" })
            #expect(mr.description.contains("automatic rollback") && mr.description.contains("health is Degraded"), "\(mr.description)")
            #expect(h.logs.text.contains("automatic rollback: prod failed its health checks twice"))

            // Test still offers 1.5.0: held, never re-proposed; prod's own health no longer matters (not a promotion).
            h.setArgo("oms-prod", version: "1.4.2", health: "Degraded")
            let next = try await h.cycle()
            #expect(next.counters.rollbacksOpened == 0)
            #expect(!h.openMergeRequests.contains { $0.sourceBranch.hasPrefix("promobot/oms/prod") })
            let prod = try #require(next.stages.first { $0.plan.stage == "prod" && $0.plan.rollback == nil })
            #expect(prod.plan.held.map(\.version.display) == ["1.5.0", "1.5.0"], "\(prod.plan.summary)")
        }
    }

    @Test func automaticRollbackIgnoresOneFlakySample() async throws {
        try await Self.autoHarness { h in
            h.setArgo("oms-prod", version: "1.5.0", health: "Degraded")
            var engine = try h.engine()
            // The second sample sees a healthy application: the first was a blip.
            engine.health.transport = AfterFirstArgoRead(h.recorder) { h.setArgo("oms-prod", version: "1.5.0") }
            engine.health.argocd = ServiceAccess(baseURL: h.sandbox.baseURL, token: nil)
            let report = await engine.runCycle()
            #expect(report.counters.rollbacksOpened == 0, "\(report.stages.map(\.plan.summary))")
            #expect(try h.file("prod/app/deploy.yaml").contains(":1.5.0"))
            #expect(h.logs.text.contains("health failure not confirmed"))
        }
    }

    @Test func automaticRollbackNeverFiresOnAnUnreachableArgoCD() async throws {
        try await Self.autoHarness { h in
            h.sandbox.injectFault(SandboxFault(pathPrefix: "/api/v1/applications/oms-prod", kind: .status(503), count: 1000))
            let report = try await h.cycle()
            #expect(report.counters.rollbacksOpened == 0)
            #expect(try h.file("prod/app/deploy.yaml").contains(":1.5.0"))
            h.sandbox.clearFaults()
            // Still syncing (OutOfSync, Progressing) is not a failure either.
            h.setArgo("oms-prod", version: "1.5.0", health: "Progressing", sync: "OutOfSync")
            #expect(try await h.cycle().counters.rollbacksOpened == 0)
        }
    }

    @Test func automaticRollbackStopsWatchingAfterTheWindow() async throws {
        try await Self.autoHarness { h in
            h.clock.advance(2 * 3600)
            h.setArgo("oms-prod", version: "1.5.0", health: "Degraded")
            let report = try await h.cycle()
            #expect(report.counters.rollbacksOpened == 0)
            #expect(try h.file("prod/app/deploy.yaml").contains(":1.5.0"))
        }
    }
}

/// Passes requests through; after the first Argo CD application read completes, runs `flip` once.
final class AfterFirstArgoRead: HTTPTransport, @unchecked Sendable {
    let inner: any HTTPTransport
    let flip: @Sendable () -> Void
    private let done = Mutex(false)

    init(_ inner: any HTTPTransport, flip: @escaping @Sendable () -> Void) {
        self.inner = inner
        self.flip = flip
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response = try await inner.send(request)
        if request.url.path.contains("/api/v1/applications/"), done.withLock({ old in defer { old = true }; return !old }) { flip() }
        return response
    }
}
