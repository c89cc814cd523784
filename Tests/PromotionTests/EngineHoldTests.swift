import Foundation
import GitLab
import Manifests
import Planning
import Promotion
import Testing
import TestSupport
@testable import Sandbox

/// The story of the rollback issue: 1.5.0 reaches prod through the bot, an engineer reverts prod to 1.4.2 by
/// hand, test still runs 1.5.0 and is healthy. The bot must not propose 1.5.0 to prod again; 1.5.1 flows.
@Suite(.serialized) struct EngineHoldTests {
    /// A person edits prod's manifests back to `version` with a commit on master, as the on-call engineer did.
    static func revertProd(to version: String, _ h: EngineHarness) throws {
        var files: [String: String] = [:]
        for path in ["prod/app/deploy.yaml", "prod/app/migration.yaml", "prod/web/deploy.yaml"] {
            files[path] = try ManifestEditor.edit(try h.file(path), path: path, updates: [
                ImageUpdate(image: EngineHarness.app, tag: version), ImageUpdate(image: EngineHarness.web, tag: version),
            ]).text
        }
        try h.sandbox.commit(project: EngineHarness.project, branch: "master", files: files,
                             message: "Revert prod to \(version): checkout errors", author: "dana")
    }

    @Test func aVersionRolledBackByHandIsNotProposedAgainAndANewerOneFlows() async throws {
        try await withHarness(testStage: "    merge: auto\n", prodStage: "    merge: auto\n") { h in
            try h.setDev("1.5.0")
            try await h.cycle()                                  // test gets 1.5.0
            try await h.cycle()                                  // prod gets 1.5.0
            #expect(try h.file("prod/app/deploy.yaml").contains(":1.5.0"))

            try Self.revertProd(to: "1.4.2", h)
            let report = try await h.cycle()
            let prod = try #require(report.stages.first { $0.plan.stage == "prod" })
            guard case let .blocked(.hold, reason, _) = prod.plan.decision else {
                Issue.record("expected a hold, got \(prod.plan.summary)"); return
            }
            #expect(reason.contains("app 1.5.0, web 1.5.0 were rolled back from prod in"), "\(reason)")
            #expect(reason.contains("by dana") && reason.contains("Revert prod to 1.4.2: checkout errors"), "\(reason)")
            #expect(!h.openMergeRequests.contains { $0.sourceBranch == "promobot/oms/prod" }, "no MR proposes 1.5.0 again")
            #expect(try h.file("prod/app/deploy.yaml").contains(":1.4.2"))

            try h.setDev("1.5.1")
            try await h.cycle()                                  // test gets 1.5.1
            try await h.cycle()                                  // prod: 1.5.1 is not held
            #expect(try h.file("prod/app/deploy.yaml").contains(":1.5.1"))
        }
    }
}
