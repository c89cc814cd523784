import Foundation
import Manifests
import Policies
import Testing
@testable import Planning

/// The image-exists gate and `pin: digest`: the planner judges what the engine read from the registries.
@Suite struct PlannerRegistryTests {
    static let digestA = "sha256:" + String(repeating: "a1", count: 32)
    static let digestB = "sha256:" + String(repeating: "b2", count: 32)
    static let digestW = "sha256:" + String(repeating: "c3", count: 32)

    static func found(_ image: String, _ tag: String, _ digest: String) -> RegistryLookup {
        RegistryLookup(image: image, version: ImageVersion(tag: tag), host: "registry.example.com", outcome: .found(digest: digest))
    }

    static func input(stage: Stage = Fixture.testStage(), lookups: [RegistryLookup]?, upstream: ImageVersions? = nil) -> PlanInput {
        var input = Fixture.input(stage: stage)
        if let upstream {
            input.upstream.tags = upstream
            input.history[0].tags = upstream
        }
        input.registry = lookups
        return input
    }

    static func gate(_ plan: StagePlan) -> GateResult? { plan.gates.first { $0.gate == .imageExists } }

    static func pinning(_ on: Bool = true, imageExists: Bool = true) -> Stage {
        var stage = Fixture.testStage()
        stage.pin = on ? .digest : .none
        stage.imageExists = imageExists
        return stage
    }

    @Test func withoutLookupsTheGateIsLeftOut() {
        let plan = Planner.plan(Self.input(lookups: nil))
        #expect(Self.gate(plan) == nil)
        #expect(plan.decision == .openMR)
    }

    @Test func foundTagsPass() throws {
        let plan = Planner.plan(Self.input(lookups: [Self.found(Fixture.app, "1.5.0", Self.digestA), Self.found(Fixture.web, "1.5.0", Self.digestW)]))
        let gate = try #require(Self.gate(plan))
        #expect(gate.passed && gate.checked)
        #expect(gate.reason == "app, web found in the registry")
        #expect(plan.decision == .openMR)
        #expect(plan.candidate == Fixture.tags("1.5.0"), "without pin: digest nothing is pinned")
    }

    @Test func aMissingTagBlocksWithTheRegistrysCode() throws {
        let lookups = [RegistryLookup(image: Fixture.app, version: "1.5.0", host: "registry.example.com", outcome: .notFound(code: "MANIFEST_UNKNOWN")),
                       Self.found(Fixture.web, "1.5.0", Self.digestW)]
        let plan = Planner.plan(Self.input(lookups: lookups))
        let gate = try #require(Self.gate(plan))
        #expect(!gate.passed)
        #expect(gate.reason == "registry.example.com/oms/app:1.5.0 not found (MANIFEST_UNKNOWN)")
        #expect(plan.decision == .blocked(gate: .imageExists, reason: gate.reason, until: nil))
    }

    @Test func anUnreachableRegistryBlocksFailClosed() throws {
        let lookups = [RegistryLookup(image: Fixture.app, version: "1.5.0", host: "registry.example.com", outcome: .unknown("unreachable: connection refused")),
                       Self.found(Fixture.web, "1.5.0", Self.digestW)]
        let plan = Planner.plan(Self.input(lookups: lookups))
        let gate = try #require(Self.gate(plan))
        #expect(!gate.passed && gate.checked)
        #expect(gate.reason.contains("could not be checked (unreachable: connection refused); fail-closed"))
        guard case .blocked(.imageExists, _, _) = plan.decision else { Issue.record("\(plan.decision)"); return }
    }

    @Test func unconfiguredRegistriesAreNotCheckedAndDoNotBlock() throws {
        let lookups = [Fixture.app, Fixture.web].map {
            RegistryLookup(image: $0, version: "1.5.0", host: "registry.example.com", outcome: .notConfigured)
        }
        let plan = Planner.plan(Self.input(lookups: lookups))
        let gate = try #require(Self.gate(plan))
        #expect(gate.passed && !gate.checked)
        #expect(gate.reason == "not checked (no registry configured for registry.example.com)")
        #expect(plan.decision == .openMR)
    }

    @Test func aStageCanTurnTheGateOff() throws {
        let lookups = [RegistryLookup(image: Fixture.app, version: "1.5.0", host: "registry.example.com", outcome: .notFound(code: "MANIFEST_UNKNOWN"))]
        let plan = Planner.plan(Self.input(stage: Self.pinning(false, imageExists: false), lookups: lookups))
        let gate = try #require(Self.gate(plan))
        #expect(gate.passed && !gate.checked)
        #expect(gate.reason == "not checked: imageExists is off for test")
        #expect(plan.decision == .openMR)
    }

    @Test func pinDigestWritesWhatTheRegistryResolves() throws {
        let plan = Planner.plan(Self.input(stage: Self.pinning(), lookups: [Self.found(Fixture.app, "1.5.0", Self.digestA), Self.found(Fixture.web, "1.5.0", Self.digestW)]))
        #expect(plan.candidate == [Fixture.app: ImageVersion(tag: "1.5.0", digest: Self.digestA), Fixture.web: ImageVersion(tag: "1.5.0", digest: Self.digestW)])
        #expect(plan.decision == .openMR)
        #expect(Self.gate(plan)?.reason == "app, web found in the registry (digests pinned)")
    }

