import Foundation
import Testing
@testable import Policies

/// Settings written once for many stages: YAML merge keys, a policy's `defaults:`, the config's
/// `stageDefaults:` and company-wide `freezes:`, with the precedence stage > policy defaults > config.
@Suite struct SharedSettingsTests {
    static func policy(_ yaml: String, shared: SharedSettings = .none) -> (Policy?, [String]) {
        let (policy, diagnostics) = PolicyParser.parse(yaml: yaml, path: "policies/oms.yaml", shared: shared)
        return (policy, diagnostics.map(\.formatted))
    }

    static func config(_ yaml: String) throws -> PromobotConfig {
        let (config, diagnostics) = ConfigParser.parse(yaml: yaml, path: "promobot.yaml", environment: [:])
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        return try #require(config)
    }

    static let stages = """
        version: 1
        name: oms
        repository: group/oms-deploy
        branch: main
        images: [registry.example.com/oms/app]
        """

    // MARK: - Merge keys

    @Test func mergeKeysAndXAnchorsShareStageSettings() throws {
        let yaml = """
            version: 1
            x-prod: &prod
              merge: approved
              approvals: 2
              timezone: Europe/Berlin
            x-review: &review {labels: [promotion], reviewers: [alice]}
            name: oms
            repository: group/oms-deploy
            branch: main
            images: [registry.example.com/oms/app]
            stages:
              - name: dev
                paths: [dev/]
              - name: test
                paths: [test/]
                <<: [*review, *prod]
                approvals: 1
              - name: prod
                paths: [prod/]
                <<: *prod
            """
        let (policy, diagnostics) = Self.policy(yaml)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let test = try #require(policy?.stage(named: "test")), prod = try #require(policy?.stage(named: "prod"))
        #expect(test.merge == .approved && test.approvals == 1, "the stage's own key wins over the merged one")
        #expect(test.labels == ["promotion"] && test.reviewers == ["alice"] && test.timezone == "Europe/Berlin")
        #expect(prod.merge == .approved && prod.approvals == 2 && prod.timezone == "Europe/Berlin")
    }

    @Test func anErrorInAMergedBlockPointsWhereTheValueIsWritten() {
        let yaml = """
            version: 1
            x-prod: &prod
              merge: aproved
            name: oms
            repository: group/oms-deploy
            branch: main
            images: [registry.example.com/oms/app]
            stages:
              - name: dev
                paths: [dev/]
              - name: prod
                paths: [prod/]
                <<: *prod
            """
        let (policy, diagnostics) = Self.policy(yaml)
        #expect(policy == nil)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.hasPrefix("policies/oms.yaml:3:10: error: invalid merge mode 'aproved'") == true, "\(diagnostics)")
    }

    @Test(arguments: [
        ("<<: 3", "12:9", "its value must be a mapping, usually an alias such as '*defaults' (or a list of them), found '3'"),
        ("<<: [*a, x]", "12:14", "found 'x'"),
        ("'<<': *a", "12:5", "unknown key '<<' in stage 'prod'"),
    ])
    func badMergeKeysAreErrors(line: String, position: String, message: String) {
        let yaml = Self.stages + """

            x-a: &a {soak: 1h}
            stages:
              - name: dev
                paths: [dev/]
              - name: prod
                paths: [prod/]
            """ + "\n    \(line)\n"
        let (_, diagnostics) = Self.policy(yaml)
        #expect(diagnostics.contains { $0.hasPrefix("policies/oms.yaml:\(position): error:") && $0.contains(message) }, "\(diagnostics)")
    }

    // MARK: - Defaults and precedence

