import Foundation
import Testing
@testable import Policies

/// The `rollback` block, in the policy and in stages: defaults, inheritance key by key, and every rule.
@Suite struct PolicyRollbackTests {
    /// `base` with a health check on the `test` stage (lines 12-13), so `auto: true` may be set there.
    static let testWithHealth = PolicyFixtures.withTestStage("    health:\n      - http: http://127.0.0.1/healthz")

    static func parse(_ yaml: String) -> (policy: Policy?, diagnostics: [Diagnostic]) {
        PolicyParser.parse(yaml: yaml, path: "p.yaml")
    }

    @Test func everyStageHasTheDefaultsWithoutABlock() throws {
        let (policy, diagnostics) = Self.parse(PolicyFixtures.base)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        for stage in try #require(policy).stages {
            #expect(stage.rollback == RollbackSettings())
            #expect(stage.rollback.merge == .auto && stage.rollback.approvals == 0)
            #expect(stage.rollback.auto == false && stage.rollback.within == PolicyDuration(seconds: 3_600))
        }
    }

    @Test func aStageBlockSetsEveryKey() throws {
        let yaml = Self.testWithHealth + """
                rollback:
                  merge: approved
                  approvals: 2
                  auto: true
                  within: 30m
            """ + "\n"
        let (policy, diagnostics) = Self.parse(yaml)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        let stages = try #require(policy).stages
        #expect(stages[0].rollback == RollbackSettings())
        #expect(stages[1].rollback == RollbackSettings(merge: .approved, approvals: 2, auto: true,
                                                       within: PolicyDuration(seconds: 1_800)))
    }

    @Test(arguments: [
        ("    rollback:\n      merge: approved", RollbackSettings(merge: .approved, approvals: 1)),
        ("    rollback:\n      merge: manual", RollbackSettings(merge: .manual)),
        ("    rollback: {merge: auto}", RollbackSettings()),
        ("    rollback: {}", RollbackSettings()),
    ] as [(String, RollbackSettings)])
    func mergeAndApprovalsFollowTheStageRules(lines: String, expected: RollbackSettings) throws {
        let (policy, diagnostics) = Self.parse(PolicyFixtures.withTestStage(lines))
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        #expect(try #require(policy).stages[1].rollback == expected)
    }

    @Test func stagesInheritThePolicyBlockKeyByKey() throws {
        let yaml = """
            version: 1
            name: oms
            repository: group/oms-deploy
            branch: master
            images: [registry.example.com/oms/app]
            rollback:
              merge: approved
              approvals: 2
              within: 2h
            stages:
              - name: dev
                paths: [dev/]
                rollback: {merge: manual}
              - name: test
                paths: [test/]
                health: [{http: "http://127.0.0.1/healthz"}]
                rollback: {auto: true}
              - name: stage
                paths: [stage/]
                rollback: {approvals: 3}
              - name: prod
                paths: [prod/]
                rollback: {merge: approved}
              - name: dr
                paths: [dr/]
            """
        let (policy, diagnostics) = Self.parse(yaml)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        let hours2 = PolicyDuration(seconds: 7_200)
        #expect(try #require(policy).stages.map(\.rollback) == [
            RollbackSettings(merge: .manual, approvals: 0, auto: false, within: hours2),
            RollbackSettings(merge: .approved, approvals: 2, auto: true, within: hours2),
            RollbackSettings(merge: .approved, approvals: 3, auto: false, within: hours2),
            RollbackSettings(merge: .approved, approvals: 2, auto: false, within: hours2),
            RollbackSettings(merge: .approved, approvals: 2, auto: false, within: hours2),
        ])
    }

    @Test func thePolicyAutoReachesEveryStageThatDoesNotOptOut() throws {
        let yaml = Self.testWithHealth
            .replacingOccurrences(of: "    paths: [dev/]\n", with: "    paths: [dev/]\n    rollback: {auto: false}\n")
            + "rollback:\n  auto: true\n  within: 15m\n"
        let (policy, diagnostics) = Self.parse(yaml)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        let stages = try #require(policy).stages
        #expect(stages[0].rollback == RollbackSettings(within: PolicyDuration(seconds: 900)))
        #expect(stages[1].rollback == RollbackSettings(auto: true, within: PolicyDuration(seconds: 900)))
    }

    @Test func healthChecksForAnAutomaticRollbackAreNotReportedAsNeverRun() throws {
        // `test` is the last stage: nobody promotes from it, but its checks now trigger its rollback.
        let (policy, diagnostics) = Self.parse(Self.testWithHealth + "    rollback: {auto: true}\n")
        #expect(policy != nil)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
    }

    @Test func theRepositoryPoliciesAndTheDocsExampleStillParse() throws {
        let root = PolicyFixtures.repositoryRoot()
        let docs = try String(contentsOfFile: root + "/docs/policies.md", encoding: .utf8)
        let start = try #require(docs.range(of: "```yaml\n"))
        let end = try #require(docs.range(of: "```", range: start.upperBound..<docs.endIndex))
        var files = [("docs-example.yaml", String(docs[start.upperBound..<end.lowerBound]))]
        for name in ["policies/oms.yaml", "policies/payments.yaml"] {
            files.append((name, try String(contentsOfFile: root + "/" + name, encoding: .utf8)))
        }
        for (name, yaml) in files {
            let (policy, diagnostics) = PolicyParser.parse(yaml: yaml, path: name)
            #expect(diagnostics.isEmpty, "\(name): \(diagnostics.map(\.formatted))")
            #expect(policy != nil, "\(name)")
        }
    }

    struct ErrorRow: Sendable, CustomTestStringConvertible {
        var kind: String
        var yaml: String
        var expected: String
        var testDescription: String { kind }
    }

    static let errorRows: [ErrorRow] = [
        ErrorRow(kind: "unknown key in a stage block", yaml: PolicyFixtures.withTestStage("    rollback:\n      merg: manual"),
                 expected: "p.yaml:13:7: error: unknown key 'merg' in 'rollback' of stage 'test' (did you mean 'merge'?)"),
        ErrorRow(kind: "unknown key in the policy block", yaml: PolicyFixtures.base + "rollback:\n  withn: 2h\n",
                 expected: "p.yaml:13:3: error: unknown key 'withn' in 'rollback' of policy 'oms' (did you mean 'within'?)"),
        ErrorRow(kind: "block not a mapping", yaml: PolicyFixtures.withTestStage("    rollback: auto"),
                 expected: "p.yaml:12:15: error: 'rollback' in stage 'test' must be a mapping of keys to values, found 'auto'"),
        ErrorRow(kind: "bad merge mode", yaml: PolicyFixtures.withTestStage("    rollback:\n      merge: automatic"),
                 expected: "p.yaml:13:14: error: invalid merge mode 'automatic' in 'rollback' of stage 'test': use one of auto, approved, manual (did you mean 'auto'?)"),
        ErrorRow(kind: "approvals with the default merge", yaml: PolicyFixtures.withTestStage("    rollback:\n      approvals: 2"),
                 expected: "p.yaml:13:7: error: 'approvals' in 'rollback' of stage 'test' needs 'merge: approved' (merge is the default 'auto')"),
        ErrorRow(kind: "approvals with merge manual", yaml: PolicyFixtures.withTestStage("    rollback:\n      merge: manual\n      approvals: 2"),
                 expected: "p.yaml:14:7: error: 'approvals' in 'rollback' of stage 'test' needs 'merge: approved' (merge is 'manual')"),
        ErrorRow(kind: "approvals with the policy's merge", yaml: PolicyFixtures.withTestStage("    rollback:\n      approvals: 2") + "rollback:\n  merge: manual\n",
                 expected: "p.yaml:13:7: error: 'approvals' in 'rollback' of stage 'test' needs 'merge: approved' (merge is 'manual' from 'rollback' of policy 'oms')"),
        ErrorRow(kind: "approvals in the policy block", yaml: PolicyFixtures.base + "rollback:\n  approvals: 2\n",
                 expected: "p.yaml:13:3: error: 'approvals' in 'rollback' of policy 'oms' needs 'merge: approved' (merge is the default 'auto')"),
        ErrorRow(kind: "approvals below 1", yaml: PolicyFixtures.withTestStage("    rollback:\n      merge: approved\n      approvals: 0"),
                 expected: "p.yaml:14:18: error: 'approvals' in 'rollback' of stage 'test' must be at least 1 with 'merge: approved' (use 'merge: auto' to merge without approvals)"),
        ErrorRow(kind: "auto not a boolean", yaml: PolicyFixtures.withTestStage("    rollback:\n      auto: yes"),
                 expected: "p.yaml:13:13: error: 'auto' in 'rollback' of stage 'test' must be true or false, found 'yes'"),
        ErrorRow(kind: "bad within", yaml: Self.testWithHealth + "    rollback:\n      auto: true\n      within: 1 hour\n",
                 expected: "p.yaml:16:15: error: invalid duration '1 hour' for 'within' in 'rollback' of stage 'test': use a number and a unit (d, h, m, s), e.g. 30m, 2h, 1d or 1h30m"),
        ErrorRow(kind: "within without auto", yaml: Self.testWithHealth + "    rollback:\n      within: 30m\n",
                 expected: "p.yaml:15:7: error: 'within' in 'rollback' of stage 'test' needs 'auto: true': it only limits automatic rollbacks (auto is false by default)"),
        ErrorRow(kind: "within with auto false", yaml: Self.testWithHealth + "    rollback:\n      auto: false\n      within: 30m\n",
                 expected: "p.yaml:16:7: error: 'within' in 'rollback' of stage 'test' needs 'auto: true': it only limits automatic rollbacks (auto is false in 'rollback' of stage 'test')"),
        ErrorRow(kind: "within with the policy's auto false", yaml: Self.testWithHealth + "    rollback:\n      within: 30m\nrollback:\n  auto: false\n",
                 expected: "p.yaml:15:7: error: 'within' in 'rollback' of stage 'test' needs 'auto: true': it only limits automatic rollbacks (auto is false in 'rollback' of policy 'oms')"),
        ErrorRow(kind: "policy within and no stage with auto", yaml: Self.testWithHealth + "rollback:\n  within: 30m\n",
                 expected: "p.yaml:15:3: error: 'within' in 'rollback' of policy 'oms' needs 'auto: true' there or in a stage's 'rollback': it only limits automatic rollbacks, and no stage has them"),
        ErrorRow(kind: "auto on the first stage", yaml: PolicyFixtures.base.replacingOccurrences(of: "    paths: [dev/]\n", with: "    paths: [dev/]\n    rollback:\n      auto: true\n"),
                 expected: "p.yaml:11:7: error: automatic rollback on the first stage 'dev' cannot work: promobot never promotes into the first stage, so there is nothing to roll back automatically"),
        ErrorRow(kind: "the policy's auto on the first stage", yaml: Self.testWithHealth + "rollback:\n  auto: true\n",
                 expected: "p.yaml:15:3: error: automatic rollback (set in 'rollback' of policy 'oms') on the first stage 'dev' cannot work: promobot never promotes into the first stage, so there is nothing to roll back automatically (add 'rollback: {auto: false}' to stage 'dev')"),
        ErrorRow(kind: "auto without health checks", yaml: PolicyFixtures.withTestStage("    rollback:\n      auto: true"),
                 expected: "p.yaml:13:7: error: automatic rollback needs health checks on stage 'test': it rolls back when they fail (add 'health' to the stage)"),
        ErrorRow(kind: "the policy's auto without health checks",
                 yaml: PolicyFixtures.base.replacingOccurrences(of: "    paths: [dev/]\n", with: "    paths: [dev/]\n    rollback: {auto: false}\n") + "rollback:\n  auto: true\n",
                 expected: "p.yaml:14:3: error: automatic rollback (set in 'rollback' of policy 'oms') needs health checks on stage 'test': it rolls back when they fail (add 'health' to stage 'test', or 'rollback: {auto: false}')"),
    ]

    @Test(arguments: errorRows)
    func reportsEachErrorWithItsPosition(row: ErrorRow) {
        let (policy, diagnostics) = Self.parse(row.yaml)
        #expect(policy == nil)
        #expect(diagnostics.filter(\.isError).map(\.formatted) == [row.expected])
    }

    @Test func rollbackSettingsOnTheFirstStageNeedNoPromotion() throws {
        // A person can still roll dev back with `promobot rollback`: how that MR merges is no warning.
        let yaml = PolicyFixtures.base.replacingOccurrences(
            of: "    paths: [dev/]\n", with: "    paths: [dev/]\n    rollback:\n      merge: approved\n      approvals: 2\n")
        let (policy, diagnostics) = Self.parse(yaml)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        #expect(try #require(policy).stages[0].rollback == RollbackSettings(merge: .approved, approvals: 2))
    }
}
