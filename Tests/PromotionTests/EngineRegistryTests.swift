import Foundation
import HTTP
import Manifests
import Planning
import Policies
import Registry
import Sandbox
import Testing
import TestSupport

/// The engine with a registry, end to end on loopback: the sandbox serves GitLab, git and the registry; the real
/// engine asks the registry only for stages that consider a promotion, pins digests, and blocks typos, moved tags
/// and unreachable registries.
@Suite struct EngineRegistryTests {
    static let host = "registry.example.com"

    /// A harness whose engines ask `baseURL` (the sandbox's registry unless given) for `registry.example.com`.
    static func harness(_ sandbox: Sandbox, _ directory: URL, testStage: String = "    merge: manual\n", registryURL: URL? = nil,
                        configured: Bool = true) throws -> EngineHarness {
        let harness = try EngineHarness(sandbox: sandbox, directory: directory, testStage: testStage)
        let entries = configured ? [RegistryDirectory.Entry(host: host, baseURL: registryURL ?? sandbox.registryURL)] : []
        harness.registry = RegistryClient(directory: RegistryDirectory(entries: entries),
                                          transport: RegistryClient.transport(retry: EngineHarness.fastRetries().retry))
        return harness
    }

    static func gate(_ report: CycleReport, stage: String = "test") -> GateResult? {
        report.stages.first { $0.plan.stage == stage }?.plan.gates.first { $0.gate == .imageExists }
    }

    @Test func pinDigestWritesTheRegistrysDigestIntoTheMR() async throws {
        try await withSandbox("engine-registry-pin") { sandbox, directory in
            let harness = try Self.harness(sandbox, directory, testStage: "    merge: manual\n    pin: digest\n")
            let app = sandbox.pushImage("oms/app", tag: "1.5.0")
            let web = sandbox.pushImage("oms/web", tag: "1.5.0")
            try harness.setDev("1.5.0")
            let report = try await harness.cycle()
            #expect(report.errors.isEmpty, "\(report.errors)")
            #expect(Self.gate(report)?.reason == "app, web found in the registry (digests pinned)")
            let mr = try #require(harness.openMergeRequests.first)
            let deploy = try harness.file("test/app/deploy.yaml", ref: mr.sourceBranch)
            #expect(deploy.contains("\(EngineHarness.app):1.5.0@\(app)"))
            #expect(try harness.file("test/web/deploy.yaml", ref: mr.sourceBranch).contains("\(EngineHarness.web):1.5.0@\(web)"))
            #expect(mr.description.contains("1.5.0@\(app)") && mr.description.contains("Pinned to digests"))
            // The next cycles keep the MR as it is: the candidate is pinned the same way again.
            sandbox.resetRequestLog()
            let again = try await harness.cycle()
            #expect(again.errors.isEmpty)
            #expect(harness.openMergeRequests.count == 1)
            #expect(sandbox.requests(matching: "/v2/") == 2, "one HEAD per image while the MR is open")
        }
    }