    @Test func precedenceIsStageThenPolicyDefaultsThenConfig() throws {
        let config = try Self.config("""
            stageDefaults:
              prod:
                merge: approved
                approvals: 2
                timezone: Europe/Berlin
                windows: [{days: [mon, tue, wed, thu], hours: "09:00-16:00"}]
                labels: [prod]
            """)
        let yaml = Self.stages + """

            defaults:
              soak: 1h
              timezone: UTC
              labels: [promotion]
            stages:
              - name: dev
                paths: [dev/]
              - name: test
                paths: [test/]
              - name: prod
                paths: [prod/]
                approvals: 3
            """
        let (policy, diagnostics) = Self.policy(yaml, shared: config.shared)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let test = try #require(policy?.stage(named: "test")), prod = try #require(policy?.stage(named: "prod"))
        // test: policy defaults only (stageDefaults.prod is for stages named prod).
        #expect(test.soak == PolicyDuration(seconds: 3600) && test.merge == .manual && test.approvals == 0 && test.labels == ["promotion"])
        #expect(test.sources["soak"] == .policyDefaults(path: "policies/oms.yaml", line: 7))
        #expect(test.sources["merge"] == nil, "built in")
        // prod: its own approvals, the policy's soak/timezone/labels over the config's, the config's merge and windows.
        #expect(prod.approvals == 3 && prod.sources["approvals"] == .stage(path: "policies/oms.yaml", line: 17))
        #expect(prod.merge == .approved && prod.sources["merge"] == .stageDefaults(path: "promobot.yaml", line: 3, stage: "prod"))
        #expect(prod.timezone == "UTC" && prod.sources["timezone"] == .policyDefaults(path: "policies/oms.yaml", line: 8))
        #expect(prod.labels == ["promotion"])
        #expect(prod.windows.count == 1 && prod.sources["windows"] == .stageDefaults(path: "promobot.yaml", line: 6, stage: "prod"))
    }

    @Test func approvalsFromDefaultsNeedAnApprovedMerge() throws {
        let config = try Self.config("stageDefaults:\n  prod:\n    merge: approved\n    approvals: 2\n")
        let yaml = Self.stages + """

            stages:
              - name: dev
                paths: [dev/]
              - name: prod
                paths: [prod/]
                merge: auto
            """
        let (policy, diagnostics) = Self.policy(yaml, shared: config.shared)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let prod = try #require(policy?.stage(named: "prod"))
        #expect(prod.merge == .auto && prod.approvals == 0 && prod.sources["approvals"] == nil)
        // And a stage's own approvals are fine with a merge: approved that comes from the config.
        let own = Self.stages + "\nstages:\n  - name: dev\n    paths: [dev/]\n  - name: prod\n    paths: [prod/]\n    approvals: 4\n"
        let (withOwn, ownDiagnostics) = Self.policy(own, shared: config.shared)
        #expect(ownDiagnostics.isEmpty, "\(ownDiagnostics)")
        #expect(withOwn?.stage(named: "prod")?.approvals == 4)
    }

    @Test func defaultsHoldOnlyStageSettings() {
        let yaml = Self.stages + """

            defaults:
              paths: [x/]
              soak: 1 hour
            stages:
              - name: dev
                paths: [dev/]
              - name: test
                paths: [test/]
            """
        let (policy, diagnostics) = Self.policy(yaml)
        #expect(policy == nil)
        #expect(diagnostics.contains { $0.hasPrefix("policies/oms.yaml:7:3: error: 'paths' cannot be a default in 'defaults' in policy 'oms'") }, "\(diagnostics)")
        #expect(diagnostics.contains { $0.hasPrefix("policies/oms.yaml:8:9: error:") && $0.contains("'soak'") }, "\(diagnostics)")
    }

    // MARK: - The config file

    @Test func configProblemsPointIntoTheConfigFile() {
        let yaml = """
            stageDefaults:
              prod:
                merge: sometimes
                repository: group/x
              Prod!: {soak: 1h}
            freezes:
              - from: 2026-12-20
                until: 2026-12-01
              - from: 2026-12-20
                until: 2027-01-02
                stages: prod
              - from: 2026-12-20
                until: 2027-01-02
                teams: [a]
            x-notes: anything
            """
        let (config, diagnostics) = ConfigParser.parse(yaml: yaml, path: "promobot.yaml", environment: [:])
        #expect(config == nil)
        let errors = diagnostics.map(\.formatted)
        for expected in ["promobot.yaml:3:12: error: invalid merge mode 'sometimes' in 'stageDefaults.prod'",
                         "promobot.yaml:4:5: error: 'repository' cannot be a default in 'stageDefaults.prod'",
                         "promobot.yaml:5:3: error: 'Prod!' in 'stageDefaults' is not a stage name",
                         "promobot.yaml:8:12: error: company-wide freeze 1 ends (2026-12-01) before it starts (2026-12-20)",
                         "promobot.yaml:11:13: error: 'stages' in company-wide freeze 2 must be a list",
                         "promobot.yaml:14:5: error: unknown key 'teams' in company-wide freeze 3"] {
            #expect(errors.contains { $0.hasPrefix(expected) }, "missing \(expected) in \(errors)")
        }
        #expect(errors.count == 6, "\(errors)")
    }

