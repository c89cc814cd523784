import Foundation
import Policies
import Manifests
import Testing
@testable import Planning

/// Soak and candidate selection from upstream history.
@Suite struct PlannerCandidateTests {
    typealias F = Fixture

    /// An input whose upstream history is `states` (version, minutes ago), newest first; the tip holds the first.
    static func input(
        _ states: [(String, Double)], current: String = "1.4.2", pick: PickStrategy = .latest,
        soak: Int = 1800, horizonMinutes: Double = 14 * 1440
    ) -> PlanInput {
        let stage = F.testStage(soak: PolicyDuration(seconds: soak), pick: pick)
        var input = F.input(stage: stage, current: current)
        input.history = states.enumerated().map { index, state in
            HistoryEntry(commit: "commit-\(index)-\(state.0)", time: F.now.addingTimeInterval(-F.minutes(state.1)), tags: F.tags(state.0))
        }
        input.upstream = StageSnapshot(commit: input.history.first?.commit ?? F.upstreamTip, tags: F.tags(states.first?.0 ?? "1.5.0"))
        input.historyHorizon = F.now.addingTimeInterval(-F.minutes(horizonMinutes))
        return input
    }

    struct SoakCase: Sendable, CustomTestStringConvertible {
        var name: String
        var input: PlanInput
        var candidate: String
        var since: Date
        var soaked: Bool
        var testDescription: String { name }
    }

    static let soakCases: [SoakCase] = [
        SoakCase(name: "held since the newest entry", input: input([("1.5.0", 45), ("1.4.2", 600)]),
                 candidate: "1.5.0", since: F.now.addingTimeInterval(-F.minutes(45)), soaked: true),
        SoakCase(name: "equal entries extend the run (unrelated changes in the paths)",
                 input: input([("1.5.0", 5), ("1.5.0", 20), ("1.5.0", 40), ("1.4.2", 600)]),
                 candidate: "1.5.0", since: F.now.addingTimeInterval(-F.minutes(40)), soaked: true),
        SoakCase(name: "exactly the soak time passes", input: input([("1.5.0", 30), ("1.4.2", 600)]),
                 candidate: "1.5.0", since: F.now.addingTimeInterval(-F.minutes(30)), soaked: true),
        SoakCase(name: "short of the soak time", input: input([("1.5.0", 29), ("1.4.2", 600)]),
                 candidate: "1.5.0", since: F.now.addingTimeInterval(-F.minutes(29)), soaked: false),
        SoakCase(name: "no history: held at least since the horizon", input: input([], horizonMinutes: 60),
                 candidate: "1.5.0", since: F.now.addingTimeInterval(-F.minutes(60)), soaked: true),
        SoakCase(name: "no history, horizon shorter than the soak", input: input([], horizonMinutes: 20),
                 candidate: "1.5.0", since: F.now.addingTimeInterval(-F.minutes(20)), soaked: false),
        SoakCase(name: "run reaches the entry at the horizon", input: input([("1.5.0", 10), ("1.5.0", 90)], horizonMinutes: 60),
                 candidate: "1.5.0", since: F.now.addingTimeInterval(-F.minutes(90)), soaked: true),
        SoakCase(name: "history lagging the tip counts as just appeared",
                 input: {
                     var value = PlannerCandidateTests.input([("1.5.0", 60)])
                     value.upstream.tags = F.tags("1.5.1")
                     return value
                 }(),
                 candidate: "1.5.1", since: F.now, soaked: false),
        SoakCase(name: "newest-soaked in a high-churn upstream picks the newest run that held",
                 input: input([("1.5.3", 5), ("1.5.2", 20), ("1.5.1", 70), ("1.5.0", 300)], pick: .newestSoaked),
                 candidate: "1.5.1", since: F.now.addingTimeInterval(-F.minutes(70)), soaked: true),
        SoakCase(name: "newest-soaked takes the current state when it has soaked",
                 input: input([("1.5.3", 31), ("1.5.2", 120)], pick: .newestSoaked),
                 candidate: "1.5.3", since: F.now.addingTimeInterval(-F.minutes(31)), soaked: true),
        SoakCase(name: "newest-soaked: a run of exactly the soak time counts",
                 input: input([("1.5.3", 5), ("1.5.2", 35), ("1.5.1", 40)], pick: .newestSoaked),
                 candidate: "1.5.2", since: F.now.addingTimeInterval(-F.minutes(35)), soaked: true),
        SoakCase(name: "newest-soaked with nothing soaked falls back to the current state",
                 input: input([("1.5.3", 5), ("1.5.2", 20), ("1.5.1", 40)], current: "1.4.0", pick: .newestSoaked),
                 candidate: "1.5.3", since: F.now.addingTimeInterval(-F.minutes(5)), soaked: false),
    ]

    @Test(arguments: soakCases)
    func soak(_ testCase: SoakCase) throws {
        let plan = Planner.plan(testCase.input)
        #expect(plan.candidate == F.tags(testCase.candidate))
        #expect(plan.soakedSince == testCase.since)
        let gate = try #require(plan.gates.first { $0.gate == .soak })
        #expect(gate.passed == testCase.soaked, "\(gate.reason)")
        if testCase.soaked {
            #expect(plan.decision == .openMR, "\(plan.summary)")
        } else {
            #expect(plan.decision == .blocked(gate: .soak, reason: gate.reason, until: testCase.since.addingTimeInterval(1800)))
        }
    }

    @Test func newestSoakedRecordsTheOlderCommitAndItsEnd() throws {
        let plan = Planner.plan(Self.input([("1.5.3", 5), ("1.5.2", 20), ("1.5.1", 70), ("1.5.0", 300)], pick: .newestSoaked))
        #expect(plan.upstreamCommit == "commit-2-1.5.1")
        let gate = try #require(plan.gates.first { $0.gate == .soak })
        #expect(gate.reason.contains("held in dev for 50m of 30m"), "\(gate.reason)")
    }

    @Test func newestSoakedStopsAtWhatTheStageRuns() {
        // 1.5.0 is what test runs; the newer 1.5.1 and 1.5.2 did not soak, so nothing newer is promotable.
        let plan = Planner.plan(Self.input([("1.5.2", 5), ("1.5.1", 20), ("1.5.0", 300)], current: "1.5.0", pick: .newestSoaked))
        #expect(plan.decision == .upToDate)
    }

    @Test func newestSoakedDoesNotReachBackBelowTheStage() {
        // Older soaked runs (1.4.0) lie behind what the stage runs: never a candidate.
        let plan = Planner.plan(Self.input([("1.5.2", 5), ("1.5.0", 20), ("1.4.0", 3000)], current: "1.5.0", pick: .newestSoaked))
        #expect(plan.decision == .upToDate)
    }

    @Test func runsSplitHistoryIntoEqualStates() {
        let input = Self.input([("1.5.2", 5), ("1.5.2", 10), ("1.5.1", 20), ("1.5.0", 30), ("1.5.0", 40)])
        let runs = Planner.runs(input)
        #expect(runs.map { $0.tags[F.app] } == ["1.5.2", "1.5.1", "1.5.0"])
        #expect(runs.map(\.start) == [10.0, 20, 40].map { F.now.addingTimeInterval(-F.minutes($0)) })
        #expect(runs.map(\.end) == [nil, F.now.addingTimeInterval(-F.minutes(10)), F.now.addingTimeInterval(-F.minutes(20))])
    }
}