    @Test func aTypoedTagIsBlockedWithTheRegistrysCode() async throws {
        try await withSandbox("engine-registry-typo") { sandbox, directory in
            let harness = try Self.harness(sandbox, directory)
            sandbox.pushImage("oms/app", tag: "1.5.0")
            sandbox.pushImage("oms/web", tag: "1.5.0")
            try harness.setDev("1.5.O")
            let report = try await harness.cycle()
            let outcome = try #require(report.stages.first { $0.plan.stage == "test" })
            #expect(outcome.plan.decision == .blocked(gate: .imageExists,
                                                      reason: "registry.example.com/oms/app:1.5.O not found (MANIFEST_UNKNOWN); registry.example.com/oms/web:1.5.O not found (MANIFEST_UNKNOWN)",
                                                      until: nil))
            #expect(harness.openMergeRequests.isEmpty)
        }
    }

    @Test func aRePushedTagIsCaught() async throws {
        try await withSandbox("engine-registry-moved") { sandbox, directory in
            let harness = try Self.harness(sandbox, directory)
            let tested = sandbox.pushImage("oms/app", tag: "1.5.0")
            let web = sandbox.pushImage("oms/web", tag: "1.5.0")
            try harness.setDev("1.5.0", digests: [EngineHarness.app: tested, EngineHarness.web: web])
            let moved = sandbox.pushImage("oms/app", tag: "1.5.0")  // someone re-pushes 1.5.0 after dev tested it
            let report = try await harness.cycle()
            let gate = try #require(Self.gate(report))
            #expect(!gate.passed)
            #expect(gate.reason.hasPrefix("tag moved: registry.example.com/oms/app:1.5.0 now points at \(ImageVersion(tag: nil, digest: moved).display.dropFirst())"))
            #expect(harness.openMergeRequests.isEmpty, "never promoted silently")
        }
    }

    @Test func aTagRePushedUnderAnOpenPinnedMRLeavesTheMRAsItIs() async throws {
        try await withSandbox("engine-registry-mr-moved") { sandbox, directory in
            let harness = try Self.harness(sandbox, directory, testStage: "    merge: manual\n    pin: digest\n")
            let app = sandbox.pushImage("oms/app", tag: "1.5.0")
            sandbox.pushImage("oms/web", tag: "1.5.0")
            try harness.setDev("1.5.0")
            try await harness.cycle()
            let mr = try #require(harness.openMergeRequests.first)
            let head = try sandbox.branchSHA(project: EngineHarness.project, branch: mr.sourceBranch)
            let moved = sandbox.pushImage("oms/app", tag: "1.5.0")
            let report = try await harness.cycle()
            let outcome = try #require(report.stages.first { $0.plan.stage == "test" })
            guard case let .waiting(iid, .imageExists, reason, _) = outcome.plan.decision else {
                Issue.record("\(outcome.plan.decision)"); return
            }
            #expect(iid == mr.iid)
            #expect(reason.hasPrefix("tag moved: registry.example.com/oms/app:1.5.0 now points at \(ImageVersion(tag: nil, digest: moved).display.dropFirst()), but !\(mr.iid) pins \(ImageVersion(tag: nil, digest: app).display.dropFirst())"))
            #expect(try sandbox.branchSHA(project: EngineHarness.project, branch: mr.sourceBranch) == head, "the MR branch is not rebuilt")
            #expect(try harness.file("test/app/deploy.yaml", ref: mr.sourceBranch).contains("1.5.0@\(app)"))
        }
    }

    @Test func unconfiguredRegistriesAreNotCheckedAndDoNotBlock() async throws {
        try await withSandbox("engine-registry-none") { sandbox, directory in
            let harness = try Self.harness(sandbox, directory, configured: false)
            try harness.setDev("1.5.0")
            sandbox.resetRequestLog()
            let report = try await harness.cycle()
            let gate = try #require(Self.gate(report))
            #expect(gate.passed && !gate.checked)
            #expect(gate.reason == "not checked (no registry configured for registry.example.com)")
            #expect(harness.openMergeRequests.count == 1)
            #expect(sandbox.requests(matching: "/v2/") == 0)
        }
    }

    @Test func anUnreachableRegistryBlocksFailClosed() async throws {
        try await withSandbox("engine-registry-down") { sandbox, directory in
            let harness = try Self.harness(sandbox, directory, registryURL: URL(string: "http://127.0.0.1:1")!)
            try harness.setDev("1.5.0")
            let report = try await harness.cycle()
            let gate = try #require(Self.gate(report))
            #expect(!gate.passed)
            #expect(gate.reason.contains("could not be checked (unreachable"))
            #expect(harness.openMergeRequests.isEmpty)
        }
    }

    @Test func stagesWithNothingToPromoteDoNotAskTheRegistry() async throws {
        try await withSandbox("engine-registry-idle") { sandbox, directory in
            let harness = try Self.harness(sandbox, directory)
            sandbox.resetRequestLog()
            let report = try await harness.cycle()
            #expect(report.errors.isEmpty)
            #expect(Self.gate(report) == nil)
            #expect(sandbox.requests(matching: "/v2/") == 0)
        }
    }
}
