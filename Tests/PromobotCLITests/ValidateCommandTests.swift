import ArgumentParser
import Foundation
import Testing
import TestSupport
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

    @Test func unknownFormatIsAUsageError() {
        #expect(throws: (any Error).self) { _ = try Promobot.parseAsRoot(["validate", "--format", "xml"]) }
    }

    @Test func missingPathExitsOne() async throws {
        #expect(try await Self.run(["validate", "/nonexistent/promobot-policies"]) == 1)
    }
}
