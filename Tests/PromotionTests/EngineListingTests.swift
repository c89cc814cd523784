import Foundation
import Manifests
import Policies
import Promotion
import Testing
import TestSupport
@testable import Sandbox

/// A cycle lists the bot's open MRs once for all projects, not once per project.
@Suite(.serialized) struct EngineListingTests {
    /// A second deploy repository with its own policy, next to the harness's oms.
    static func addPayments(_ h: EngineHarness) throws -> Policy {
        var files: [String: String] = [:]
        for (env, version) in [("dev", "2.1.0"), ("test", "2.0.0")] {
            files["\(env)/deploy.yaml"] = EngineHarness.deployment(name: "api", image: "registry.example.com/pay/api", version: version)
        }
        try h.sandbox.createProject(path: "group/pay-deploy", defaultBranch: "main", files: files)
        let yaml = """
        version: 1
        name: payments
        repository: group/pay-deploy
        branch: main
        images: [registry.example.com/pay/api]
        stages:
          - name: dev
            paths: [dev/]
          - name: test
            paths: [test/]
            merge: manual
        """
        return try #require(PolicyParser.parse(yaml: yaml, path: "policies/payments.yaml").policy)
    }

    static func listings(_ h: EngineHarness) -> (instance: Int, perProject: Int) {
        let paths = h.sandbox.requestLog()
        return (paths.filter { $0 == "/api/v4/merge_requests" }.count,
                paths.filter { $0.hasPrefix("/api/v4/projects/") && $0.hasSuffix("/merge_requests") }.count)
    }

    @Test func aNoOpCycleOverTwoProjectsListsMergeRequestsOnce() async throws {
        try await withHarness { h in
            let policies = [h.policy, try Self.addPayments(h)]
            try h.setDev("1.5.0")
            let first = try await h.engine(policies: policies).runCycle()
            #expect(!first.hasErrors, "\(first.errors) \(first.stages.compactMap(\.error))")
            #expect(h.openMergeRequests.count == 1)
            #expect(h.sandbox.mergeRequests(project: "group/pay-deploy").filter { $0.state == "opened" }.count == 1)

            h.sandbox.resetRequestLog()
            let again = try await h.engine(policies: policies).runCycle()
            #expect(!again.hasErrors)
            let (instance, perProject) = Self.listings(h)
            #expect(instance == 1 && perProject == 0, "\(h.sandbox.requestLog())")
            // Each MR was matched to its own project: nothing was opened twice or closed as an orphan.
            #expect(again.orphans.isEmpty)
            #expect(again.stages.allSatisfy { $0.actions.isEmpty }, "\(again.stages.map(\.plan.summary))")
        }
    }

    /// An `auto` promotion, end to end, on top of the ref probe and the cycle's one MR listing: fetch,
    /// push (ref advertisement + receive-pack), create the MR, merge it (GitLab's create answer already says
    /// mergeable, so no extra read) — 5 requests.
    @Test func anAutoPromotionCostsFiveRequestsOnTopOfTheProbe() async throws {
        try await withHarness(testStage: "    merge: auto\n") { h in
            try await h.cycle()                                  // warm the cache: nothing to promote
            try h.setDev("1.5.0")
            h.sandbox.resetRequestLog()
            let report = try await h.engine(policies: [h.policy]).runCycle()
            let test = try #require(report.stages.first { $0.plan.stage == "test" })
            #expect(test.actions.contains { if case .merged = $0 { true } else { false } }, "\(test.actions)")
            let lines = h.sandbox.requestLines()
            let probe = 1, listing = 1
            #expect(lines.count - probe - listing <= 5, "\(lines.joined(separator: "\n"))")
            #expect(!lines.contains { $0.hasPrefix("GET ") && $0.contains("/merge_requests/") }, "no extra MR read: \(lines)")
        }
    }

    @Test func whenGitLabRefusesTheInstanceListTheCycleListsPerProject() async throws {
        try await withHarness { h in
            let policies = [h.policy, try Self.addPayments(h)]
            try h.setDev("1.5.0")
            try await h.engine(policies: policies).runCycle()
            h.sandbox.resetRequestLog()
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: "/api/v4/merge_requests", kind: .status(404, body: #"{"message":"404 Not Found"}"#)))
            let report = try await h.engine(policies: policies).runCycle()
            #expect(!report.hasErrors, "\(report.errors) \(report.stages.compactMap(\.error))")
            let (_, perProject) = Self.listings(h)
            #expect(perProject == 2, "\(h.sandbox.requestLog())")
            #expect(report.stages.allSatisfy { $0.actions.isEmpty }, "the fallback found the open MRs: \(report.stages.map(\.plan.summary))")
            #expect(h.logs.text.contains("listing per project"))
        }
    }
}
