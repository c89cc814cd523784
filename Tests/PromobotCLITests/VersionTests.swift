import Foundation
import Testing
import TestSupport
@testable import PromobotCLI
@testable import Sandbox

/// promobot's version is baked in at build time (scripts/version, run by the VersionStamp plugin on every
/// build): the binary says what `git describe` says about this checkout, and the script keeps its rules in
/// repositories made for the test (tag, commits after it, no tag, no git, an override, a bad override).
@Suite struct VersionTests {
    static let root = URL(fileURLWithPath: TestPaths.repositoryRoot())
    static let script = root.appendingPathComponent("scripts/version").path

    static func git(_ arguments: [String], in folder: URL) throws -> ProcessResult {
        try ProcessRunner.run("/usr/bin/env", ["git", "-c", "safe.directory=*", "-C", folder.path] + arguments,
                              environment: ["PATH": "/usr/bin:/bin", "HOME": folder.path, "GIT_CONFIG_NOSYSTEM": "1",
                                            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                                            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"])
    }

    /// This checkout's version by the documented rules, worked out here with git itself, not the script.
    static func expectedVersion() throws -> String {
        if let override = ProcessInfo.processInfo.environment["PROMOBOT_VERSION"], !override.isEmpty {
            return override.hasPrefix("v") ? String(override.dropFirst()) : override
        }
        let described = try git(["describe", "--tags", "--match", "v[0-9]*"], in: root)
        if described.status == 0 { return String(described.output.dropFirst()) }
        let sha = try git(["rev-parse", "--short", "HEAD"], in: root)
        try #require(sha.status == 0, "this checkout has no commit: \(sha.errorText)")
        return "0.0.0-dev+\(sha.output)"
    }

    @Test func theBinaryPrintsTheVersionGitDescribes() async throws {
        let expected = try Self.expectedVersion()
        let hint = "(a binary built at another commit? `swift build` stamps the version again)"
        let version = try await BinaryRunner.run(["version"])
        #expect(version.status == 0, "\(version.stderr)")
        #expect(version.stdout.split(separator: "\n").first.map(String.init) == "promobot \(expected)", "\(version.stdout) \(hint)")
        #expect(version.stdout.contains("libgit2 ") && version.stdout.contains("libcurl "))
        let flag = try await BinaryRunner.run(["--version"])
        #expect(flag.stdout.trimmingCharacters(in: .newlines) == expected, "\(flag.stdout) \(hint)")
        // The library sees the same value the executable prints, so markers and build_info agree with it.
        #expect(Promobot.version == expected, "\(hint)")
    }

    /// `scripts/version [--swift FILE] DIR` with `environment`, in a folder of its own.
    static func version(_ folder: URL, environment: [String: String] = [:], swift: URL? = nil) throws -> ProcessResult {
        let arguments = [script] + (swift.map { ["--swift", $0.path] } ?? []) + [folder.path]
        return try ProcessRunner.run("/bin/sh", arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": folder.path].merging(environment) { $1 })
    }

    @Test func theScriptFollowsTagsCommitsAndOverrides() throws {
        let folder = try TestPaths.temporaryFolder("version")
        defer { try? FileManager.default.removeItem(at: folder) }
        let repo = folder.appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)

        #expect(try Self.version(repo).output == "0.0.0-dev+unknown", "no git at all")
        #expect(try Self.git(["init", "-q"], in: repo).status == 0)
        #expect(try Self.version(repo).output == "0.0.0-dev+unknown", "a repository without a commit")

        #expect(try Self.git(["commit", "-q", "--allow-empty", "-m", "first"], in: repo).status == 0)
        let first = try Self.git(["rev-parse", "--short", "HEAD"], in: repo).output
        #expect(try Self.version(repo).output == "0.0.0-dev+\(first)", "untagged")

        #expect(try Self.git(["tag", "v0.2.0"], in: repo).status == 0)
        #expect(try Self.version(repo).output == "0.2.0", "on the tag, without its v")

        #expect(try Self.git(["commit", "-q", "--allow-empty", "-m", "second"], in: repo).status == 0)
        #expect(try Self.git(["tag", "nightly"], in: repo).status == 0)
        let second = try Self.git(["rev-parse", "--short", "HEAD"], in: repo).output
        #expect(try Self.version(repo).output == "0.2.0-1-g\(second)", "a commit after the tag; tags not like v<digit> are ignored")

        let sub = repo.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        #expect(try Self.version(sub).output == "0.0.0-dev+unknown", "a folder inside someone else's work tree is not described")

        #expect(try Self.version(repo, environment: ["PROMOBOT_VERSION": "v1.0.0"]).output == "1.0.0", "the override wins")
        let bad = try Self.version(repo, environment: ["PROMOBOT_VERSION": "1.0\"; exit(1) //\n"])
        #expect(bad.status == 1 && bad.stdout.isEmpty)
        #expect(bad.errorText.contains("from PROMOBOT_VERSION) is not a version") && !bad.errorText.contains("\n"), "\(bad.errorText)")
    }

    @Test func theGeneratedSourceIsRewrittenOnlyWhenTheVersionChanges() throws {
        let folder = try TestPaths.temporaryFolder("version-swift")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("out/BakedVersion.swift")
        #expect(try Self.version(folder, environment: ["PROMOBOT_VERSION": "0.3.0"], swift: file).status == 0)
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains("static let value = \"0.3.0\""), "\(text)")
        let written = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date)
        // An mtime in the past: a rewrite of the same text would show as a newer one.
        try FileManager.default.setAttributes([.modificationDate: written.addingTimeInterval(-3600)], ofItemAtPath: file.path)
        #expect(try Self.version(folder, environment: ["PROMOBOT_VERSION": "0.3.0"], swift: file).status == 0)
        let kept = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date)
        #expect(kept < written, "the same version must not touch the file (it would recompile PromobotCLI)")
        #expect(try Self.version(folder, environment: ["PROMOBOT_VERSION": "0.3.1"], swift: file).status == 0)
        #expect(try String(contentsOf: file, encoding: .utf8).contains("\"0.3.1\""))
    }
}
