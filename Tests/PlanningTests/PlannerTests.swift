import Foundation
import Policies
import Manifests
import Testing
@testable import Planning

// MARK: - Fixtures

/// Builds planner inputs around one policy: `oms` with images app and web, stages dev -> test -> prod.
/// The clock is Friday 2026-11-27 12:00 UTC unless a case moves it.
enum Fixture {
    static let app = "registry.example.com/oms/app"
    static let web = "registry.example.com/oms/web"
    static let now = date("2026-11-27T12:00:00Z")
    static let targetTip = String(repeating: "a", count: 40)
    static let upstreamTip = String(repeating: "b", count: 40)
    static let head = String(repeating: "c", count: 40)

    static func date(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)!
    }

    static func minutes(_ value: Double) -> TimeInterval { value * 60 }

    static func tags(_ version: String) -> ImageVersions { [app: ImageVersion(version), web: ImageVersion(version)] }

    static func policy(test: Stage = testStage()) -> Policy {
        Policy(name: "oms", sourcePath: "policies/oms.yaml", images: [app, web], stages: [
            Stage(name: "dev", repository: "group/oms-deploy", branch: "main", paths: ["dev"],
                  health: [.http(url: "https://dev.example/health", status: 200)]),
            test,
            Stage(name: "prod", from: "test", repository: "group/oms-deploy", branch: "main", paths: ["prod"]),
        ])
    }

    static func testStage(
        soak: PolicyDuration? = PolicyDuration(seconds: 1800), merge: MergeMode = .auto, approvals: Int = 0,
        timezone: String = "UTC", windows: [MergeWindow] = [], freezes: [Freeze] = [], tagPattern: String? = nil,
        allowDowngrade: Bool = false, pick: PickStrategy = .latest
    ) -> Stage {
        Stage(name: "test", from: "dev", repository: "group/oms-deploy", branch: "main", paths: ["test"],
              soak: soak, merge: merge, approvals: approvals, timezone: timezone, windows: windows, freezes: freezes,
              tagPattern: tagPattern, allowDowngrade: allowDowngrade, pick: pick)
    }

    static func healthy(at time: Date = now) -> [HealthResult] {
        [HealthResult(check: "http https://dev.example/health", passed: true, detail: "HTTP 200", checkedAt: time)]
    }

    /// The stage runs `current`; the upstream has held `candidate` since `heldFor` before now.
    static func input(
        stage: Stage = testStage(), current: String = "1.4.2", candidate: String = "1.5.0",
        heldFor: TimeInterval = minutes(60), mergeRequest: BotMergeRequest? = nil, now: Date = now,
        emergencyStop: String? = nil, health: [HealthResult]? = nil
    ) -> PlanInput {
        let history = [
            HistoryEntry(commit: upstreamTip, time: now.addingTimeInterval(-heldFor), tags: tags(candidate)),
            HistoryEntry(commit: String(repeating: "9", count: 40), time: now.addingTimeInterval(-heldFor - 86_400), tags: tags(current)),
        ]
        return PlanInput(policy: policy(test: stage), stage: stage,
                         target: StageSnapshot(commit: targetTip, tags: tags(current)),
                         upstream: StageSnapshot(commit: upstreamTip, tags: tags(candidate)),
                         history: history, historyHorizon: now.addingTimeInterval(-14 * 86_400),
                         health: health ?? healthy(at: now), mergeRequest: mergeRequest, now: now, emergencyStop: emergencyStop)
    }

    /// An MR that is exactly what the bot would build now for `candidate`.
    static func mergeRequest(
        candidate: String = "1.5.0", status: String = "mergeable", pipeline: String? = "success",
        approvalsGiven: Int = 0, approvalsRequired: Int = 0, autoMerge: Bool = false, foreign: Bool = false,
        markerCandidate: String? = nil, markerBase: String = targetTip, markerHead: String = head, marker: Bool = true,
        stageFilesChanged: Bool = false
    ) -> BotMergeRequest {
        let stored = PromotionMarker(policy: "oms", stage: "test", candidate: tags(markerCandidate ?? candidate),
                                     base: markerBase, upstreamCommit: upstreamTip, head: markerHead)
        return BotMergeRequest(iid: 12, webURL: "https://gitlab.example.com/group/oms-deploy/-/merge_requests/12",
                               headSHA: head, marker: marker ? stored : nil, foreignCommits: foreign,
                               stageFilesChanged: stageFilesChanged, detailedMergeStatus: MergeStatus(rawValue: status), approvalsGiven: approvalsGiven,
                               approvalsRequired: approvalsRequired, pipelineStatus: pipeline.map(PipelineStatus.init(rawValue:)), autoMergeEnabled: autoMerge)
    }

    /// Weekdays 10:00-16:00 in the stage's zone.
    static let officeHours = MergeWindow(days: [.mon, .tue, .wed, .thu, .fri], startMinute: 600, endMinute: 960)
}

