import ArgumentParser
import Foundation
import Sandbox
import Testing
import TestSupport
@testable import PromobotCLI

/// README.md's exit-code table, through the real binary: 0 done, 1 the command's own failure, 2 bad usage or
/// configuration (ArgumentParser's default for usage errors is 64). `run`'s 0, 1 and 2 against a GitLab are
/// in ``EngineCommandTests`` (`runOpensTheMRAndStatusShowsIt`, `runExitsOneWhenAPolicyFails`,
/// `missingTokenExitsTwoNamingTheVariable`); `plan` and `status` use its sandbox setup here.
@Suite struct ExitCodeTests {
    static let root = TestPaths.repositoryRoot()
    static let app = "registry.example.com/oms/app"

    /// A copy of `examples/oms-deploy` in a fresh folder, removed after `body`.
    func withDeployRepo(_ body: (String) async throws -> Void) async throws {
        let folder = try TestPaths.temporaryFolder("exit-codes").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: Self.root + "/examples/oms-deploy", toPath: folder + "/deploy")
        try await body(folder + "/deploy")
    }

    @Test(arguments: [
        ["bogus"], ["run", "--bogus"], ["plan", "--bogus"], ["status", "--bogus"], ["validate", "--format", "nope"],
        ["set-image"], ["set-image", "nginx"], ["set-image", "nginx:1", "/definitely/missing"], ["version", "extra"],
        ["run", "--watch", "soon"],
    ])
    func usageErrorsExitTwo(_ arguments: [String]) async throws {
        let result = try await BinaryRunner.run(arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("Usage:") || result.stderr.contains("Error:"), "\(result.stderr)")
    }

    @Test(arguments: [["--help"], ["--version"], ["set-image", "--help"], ["version"]])
    func helpAndVersionExitZero(_ arguments: [String]) async throws {
        let result = try await BinaryRunner.run(arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
    }

    @Test func setImageExitsZeroOneAndTwo() async throws {
        try await withDeployRepo { repo in
            let done = try await BinaryRunner.run(["set-image", "\(Self.app):1.6.0", repo + "/dev"])
            #expect(done.status == 0, "\(done.stderr)")
            let missing = try await BinaryRunner.run(["set-image", "registry.example.com/oms/nope:1.0.0", repo])
            #expect(missing.status == 1, "\(missing.stderr)")
            #expect(missing.stderr.contains("not found"))
            try Data("image: [broken\n".utf8).write(to: URL(fileURLWithPath: repo + "/dev/broken.yaml"))
            let refused = try await BinaryRunner.run(["set-image", "\(Self.app):1.7.0", repo + "/dev"])
            #expect(refused.status == 1, "\(refused.stderr)")
            // Two updates for one image, in two spellings: a usage error, nothing read.
            let twice = try await BinaryRunner.run(["set-image", "\(Self.app):1.7.0", "\(Self.app):1.8.0", repo + "/test"])
            #expect(twice.status == 2, "\(twice.stderr)")
            #expect(twice.stderr.contains("both set \(Self.app)"), "\(twice.stderr)")
            let spelled = try await BinaryRunner.run(["set-image", "nginx:1", "docker.io/library/nginx:1", repo + "/test"])
            #expect(spelled.status == 2, "\(spelled.stderr)")
        }
    }

    @Test func validateExitsZeroOneAndTwo() async throws {
        let clean = try await BinaryRunner.run(["validate", Self.root + "/policies", "--config", Self.root + "/promobot.yaml"])
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        let folder = try TestPaths.temporaryFolder("exit-codes")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("version: 1\nname: broken\n".utf8).write(to: folder.appendingPathComponent("broken.yaml"))
        let broken = try await BinaryRunner.run(["validate", folder.appendingPathComponent("broken.yaml").path])
        #expect(broken.status == 1, "\(broken.stdout)\(broken.stderr)")
        let usage = try await BinaryRunner.run(["validate", "--output"])
        #expect(usage.status == 2, "\(usage.stderr)")
    }

    @Test func planAndStatusExitZeroOneAndTwo() async throws {
        try await EngineCommandTests().withSetup { s in
            for command in ["plan", "status"] {
                let done = try await s.promobot([command])
                #expect(done.status == 0, "\(command): \(done.stderr)")
                let noToken = try await s.promobot([command], token: "")
                #expect(noToken.status == 2, "\(command): \(noToken.stderr)")
            }
            s.sandbox.injectFault(SandboxFault(pathPrefix: "/api/v4", kind: .status(500, body: #"{"message":"500 Internal Server Error"}"#), count: 1000))
            for command in ["plan", "status"] {
                let failed = try await s.promobot([command])
                #expect(failed.status == 1, "\(command): \(failed.stdout) \(failed.stderr)")
            }
        }
    }

    @Test func runExitsTwoForAnUnreadableConfig() async throws {
        let result = try await BinaryRunner.run(["run", "--config", "/definitely/missing/promobot.yaml"])
        #expect(result.status == 2, "\(result.stderr)")
    }

    /// In process, the mapping itself: ArgumentParser's 64 becomes 2, every other status is kept.
    @Test func theRootMapsOnlyUsageErrors() {
        #expect(Promobot.exitStatus(for: ValidationError("x")) == ExitCode(2))
        #expect(Promobot.exitStatus(for: ExitCode(1)) == ExitCode(1))
        #expect(Promobot.exitStatus(for: ExitCode(2)) == ExitCode(2))
        #expect(Promobot.exitStatus(for: CleanExit.helpRequest()) == ExitCode.success)
        do {
            _ = try Promobot.parseAsRoot(["set-image", "nginx:1", "nginx:2", "/tmp"])
            Issue.record("two updates for one image parsed")
        } catch {
            #expect(Promobot.exitStatus(for: error) == ExitCode(2))
            #expect(Promobot.message(for: error).contains("give one update per image"))
        }
    }
}