    @Test func companyFreezesApplyToTheirStagesAndPolicies() throws {
        let config = try Self.config("""
            freezes:
              - from: 2026-12-20
                until: 2027-01-02
                reason: year-end
                stages: [prod]
              - from: 2026-11-27
                until: 2026-11-27
                policies: [billing]
            """)
        let yaml = Self.stages + """

            stages:
              - name: dev
                paths: [dev/]
              - name: prod
                paths: [prod/]
                freeze:
                  - {from: 2026-08-01, until: 2026-08-02, reason: move}
            """
        let (policy, diagnostics) = Self.policy(yaml, shared: config.shared)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let prod = try #require(policy?.stage(named: "prod")), dev = try #require(policy?.stage(named: "dev"))
        #expect(prod.freezes.map(\.reason) == ["move", "year-end"], "in addition to the stage's own")
        #expect(prod.freezes.last?.companyWide == "promobot.yaml:2")
        #expect(dev.freezes.isEmpty, "only stages named prod; the billing freeze is for another policy")
        // Validate warns about shared settings that reach nothing.
        let unused = try Self.config("stageDefaults:\n  prdo: {soak: 1h}\nfreezes:\n  - {from: 2026-12-20, until: 2027-01-02, policies: [nope]}\n")
        let warnings = ConfigParser.sharedSettingsUnused(by: [try #require(policy)], config: unused).map(\.formatted)
        #expect(warnings == [
            "promobot.yaml:2:0: warning: 'stageDefaults.prdo' applies to no stage: no policy has a stage named 'prdo' (did you mean 'prod'?)",
            "promobot.yaml:4:0: warning: company-wide freeze 1 applies to no stage: its 'stages' and 'policies' match none of the loaded policies",
        ])
    }
}

/// `git.transport: ssh` and its keys: paths and variable names only, never the secret itself.
@Suite struct SSHConfigTests {
    @Test func sshTransportNeedsAKeyFileAndTakesNoSecrets() throws {
        let good = try #require(ConfigParser.parse(yaml: """
            git:
              transport: ssh
              sshKeyFile: /run/secrets/deploy-key
              sshPassphraseEnv: DEPLOY_KEY_PASSPHRASE
              knownHostsFile: /etc/promobot/known_hosts
            """, path: "promobot.yaml", environment: [:]).config)
        #expect(good.gitTransport == .ssh && good.sshKeyFile == "/run/secrets/deploy-key")
        #expect(good.sshPassphraseEnv == "DEPLOY_KEY_PASSPHRASE" && good.knownHostsFile == "/etc/promobot/known_hosts")
        #expect(try #require(ConfigParser.parse(yaml: "git: {authorName: bot}\n", path: "c.yaml", environment: [:]).config).gitTransport == .https)

        let (bad, diagnostics) = ConfigParser.parse(yaml: """
            git:
              transport: sftp
              sshPassphrase: hunter2
              sshPassphraseEnv: "correct horse battery"
              sshKeyFile: "-----BEGIN OPENSSH PRIVATE KEY-----"
            """, path: "promobot.yaml", environment: [:])
        #expect(bad == nil)
        let text = diagnostics.map(\.formatted)
        for expected in ["promobot.yaml:2:14: error: invalid value 'sftp' for 'git.transport': use https or ssh",
                         "promobot.yaml:3:3: error: 'sshPassphrase' in section 'git' would put a secret in the config file: use 'sshPassphraseEnv'",
                         "promobot.yaml:4:21: error: 'git.sshPassphraseEnv' must be the name of an environment variable",
                         "promobot.yaml:5:15: error: 'git.sshKeyFile' must be the path of the key file, not the key itself"] {
            #expect(text.contains { $0.hasPrefix(expected) }, "missing \(expected) in \(text)")
        }
        #expect(!text.joined().contains("hunter2") && !text.joined().contains("correct horse"), "secrets are never echoed")

        let missingKey = ConfigParser.parse(yaml: "git:\n  transport: ssh\n", path: "promobot.yaml", environment: [:])
        #expect(missingKey.diagnostics.map(\.formatted) == ["promobot.yaml:2:3: error: 'git.transport: ssh' needs 'git.sshKeyFile': the path of the private key promobot pushes with"])
    }
}