/// What a case expects: the decision's kind and the facts that matter, plus words its reason must contain.
enum Expect: Sendable {
    case upToDate
    case blocked(Gate, until: Date? = nil, says: [String] = [])
    case openMR
    case update(says: [String])
    case close(says: [String])
    case merge(autoMerge: Bool)
    case waiting(Gate, until: Date? = nil, says: [String] = [])
    case leaveAlone

    func check(_ decision: Decision, sourceLocation: SourceLocation = #_sourceLocation) {
        switch (self, decision) {
        case (.upToDate, .upToDate), (.openMR, .openMR), (.leaveAlone, .leaveAlone(12, _)):
            break
        case let (.blocked(gate, until, says), .blocked(actualGate, reason, actualUntil)):
            #expect(actualGate == gate, sourceLocation: sourceLocation)
            if let until { #expect(actualUntil == until, sourceLocation: sourceLocation) }
            for word in says { #expect(reason.contains(word), "\(reason)", sourceLocation: sourceLocation) }
        case let (.update(says), .updateMR(12, reason)), let (.close(says), .closeMR(12, reason)):
            for word in says { #expect(reason.contains(word), "\(reason)", sourceLocation: sourceLocation) }
        case let (.merge(autoMerge), .mergeMR(12, sha, actualAuto)):
            #expect(sha == Fixture.head, sourceLocation: sourceLocation)
            #expect(actualAuto == autoMerge, sourceLocation: sourceLocation)
        case let (.waiting(gate, until, says), .waiting(12, actualGate, reason, actualUntil)):
            #expect(actualGate == gate, "\(reason)", sourceLocation: sourceLocation)
            if let until { #expect(actualUntil == until, sourceLocation: sourceLocation) }
            for word in says { #expect(reason.contains(word), "\(reason)", sourceLocation: sourceLocation) }
        default:
            Issue.record("expected \(self), got \(decision.summary)", sourceLocation: sourceLocation)
        }
    }
}

struct PlanCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: PlanInput
    var expect: Expect
    var testDescription: String { name }
}

// MARK: - The decision table

extension Fixture {
    static let now1030 = date("2026-11-27T10:30:00Z")

    static let cases: [PlanCase] = [
        // No MR
        PlanCase(name: "up to date, no MR", input: input(current: "1.5.0", candidate: "1.5.0"), expect: .upToDate),
        PlanCase(name: "soaked, healthy, no MR -> open", input: input(), expect: .openMR),
        PlanCase(name: "soak exactly met passes", input: input(heldFor: minutes(30)), expect: .openMR),
        PlanCase(name: "soak one second short", input: input(heldFor: minutes(30) - 1),
                 expect: .blocked(.soak, until: now.addingTimeInterval(1), says: ["29m59s of 30m", "1s left"])),
        PlanCase(name: "no soak required", input: input(stage: testStage(soak: nil), heldFor: 1), expect: .openMR),
        PlanCase(name: "downgrade blocked", input: input(current: "1.5.0", candidate: "1.4.0"),
                 expect: .blocked(.downgrade, says: ["1.4.0", "1.5.0", "allowDowngrade"])),
        PlanCase(name: "downgrade allowed", input: input(stage: testStage(allowDowngrade: true), current: "1.5.0", candidate: "1.4.0"),
                 expect: .openMR),
        PlanCase(name: "non-semver tags skip the downgrade check", input: input(current: "sha-ffff", candidate: "sha-0000"),
                 expect: .openMR),
        PlanCase(name: "pre-release below its release is a downgrade", input: input(current: "1.5.0", candidate: "1.5.0-rc.1"),
                 expect: .blocked(.downgrade, says: ["1.5.0-rc.1"])),
        PlanCase(name: "tagPattern mismatch", input: input(stage: testStage(tagPattern: #"\d+\.\d+\.\d+"#), candidate: "1.5.0-rc.1"),
                 expect: .blocked(.version, says: ["1.5.0-rc.1", "does not match"])),
        PlanCase(name: "tagPattern is anchored", input: input(stage: testStage(tagPattern: #"\d+\.\d+"#), candidate: "1.5.0"),
                 expect: .blocked(.version, says: ["1.5.0"])),
        PlanCase(name: "tagPattern match", input: input(stage: testStage(tagPattern: #"v?\d+\.\d+\.\d+"#)), expect: .openMR),
        PlanCase(name: "tag with digest matches on the tag", input: input(stage: testStage(tagPattern: #"\d+\.\d+\.\d+"#),
                                                                          candidate: "1.5.0@sha256:" + String(repeating: "e", count: 64)),
                 expect: .openMR),
        PlanCase(name: "digest only fails a tagPattern",
                 input: input(stage: testStage(tagPattern: ".*"), candidate: "@sha256:" + String(repeating: "d", count: 64)),
                 expect: .blocked(.version, says: ["no tag", "@sha256:dddddddddddd"])),
        PlanCase(name: "digest only without tagPattern", input: input(candidate: "@sha256:" + String(repeating: "d", count: 64)),
                 expect: .openMR),
        PlanCase(name: "invalid tagPattern", input: input(stage: testStage(tagPattern: "(")),
                 expect: .blocked(.version, says: ["not a valid regular expression", "policies/oms.yaml"])),
        PlanCase(name: "health failed",
                 input: input(health: [HealthResult(check: "http https://dev.example/health", passed: false, detail: "HTTP 503", checkedAt: now)]),
                 expect: .blocked(.health, says: ["HTTP 503", "dev"])),
        PlanCase(name: "health result missing (fail-closed)", input: input(health: []),
                 expect: .blocked(.health, says: ["0 of 1"])),
        PlanCase(name: "emergency stop blocks opening", input: input(emergencyStop: "incident 42"),
                 expect: .blocked(.emergencyStop, says: ["incident 42"])),
        PlanCase(name: "emergency stop with nothing to do is up to date",
                 input: input(current: "1.5.0", candidate: "1.5.0", emergencyStop: "incident 42"), expect: .upToDate),
        PlanCase(name: "freeze does not stop opening",
                 input: input(stage: testStage(freezes: [Freeze(from: .init(year: 2026, month: 11, day: 26), until: .init(year: 2026, month: 11, day: 28))])),
                 expect: .openMR),
        PlanCase(name: "closed window does not stop opening",
                 input: input(stage: testStage(windows: [officeHours]), now: date("2026-11-27T18:00:00Z")), expect: .openMR),

        // Existing MR
        PlanCase(name: "current MR, auto, mergeable, green -> merge", input: input(mergeRequest: mergeRequest()),
                 expect: .merge(autoMerge: false)),
        PlanCase(name: "auto, no pipeline -> merge", input: input(mergeRequest: mergeRequest(pipeline: nil)),
                 expect: .merge(autoMerge: false)),
        PlanCase(name: "auto, pipeline running -> auto-merge", input: input(mergeRequest: mergeRequest(pipeline: "running")),
                 expect: .merge(autoMerge: true)),
        PlanCase(name: "auto, ci_still_running + pending -> auto-merge",
                 input: input(mergeRequest: mergeRequest(status: "ci_still_running", pipeline: "pending")), expect: .merge(autoMerge: true)),
        PlanCase(name: "auto with merge windows: no auto-merge, wait for the pipeline",
                 input: input(stage: testStage(windows: [officeHours]), mergeRequest: mergeRequest(pipeline: "running")),
                 expect: .waiting(.pipeline, says: ["inside a window"])),
        PlanCase(name: "auto, auto-merge already set -> waiting",
                 input: input(mergeRequest: mergeRequest(pipeline: "running", autoMerge: true)),
                 expect: .waiting(.pipeline, says: ["auto-merge is set", "running"])),
        PlanCase(name: "pipeline failed -> waiting", input: input(mergeRequest: mergeRequest(pipeline: "failed")),
                 expect: .waiting(.pipeline, says: ["failed", "cccccccc"])),
        PlanCase(name: "ci_must_pass without pipeline", input: input(mergeRequest: mergeRequest(status: "ci_must_pass", pipeline: nil)),
                 expect: .waiting(.pipeline, says: ["successful pipeline"])),
        PlanCase(name: "auto, GitLab not_approved", input: input(mergeRequest: mergeRequest(status: "not_approved", approvalsRequired: 1)),
                 expect: .waiting(.approvals, says: ["0 of 1"])),
        PlanCase(name: "approved, 1 of 2 -> waiting",
                 input: input(stage: testStage(merge: .approved, approvals: 2), mergeRequest: mergeRequest(approvalsGiven: 1)),
                 expect: .waiting(.approvals, says: ["1 of 2 approvals"])),
        PlanCase(name: "approved, 2 of 2 -> merge",
                 input: input(stage: testStage(merge: .approved, approvals: 2), mergeRequest: mergeRequest(approvalsGiven: 2)),
                 expect: .merge(autoMerge: false)),
        PlanCase(name: "approved, GitLab requires more than the policy",
                 input: input(stage: testStage(merge: .approved, approvals: 1), mergeRequest: mergeRequest(approvalsGiven: 1, approvalsRequired: 2)),
                 expect: .waiting(.approvals, says: ["1 of 2"])),
        PlanCase(name: "approved, GitLab says not_approved",
                 input: input(stage: testStage(merge: .approved, approvals: 2), mergeRequest: mergeRequest(status: "not_approved", approvalsGiven: 2)),
                 expect: .waiting(.approvals, says: ["not_approved"])),
        PlanCase(name: "approved, pipeline running -> waiting, never auto-merge",
                 input: input(stage: testStage(merge: .approved, approvals: 1), mergeRequest: mergeRequest(pipeline: "running", approvalsGiven: 1)),
                 expect: .waiting(.pipeline, says: ["running"])),
        PlanCase(name: "manual -> waiting for people", input: input(stage: testStage(merge: .manual), mergeRequest: mergeRequest()),
                 expect: .waiting(.approvals, says: ["merge is manual"])),
        PlanCase(name: "conflict -> update", input: input(mergeRequest: mergeRequest(status: "conflict")),
                 expect: .update(says: ["conflict"])),
        PlanCase(name: "need_rebase -> update", input: input(mergeRequest: mergeRequest(status: "need_rebase")),
                 expect: .update(says: ["need_rebase"])),
        PlanCase(name: "conflict during a closed window still updates",
                 input: input(stage: testStage(windows: [officeHours]), mergeRequest: mergeRequest(status: "conflict"), now: date("2026-11-28T12:00:00Z")),
                 expect: .update(says: ["conflict"])),
        PlanCase(name: "target moved in other paths -> no rebuild, merged as it is",
                 input: input(mergeRequest: mergeRequest(markerBase: String(repeating: "f", count: 40))),
                 expect: .merge(autoMerge: false)),
        PlanCase(name: "target moved in other paths keeps an approved MR and its approvals",
                 input: input(stage: testStage(merge: .approved, approvals: 2),
                              mergeRequest: mergeRequest(approvalsGiven: 2, markerBase: String(repeating: "f", count: 40))),
                 expect: .merge(autoMerge: false)),
        PlanCase(name: "stage files changed on the target -> update",
                 input: input(mergeRequest: mergeRequest(markerBase: String(repeating: "f", count: 40), stageFilesChanged: true)),
                 expect: .update(says: ["test changed on main", "ffffffff", "aaaaaaaa"])),
        PlanCase(name: "candidate changed -> update", input: input(candidate: "1.5.1", mergeRequest: mergeRequest(markerCandidate: "1.5.0")),
                 expect: .update(says: ["candidate changed", "app 1.5.0 -> 1.5.1"])),
        PlanCase(name: "marker missing -> update", input: input(mergeRequest: mergeRequest(marker: false)),
                 expect: .update(says: ["marker"])),
        PlanCase(name: "branch head not what the bot pushed -> update",
                 input: input(mergeRequest: mergeRequest(markerHead: String(repeating: "0", count: 40))),
                 expect: .update(says: ["00000000", "own commit", "did not finish"])),
        PlanCase(name: "foreign commits -> leave alone", input: input(mergeRequest: mergeRequest(status: "conflict", foreign: true)),
                 expect: .leaveAlone),
        PlanCase(name: "foreign commits win over an emergency stop",
                 input: input(mergeRequest: mergeRequest(foreign: true), emergencyStop: "incident"), expect: .leaveAlone),
        PlanCase(name: "stage already at candidate -> close", input: input(current: "1.5.0", candidate: "1.5.0", mergeRequest: mergeRequest()),
                 expect: .close(says: ["already runs", "app 1.5.0"])),
        PlanCase(name: "upstream rolled back below the stage -> close",
                 input: input(current: "1.5.0", candidate: "1.4.0", mergeRequest: mergeRequest(markerCandidate: "1.6.0")),
                 expect: .close(says: ["downgrade", "1.4.0", "1.5.0"])),
        PlanCase(name: "emergency stop with a current MR -> waiting, no merge",
                 input: input(mergeRequest: mergeRequest(), emergencyStop: "incident 42"), expect: .waiting(.emergencyStop, says: ["incident 42"])),
        PlanCase(name: "emergency stop still closes a stale MR",
                 input: input(current: "1.5.0", candidate: "1.5.0", mergeRequest: mergeRequest(), emergencyStop: "incident 42"),
                 expect: .close(says: ["already runs"])),
        PlanCase(name: "new candidate not soaked, MR open -> waiting on soak (no update, no merge)",
                 input: input(candidate: "1.5.1", heldFor: minutes(10), mergeRequest: mergeRequest(markerCandidate: "1.5.0")),
                 expect: .waiting(.soak, until: now.addingTimeInterval(minutes(20)), says: ["20m left"])),
        PlanCase(name: "upstream unhealthy, MR open -> waiting on health",
                 input: input(mergeRequest: mergeRequest(),
                              health: [HealthResult(check: "argocd oms-dev", passed: false, detail: "Degraded/Synced", checkedAt: now)]),
                 expect: .waiting(.health, says: ["Degraded"])),
        PlanCase(name: "tagPattern fails, MR open -> waiting on version",
                 input: input(stage: testStage(tagPattern: #"\d+\.\d+\.\d+"#), candidate: "1.5.0-rc.1", mergeRequest: mergeRequest()),
                 expect: .waiting(.version)),
        PlanCase(name: "freeze -> waiting until the freeze ends",
                 input: input(stage: testStage(freezes: [Freeze(from: .init(year: 2026, month: 11, day: 26), until: .init(year: 2026, month: 11, day: 28), reason: "Black Friday")]),
                              mergeRequest: mergeRequest()),
                 expect: .waiting(.freeze, until: date("2026-11-29T00:00:00Z"), says: ["Black Friday", "2026-11-28"])),
        PlanCase(name: "freeze in a local zone ends at local midnight",
                 input: input(stage: testStage(timezone: "Europe/Berlin", freezes: [Freeze(from: .init(year: 2026, month: 11, day: 27), until: .init(year: 2026, month: 11, day: 27))]),
                              mergeRequest: mergeRequest()),
                 expect: .waiting(.freeze, until: date("2026-11-27T23:00:00Z"))),
        PlanCase(name: "window closed -> waiting for the next opening",
                 input: input(stage: testStage(windows: [officeHours]), mergeRequest: mergeRequest(), now: date("2026-11-27T18:00:00Z")),
                 expect: .waiting(.window, until: date("2026-11-30T10:00:00Z"), says: ["2026-11-30 10:00Z"])),
        PlanCase(name: "next window opening skips a coming freeze",
                 input: input(stage: testStage(windows: [officeHours], freezes: [Freeze(from: .init(year: 2026, month: 11, day: 30), until: .init(year: 2026, month: 11, day: 30))]),
                              mergeRequest: mergeRequest(), now: date("2026-11-27T18:00:00Z")),
                 expect: .waiting(.window, until: date("2026-12-01T10:00:00Z"))),
        PlanCase(name: "back-to-back freezes wait until the last ends",
                 input: input(stage: testStage(freezes: [Freeze(from: .init(year: 2026, month: 11, day: 26), until: .init(year: 2026, month: 11, day: 27)),
                                                         Freeze(from: .init(year: 2026, month: 11, day: 28), until: .init(year: 2026, month: 11, day: 29))]),
                              mergeRequest: mergeRequest()),
                 expect: .waiting(.freeze, until: date("2026-11-30T00:00:00Z"))),
        PlanCase(name: "window later today",
                 input: input(stage: testStage(windows: [officeHours]), mergeRequest: mergeRequest(), now: date("2026-11-27T08:15:00Z")),
                 expect: .waiting(.window, until: date("2026-11-27T10:00:00Z"), says: ["10:00Z"])),
        PlanCase(name: "window open -> merge",
                 input: input(stage: testStage(windows: [officeHours]), mergeRequest: mergeRequest(), now: date("2026-11-27T15:59:00Z")),
                 expect: .merge(autoMerge: false)),
        PlanCase(name: "window end is exclusive",
                 input: input(stage: testStage(windows: [officeHours]), mergeRequest: mergeRequest(), now: date("2026-11-27T16:00:00Z")),
                 expect: .waiting(.window, until: date("2026-11-30T10:00:00Z"))),
        PlanCase(name: "window in the stage's time zone",
                 input: input(stage: testStage(timezone: "Europe/Berlin", windows: [officeHours]), mergeRequest: mergeRequest(),
                              now: date("2026-11-27T15:30:00Z")),
                 expect: .waiting(.window, until: date("2026-11-30T09:00:00Z"))),
        PlanCase(name: "window across midnight, after midnight",
                 input: input(stage: testStage(windows: [MergeWindow(days: [.fri], startMinute: 22 * 60, endMinute: 120)]),
                              mergeRequest: mergeRequest(), now: date("2026-11-28T01:30:00Z")),
                 expect: .merge(autoMerge: false)),
        PlanCase(name: "checking -> waiting naming the status", input: input(mergeRequest: mergeRequest(status: "checking")),
                 expect: .waiting(.mergeability, says: ["checking"])),
        PlanCase(name: "draft -> waiting", input: input(mergeRequest: mergeRequest(status: "draft_status")),
                 expect: .waiting(.mergeability, says: ["draft_status"])),
        PlanCase(name: "unresolved discussions -> waiting", input: input(mergeRequest: mergeRequest(status: "discussions_not_resolved")),
                 expect: .waiting(.mergeability, says: ["discussions_not_resolved"])),
        PlanCase(name: "unknown status -> waiting, not merged", input: input(mergeRequest: mergeRequest(status: "security_policy_violations")),
                 expect: .waiting(.mergeability, says: ["security_policy_violations"])),
        PlanCase(name: "not_open is never merged", input: input(mergeRequest: mergeRequest(status: "not_open")),
                 expect: .waiting(.mergeability, says: ["not_open"])),
    ]
}

@Suite struct PlannerDecisionTests {
    @Test(arguments: Fixture.cases)
    func decision(_ testCase: PlanCase) {
        let plan = Planner.plan(testCase.input)
        testCase.expect.check(plan.decision)
        #expect(plan.policy == "oms")
        #expect(plan.stage == "test")
        #expect(plan.upstream == "dev")
    }

    /// GitLab lists an MR's commits asynchronously: a head nobody can vouch for yet is neither
    /// overwritten, merged, closed nor commented on; the bot waits for the next cycle.
    @Test func unverifiedHeadWaits() {
        for status in ["mergeable", "conflict"] {
            var mr = Fixture.mergeRequest(status: status, markerHead: String(repeating: "0", count: 40))
            mr.headUnverified = "GitLab does not list the branch head cccccccc among the commits of !12 yet"
            let decision = Planner.plan(Fixture.input(current: "1.5.0", candidate: "1.5.0", mergeRequest: mr)).decision
            guard case .waiting(12, .foreignCommits, let reason, nil) = decision else {
                Issue.record("expected waiting on foreign-commits, got \(decision)"); continue
            }
            #expect(reason.contains("cccccccc"))
        }
    }

    @Test func blockedSoakReadsWell() throws {
        let input = Fixture.input(heldFor: Fixture.minutes(12), now: Fixture.now1030)
        let plan = Planner.plan(input)
        #expect(plan.summary == "blocked (soak): app 1.5.0, web 1.5.0 in dev for 12m of 30m, 18m left (until 10:48Z)")
        let soak = try #require(plan.gates.first { $0.gate == .soak })
        #expect(!soak.passed)
        #expect(soak.until == Fixture.date("2026-11-27T10:48:00Z"))
    }

    @Test func openSummaryListsTheChanges() {
        let plan = Planner.plan(Fixture.input())
        #expect(plan.decision == .openMR)
        #expect(plan.summary == "open MR: promote app 1.4.2 -> 1.5.0, web 1.4.2 -> 1.5.0")
        #expect(plan.candidate == Fixture.tags("1.5.0"))
        #expect(plan.current == Fixture.tags("1.4.2"))
        #expect(plan.upstreamCommit == Fixture.upstreamTip)
        #expect(plan.soakedSince == Fixture.now.addingTimeInterval(-3600))
        #expect(plan.gates.allSatisfy { $0.passed })
        #expect(plan.gates.map(\.gate) == [.emergencyStop, .rollback, .version, .downgrade, .soak, .health, .hold, .freeze, .window])
    }

    @Test func mergeRequestGatesAreReported() {
        let input = Fixture.input(stage: Fixture.testStage(merge: .approved, approvals: 2),
                                  mergeRequest: Fixture.mergeRequest(pipeline: "running", approvalsGiven: 1))
        let gates = Planner.plan(input).gates
        #expect(gates.map(\.gate).suffix(4) == [.foreignCommits, .mergeability, .pipeline, .approvals])
        #expect(gates.first { $0.gate == .pipeline }?.passed == false)
        #expect(gates.first { $0.gate == .approvals }?.reason == "1 of 2 approvals")
    }

    @Test func upstreamWithoutThePolicyImagesIsBlocked() {
        var input = Fixture.input()
        input.upstream.tags = ["registry.example.com/other/thing": "9.9.9"]
        let plan = Planner.plan(input)
        #expect(plan.candidate == nil)
        guard case let .blocked(gate, reason, _) = plan.decision else {
            Issue.record("expected blocked, got \(plan.decision.summary)")
            return
        }
        #expect(gate == .version)
        #expect(reason.contains("holds none"))
    }

    @Test func imagesOutsideThePolicyAreIgnored() {
        var input = Fixture.input(current: "1.5.0", candidate: "1.5.0")
        input.upstream.tags["registry.example.com/other/thing"] = "2.0.0"
        input.target.tags["registry.example.com/other/thing"] = "1.0.0"
        #expect(Planner.plan(input).decision == .upToDate)
    }

    @Test func oneImageDifferingIsEnough() {
        var input = Fixture.input(current: "1.5.0", candidate: "1.5.0")
        input.target.tags[Fixture.web] = "1.4.9"
        let plan = Planner.plan(input)
        #expect(plan.decision == .openMR)
        #expect(plan.summary == "open MR: promote web 1.4.9 -> 1.5.0")
    }

    @Test func decisionSummaries() {
        let until = Fixture.date("2026-11-27T10:48:00Z")
        #expect(Decision.upToDate.summary == "up to date")
        #expect(Decision.openMR.summary == "open MR")
        #expect(Decision.blocked(gate: .soak, reason: "x", until: until).summary == "blocked (soak): x")
        #expect(Decision.mergeMR(iid: 4, sha: Fixture.head, autoMerge: false).summary == "merge MR !4 at cccccccc")
        #expect(Decision.mergeMR(iid: 4, sha: Fixture.head, autoMerge: true).summary.hasPrefix("set auto-merge on MR !4 at cccccccc"))
        #expect(Decision.waiting(iid: 4, gate: .foreignCommits, reason: "y", until: nil).summary == "MR !4 waiting (foreign-commits): y")
        #expect(Decision.closeMR(iid: 4, reason: "z").summary == "close MR !4: z")
        #expect(Decision.updateMR(iid: 4, reason: "z").summary == "update MR !4: z")
        #expect(Decision.leaveAlone(iid: 4, reason: "z").summary == "leave MR !4 alone: z")
        #expect(Decision.closeMR(iid: 4, reason: "z").mergeRequestIID == 4)
        #expect(Decision.openMR.mergeRequestIID == nil)
    }
}