    @Test func pinDigestKeepsTheUpstreamsOwnPin() throws {
        let upstream: ImageVersions = [Fixture.app: ImageVersion(tag: "1.5.0", digest: Self.digestA), Fixture.web: ImageVersion(tag: "1.5.0", digest: Self.digestW)]
        let plan = Planner.plan(Self.input(stage: Self.pinning(), lookups: [Self.found(Fixture.app, "1.5.0", Self.digestA), Self.found(Fixture.web, "1.5.0", Self.digestW)],
                                           upstream: upstream))
        #expect(plan.candidate == upstream)
        #expect(plan.decision == .openMR)
    }

    @Test func aTagThatMovedAwayFromTheUpstreamsPinIsCaught() throws {
        let upstream: ImageVersions = [Fixture.app: ImageVersion(tag: "1.5.0", digest: Self.digestA), Fixture.web: ImageVersion(tag: "1.5.0", digest: Self.digestW)]
        for stage in [Self.pinning(), Self.pinning(false)] {
            let plan = Planner.plan(Self.input(stage: stage, lookups: [Self.found(Fixture.app, "1.5.0", Self.digestB), Self.found(Fixture.web, "1.5.0", Self.digestW)],
                                               upstream: upstream))
            let gate = try #require(Self.gate(plan))
            #expect(!gate.passed)
            #expect(gate.reason.hasPrefix("tag moved: registry.example.com/oms/app:1.5.0 now points at sha256:b2b2b2b2b2b2, but dev runs sha256:a1a1a1a1a1a1"))
            guard case .blocked(.imageExists, _, _) = plan.decision else { Issue.record("\(plan.decision)"); return }
        }
    }

    @Test func aTagThatMovedUnderAnOpenPinnedMRKeepsItWaiting() throws {
        var input = Self.input(stage: Self.pinning(), lookups: [Self.found(Fixture.app, "1.5.0", Self.digestB), Self.found(Fixture.web, "1.5.0", Self.digestW)])
        var mr = Fixture.mergeRequest()
        mr.marker?.candidate = [Fixture.app: ImageVersion(tag: "1.5.0", digest: Self.digestA), Fixture.web: ImageVersion(tag: "1.5.0", digest: Self.digestW)]
        input.mergeRequest = mr
        let plan = Planner.plan(input)
        let gate = try #require(Self.gate(plan))
        #expect(gate.reason.hasPrefix("tag moved: registry.example.com/oms/app:1.5.0 now points at sha256:b2b2b2b2b2b2, but !12 pins sha256:a1a1a1a1a1a1"))
        guard case .waiting(12, .imageExists, _, _) = plan.decision else { Issue.record("\(plan.decision)"); return }
    }

    @Test(arguments: [
        ("1.5.0", "1.5.0@\(digestB)", true),            // the rolled-back text had no digest; pinned now
        ("1.5.0@\(digestA)", "1.5.0@\(digestB)", true),  // re-pushed as another build: the tag stays held
        ("1.5.0@\(digestA)", "1.5.1@\(digestA)", false),
        ("@\(digestA)", "1.5.0@\(digestA)", true),
        ("@\(digestA)", "1.5.0", false),
    ])
    func holdsFollowTheTag(held: String, candidate: String, covered: Bool) {
        #expect(Planner.covers(ImageVersion(held), ImageVersion(candidate)) == covered)
    }

    @Test func pinDigestWithoutAnyDigestSourceBlocks() throws {
        let lookups = [Fixture.app, Fixture.web].map {
            RegistryLookup(image: $0, version: "1.5.0", host: "registry.example.com", outcome: .notConfigured)
        }
        let plan = Planner.plan(Self.input(stage: Self.pinning(), lookups: lookups))
        let gate = try #require(Self.gate(plan))
        #expect(!gate.passed)
        #expect(gate.reason.hasPrefix("registry.example.com/oms/app:1.5.0 cannot be pinned (pin: digest): no registry configured for registry.example.com and dev pins no digest"))
    }

    @Test func aPinnedStageRunningTheSameTagIsUpToDate() {
        var input = Self.input(stage: Self.pinning(), lookups: [Self.found(Fixture.app, "1.5.0", Self.digestB), Self.found(Fixture.web, "1.5.0", Self.digestW)])
        input.target.tags = [Fixture.app: ImageVersion(tag: "1.5.0", digest: Self.digestA), Fixture.web: ImageVersion(tag: "1.5.0", digest: Self.digestW)]
        let plan = Planner.plan(input)
        #expect(plan.decision == .upToDate, "the stage's own pin stands; a tag moved in the registry is not re-pinned silently")
    }

    @Test func theMRTextShowsThePinnedDigests() {
        let input = Self.input(stage: Self.pinning(), lookups: [Self.found(Fixture.app, "1.5.0", Self.digestA), Self.found(Fixture.web, "1.5.0", Self.digestW)])
        let plan = Planner.plan(input)
        let changes = [ImageChange(path: "test/app.yaml", line: 3, image: Fixture.app, old: "1.4.2", new: "1.5.0@\(Self.digestA)")]
        let text = MergeRequestText.description(plan: plan, input: input, head: Fixture.head, changes: changes)
        #expect(text.contains("`1.5.0@\(Self.digestA)`"))
        #expect(text.contains("Pinned to digests (`pin: digest`)"))
        #expect(text.contains("| image-exists | passed | app, web found in the registry (digests pinned) |"))
    }
}
