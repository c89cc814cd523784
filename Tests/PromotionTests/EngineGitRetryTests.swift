import Foundation
import Promotion
import Sandbox
import Testing

/// The engine over a flaky git endpoint: transient smart-HTTP failures are retried inside the git
/// operation, so the policy neither fails nor loses its cycle (issue 7, item 5).
@Suite struct EngineGitRetryTests {
    static let repository = "/\(EngineHarness.project).git"

    /// A 503 on the ref listing, a dropped upload-pack and a 503 on receive-pack, all in one cycle: the MR
    /// is still opened and the report has no error.
    @Test func transientGitFailuresDoNotFailThePolicy() async throws {
        try await withHarness { h in
            try h.setDev("1.5.0")
            h.sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: "\(Self.repository)/info/refs", kind: .status(503), count: 1))
            h.sandbox.injectFault(SandboxFault(method: "POST", pathPrefix: "\(Self.repository)/git-upload-pack", kind: .drop, count: 1))
            h.sandbox.injectFault(SandboxFault(method: "POST", pathPrefix: "\(Self.repository)/git-receive-pack", kind: .status(503), count: 1))
            h.sandbox.resetRequestLog()
            let report = try await h.cycle()
            #expect(!report.hasErrors, "\(report.errors) \(report.stages.compactMap(\.error))")
            #expect(report.stages.first { $0.plan.stage == "test" }?.action?.hasPrefix("opened") == true,
                    "\(report.stages.map { "\($0.plan.stage): \($0.action ?? "-")" })")
            #expect(h.openMergeRequests.count == 1)
            #expect(try h.file("test/app/deploy.yaml", ref: "promobot/oms/test").contains(":1.5.0"))
            let log = h.sandbox.requestLines()
            #expect(log.filter { $0.hasPrefix("POST \(Self.repository)/git-upload-pack") }.count == 2, "\(log)")
            #expect(log.filter { $0.hasPrefix("POST \(Self.repository)/git-receive-pack") }.count == 2, "\(log)")
        }
    }
}
