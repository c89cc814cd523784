import Foundation
import GitLab
import Sandbox
import Testing
@testable import PromobotCLI

/// `promobot run` over a flaky git endpoint: a retried git request is not a failure, and git requests
/// take tokens from the same request budget as REST calls.
@Suite struct GitRetryCommandTests {
    static let repository = "/group/oms-deploy.git"

    func withSetup(_ body: (EngineCommandTests.Setup) async throws -> Void) async throws {
        try await EngineCommandTests().withSetup(body)
    }

    /// One 503 on `info/refs` used to fail both stages and exit 1; now the retry succeeds and the run exits 0.
    @Test func runExitsZeroWhenAGitRetrySucceeds() async throws {
        try await withSetup { s in
            s.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: "\(Self.repository)/info/refs", kind: .status(503), count: 1))
            let run = try await s.promobot(["run"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(s.sandbox.mergeRequests(project: "group/oms-deploy").count == 1)
            #expect(!run.stderr.contains("503"), "\(run.stderr)")
            // The sandbox logs paths without the query: 2 listings to fetch (the first one 503), 1 to push.
            let listings = s.sandbox.requestLines().filter { $0.hasPrefix("GET \(Self.repository)/info/refs") }
            #expect(listings.count == 3, "\(listings)")
        }
    }

    /// The engine Runtime builds counts every git request (retries included) in the run's one budget.
    @Test func gitRequestsTakeTokensFromTheSharedBudget() async throws {
        try await withSetup { s in
            s.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: "\(Self.repository)/info/refs", kind: .status(503), count: 1))
            let options = try EngineOptions.parse([
                "--config", s.folder.appendingPathComponent("promobot.yaml").path,
                "--policies", s.folder.appendingPathComponent("policies").path,
            ])
            let runtime = try Runtime.load(options, dryRun: false, logFormat: .text, quiet: true,
                                           environment: [s.tokenVariable: s.token])
            s.sandbox.resetRequestLog()
            let report = await runtime.engine.runCycle()
            #expect(!report.hasErrors, "\(report.errors) \(report.stages.compactMap(\.error))")
            let budget = try #require(runtime.engine.gitlab.budget)
            let lines = s.sandbox.requestLines()
            let git = lines.filter { $0.contains(".git/") }
            let rest = lines.filter { $0.contains(" /api/v4/") }
            // 2 listings (one 503) + 1 upload-pack, then 1 listing + 1 receive-pack for the MR branch.
            #expect(git.count == 5, "\(git)")
            #expect(await budget.grantedCount == git.count + rest.count, "\(lines)")
        }
    }
}
