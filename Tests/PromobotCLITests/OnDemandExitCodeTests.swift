import Foundation
import Manifests
import Planning
import Testing
import TestSupport
@testable import PromobotCLI

/// `promobot rollback` and `promobot promote` through the real binary: usage and configuration exit 2,
/// a refusal from the history exits 1, help exits 0. What they do to a GitLab is in `EngineRollbackTests`.
@Suite struct OnDemandExitCodeTests {
    static let root = TestPaths.repositoryRoot()
    static let tokenVariable = "PROMOBOT_TEST_TOKEN"

    @Test(arguments: [
        ["rollback"], ["rollback", "oms"], ["promote", "oms"], ["rollback", "oms", "prod", "--bogus"],
        ["rollback", "oms", "prod", "--to"], ["promote", "oms", "prod", "extra"],
    ])
    func usageErrorsExitTwo(_ arguments: [String]) async throws {
        let result = try await BinaryRunner.run(arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("Usage:") || result.stderr.contains("Error:"), "\(result.stderr)")
    }

    @Test func aMissingStageIsNamed() async throws {
        let result = try await BinaryRunner.run(["rollback", "oms"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("<stage>"), "\(result.stderr)")
    }

    @Test(arguments: [("promote", ["--to", "--dry-run"]), ("rollback", ["--to", "--reason", "--dry-run"])])
    func helpExitsZero(_ command: String, _ options: [String]) async throws {
        let result = try await BinaryRunner.run([command, "--help"])
        #expect(result.status == 0, "\(result.stderr)")
        for option in options { #expect(result.stdout.contains(option), "\(option): \(result.stdout)") }
    }

    /// The repository's policies, and a GitLab on a port nothing listens on: the names are checked before
    /// anything is read from GitLab, so no server is needed.
    func withUnreachableGitLab(_ body: (URL) async throws -> Void) async throws {
        let folder = try TestPaths.temporaryFolder("on-demand")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = """
        gitlab:
          url: http://127.0.0.1:9
          tokenEnv: \(Self.tokenVariable)
        policies: \(Self.root)/policies
        cache: \(folder.appendingPathComponent("cache").path)

        """
        try config.write(to: folder.appendingPathComponent("promobot.yaml"), atomically: true, encoding: .utf8)
        try await body(folder)
    }

    @Test(arguments: [
        (["rollback", "nosuch", "prod"], "no policy named 'nosuch'; policies: oms, payments"),
        (["promote", "nosuch", "prod", "--to", "1.0.0"], "no policy named 'nosuch'; policies: oms, payments"),
        // A name from a CI variable is echoed escaped: it cannot forge a line of the job's log.
        (["rollback", "oms\npromobot: oms/prod: merged", "prod"], "no policy named 'oms\\npromobot: oms/prod: merged'; policies: oms, payments"),
        (["rollback", "oms", "nosuch"], "policy 'oms' has no stage 'nosuch' to do that to; stages: dev, test, prod"),
        // The first stage is written by CI: it can be rolled back, never promoted into.
        (["promote", "oms", "dev"], "policy 'oms' has no stage 'dev' to do that to; stages: test, prod"),
    ])
    func unknownNamesExitTwoListingTheKnownOnes(_ arguments: [String], _ message: String) async throws {
        try await withUnreachableGitLab { folder in
            let result = try await BinaryRunner.run(arguments + ["--config", folder.appendingPathComponent("promobot.yaml").path],
                                                    in: folder, environment: [Self.tokenVariable: "glpat-unused"], timeout: 60)
            #expect(result.status == 2, "\(arguments): \(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(!result.stderr.contains("glpat-unused"))
        }
    }

    @Test func aRollbackWithNothingEarlierOrAnUnknownVersionExitsOne() async throws {
        try await EngineCommandTests().withSetup { s in
            // test has only ever run 1.4.2.
            let nothing = try await s.promobot(["rollback", "oms", "test"])
            #expect(nothing.status == 1, "\(nothing.stdout) \(nothing.stderr)")
            #expect(nothing.stderr.contains("nothing to roll back to"), "\(nothing.stderr)")
            let unknown = try await s.promobot(["rollback", "oms", "test", "--to", "9.9.9"])
            #expect(unknown.status == 1, "\(unknown.stdout) \(unknown.stderr)")
            #expect(unknown.stderr.contains("test did not run 9.9.9 before; it ran (newest first): app 1.4.2 (now)"), "\(unknown.stderr)")
            let promote = try await s.promobot(["promote", "oms", "test", "--to", "9.9.9"])
            #expect(promote.status == 1, "\(promote.stdout) \(promote.stderr)")
            #expect(promote.stderr.contains("dev did not run 9.9.9 before"), "\(promote.stderr)")
            #expect(s.sandbox.mergeRequests(project: "group/oms-deploy").isEmpty)
        }
    }

    /// A reason is a person's words (`--reason`, a CI variable, an MR's marker): printed on one line, escaped.
    @Test func theReasonIsPrintedEscaped() {
        let app = "registry.example.com/oms/app"
        var plan = StagePlan(policy: "oms", stage: "prod", upstream: "", current: [app: "1.5.0"], candidate: [app: "1.4.2"],
                             soakedSince: nil, gates: [], decision: .openMR, imageOrder: [app])
        plan.rollback = RollbackRecord(from: [app: "1.5.0"], reason: "checkout errors\npromobot: oms/prod: merged\u{1B}[2K",
                                       requestedBy: "dana\r")
        let outcome = StageOutcome(plan: plan)
        let lines = OnDemand.lines(outcome)
        #expect(lines.contains("  reason: checkout errors\\npromobot: oms/prod: merged\\e[2K"), "\(lines)")
        let text = PlanPrinter.text(outcome, now: Date(timeIntervalSince1970: 0))
        #expect(text.contains("    reason: checkout errors\\npromobot: oms/prod: merged\\e[2K (requested by dana\\r)"), "\(text)")
        for output in lines + [text] { #expect(!output.contains("\u{1B}") && !output.contains("\r")) }
        #expect(!text.split(separator: "\n").contains { $0.hasPrefix("promobot:") })
    }
}
