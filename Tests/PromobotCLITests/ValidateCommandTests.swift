import ArgumentParser
import Foundation
import Testing
import TestSupport
import Git
import Policies
@testable import PromobotCLI

@Suite struct ValidateCommandTests {
    static func repositoryRoot() -> String { TestPaths.repositoryRoot() }

    static func temporaryFolder() throws -> URL { try TestPaths.temporaryFolder("validate") }

    /// Parses and runs `promobot <arguments>` in-process; returns the exit code.
    static func run(_ arguments: [String]) async throws -> Int32 {
        var command = try Promobot.parseAsRoot(arguments)
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        }
    }

    @Test func showEffectivePrintsEachSettingWithItsSource() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("policies"), withIntermediateDirectories: true)
        try """
            stageDefaults:
              prod: {merge: approved, approvals: 2, timezone: Europe/Berlin}
            freezes:
              - {from: 2026-12-20, until: 2027-01-02, reason: year-end, stages: [prod]}
            """.write(to: folder.appendingPathComponent("promobot.yaml"), atomically: true, encoding: .utf8)
        try """
            version: 1
            name: oms
            repository: group/oms-deploy
            branch: main
            images: [registry.example.com/oms/app]
            defaults: {soak: 30m}
            stages:
              - {name: dev, paths: [dev/]}
              - {name: prod, paths: [prod/], approvals: 3}
            """.write(to: folder.appendingPathComponent("policies/oms.yaml"), atomically: true, encoding: .utf8)
        let result = try await BinaryRunner.run(["validate", "--show-effective"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        for expected in ["oms/prod (policies/oms.yaml):",
                         "merge approved promobot.yaml:2 (stageDefaults.prod)",
                         "approvals 3 policies/oms.yaml:9 (stage)",
                         "soak 30m policies/oms.yaml:6 (policy defaults)",
                         "timezone Europe/Berlin promobot.yaml:2 (stageDefaults.prod)",
                         "pick latest built in",
                         "freeze 2026-12-20..2027-01-02 (year-end) promobot.yaml:4 (company-wide freeze)"] {
            #expect(lines.contains(expected), "missing '\(expected)' in:\n\(result.stdout)")
        }
        #expect(!result.stdout.contains("oms/dev"), "the first stage is written by CI")
    }

    @Test func cleanPoliciesFolderExitsZero() async throws {
        let root = Self.repositoryRoot()
        #expect(try await Self.run(["validate", root + "/policies", "--config", root + "/promobot.yaml"]) == 0)
    }

    @Test func brokenFileExitsOneAndReportsEveryProblemAsJSON() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let policy = folder.appendingPathComponent("broken.yaml")
        try """
            version: 1
            name: broken
            repository: group/broken
            branch: main
            images: [registry.example.com/b/app]
            stages:
              - name: dev
                paths: [dev/]
              - name: prod
                paths: [prod/]
                soka: 1h
                merge: whenever
            """.write(to: policy, atomically: true, encoding: .utf8)
        let report = folder.appendingPathComponent("report.json")

        #expect(try await Self.run(["validate", policy.path, "--format", "json", "--output", report.path]) == 1)

        let entries = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [[String: Any]])
        #expect(entries.map { "\($0["line"] ?? ""):\($0["column"] ?? "")" } == ["11:5", "12:12"])
        #expect(entries.first?["message"] as? String == "unknown key 'soka' in stage 'prod' (did you mean 'soak'?)")
        #expect(entries.allSatisfy { $0["path"] as? String == policy.path && $0["severity"] as? String == "error" })
    }

    @Test func codeQualityReportForABrokenConfig() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("promobot.yaml")
        try "gitlab:\n  token: glpat-do-not-print\n".write(to: config, atomically: true, encoding: .utf8)
        let report = folder.appendingPathComponent("gl-code-quality.json")

        let root = Self.repositoryRoot()
        #expect(try await Self.run(["validate", config.path, root + "/policies", "--format", "codequality", "--output", report.path]) == 1)

        let text = try String(contentsOf: report, encoding: .utf8)
        #expect(!text.contains("glpat-do-not-print"))
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["check_name"] as? String == "promobot-validate")
        #expect(((entries.first?["location"] as? [String: Any])?["lines"] as? [String: Any])?["begin"] as? Int == 2)
    }

    /// A policy whose values hold newlines and escape sequences: each format reports the same diagnostics,
    /// and the text report is exactly one line per diagnostic plus the summary.
    @Test func hostileValuesCannotForgeLinesOrCounts() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let policy = folder.appendingPathComponent("hostile.yaml")
        try """
            version: 1
            name: "x\\nfake.yaml:1:1: error: forged\\e[31m"
            repository: group/h
            branch: main
            images: ["registry.example.com/h/app\\r\\nfake.yaml:2:2: error: forged too"]
            stages:
              - name: dev
                paths: [dev/]
            """.write(to: policy, atomically: true, encoding: .utf8)
        let outcome = ValidateCommand.check(paths: [policy.path], config: nil, environment: [:])
        let diagnostics = outcome.diagnostics
        #expect(diagnostics.count == 2)

        let text = DiagnosticReport.render(diagnostics, format: .text, policyCount: outcome.policyCount)
        let lines = text.split(separator: "\n")
        #expect(lines.count == diagnostics.count + 1)
        #expect(lines.last == "0 policies, 2 problems (2 errors, 0 warnings)")
        #expect(lines.dropLast().allSatisfy { $0.hasPrefix(policy.path + ":") })
        #expect(!text.contains("\u{1B}") && !text.contains("\r"))
        #expect(text.contains(#"invalid policy name 'x\nfake.yaml:1:1: error: forged\e[31m'"#))

        let report = folder.appendingPathComponent("report.json")
        #expect(try await Self.run(["validate", policy.path, "--format", "json", "--output", report.path]) == 1)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [[String: Any]])
        #expect(entries.count == diagnostics.count)
        #expect(entries.first?["message"] as? String == diagnostics.first?.message)
    }

    @Test func unreadableConfigSaysWhy() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = ValidateCommand.check(paths: [folder.path + "/promobot.yaml"], config: folder.path, environment: [:])
        #expect(outcome.diagnostics.map(\.formatted) == [
            "\(folder.path): error: cannot read the file: it is a folder, not a regular file",
            "\(folder.path)/promobot.yaml: error: cannot read the file: it does not exist",
        ])
    }

    /// `run`/`plan`/`status` read the config through the loader `validate` uses, so they say why too.
    @Test func theEngineCommandsSayWhyTheConfigCannotBeRead() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect {
            _ = try Runtime.loadConfig(folder.path, environment: [:])
        } throws: { error in
            (error as? ConfigurationError)?.description == "\(folder.path): error: cannot read the file: it is a folder, not a regular file"
        }
    }

    @Test func sshCredentialsComeFromTheKeyFileAndTheNamedVariable() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = folder.appendingPathComponent("deploy_key").path
        var config = PromobotConfig.default(environment: [:])
        #expect(try Runtime.gitCredentials(config, token: "glpat-x", environment: [:]) == .token("glpat-x"))
        config.gitTransport = .ssh
        config.sshKeyFile = key
        #expect { _ = try Runtime.gitCredentials(config, token: "t", environment: [:]) } throws: { error in
            "\(error)".contains("cannot read the SSH key named by 'git.sshKeyFile' (\(key))")
        }
        try "key".write(toFile: key, atomically: true, encoding: .utf8)
        #expect(try Runtime.gitCredentials(config, token: "t", environment: [:]) == .sshKey(privateKey: key, publicKey: nil, passphrase: nil))
        config.sshPassphraseEnv = "DEPLOY_KEY_PASSPHRASE"
        #expect { _ = try Runtime.gitCredentials(config, token: "t", environment: [:]) } throws: { error in
            "\(error)".contains("'git.sshPassphraseEnv' names DEPLOY_KEY_PASSPHRASE, which is not set")
        }
        try "pub".write(toFile: key + ".pub", atomically: true, encoding: .utf8)
        #expect(try Runtime.gitCredentials(config, token: "t", environment: ["DEPLOY_KEY_PASSPHRASE": "s3cret"])
                == .sshKey(privateKey: key, publicKey: key + ".pub", passphrase: "s3cret"))
    }

    @Test func unknownFormatIsAUsageError() {
        #expect(throws: (any Error).self) { _ = try Promobot.parseAsRoot(["validate", "--format", "xml"]) }
    }

    @Test func missingPathExitsOne() async throws {
        #expect(try await Self.run(["validate", "/nonexistent/promobot-policies"]) == 1)
    }
}
