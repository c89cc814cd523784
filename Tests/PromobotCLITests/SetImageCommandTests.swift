import ArgumentParser
import Foundation
import Manifests
import Testing
@testable import PromobotCLI

/// `promobot set-image`, in-process, on a temporary copy of `examples/oms-deploy`.
@Suite struct SetImageCommandTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/oms-deploy").path
    static let app = "registry.example.com/oms/app"

    /// A fresh copy of the example deploy repo, removed after `body`.
    func withDeployRepo(_ body: (String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("set-image-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: Self.examples, toPath: root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try body(root)
    }

    func command(_ arguments: [String]) throws -> SetImageCommand {
        let parsed = try Promobot.parseAsRoot(["set-image"] + arguments)
        return try #require(parsed as? SetImageCommand)
    }

    func snapshot(_ root: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for path in try ManifestFiles.collect([root]) {
            files[path] = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        return files
    }

    /// `old` with the tag bytes after each `image:tag` occurrence replaced: built independently of the editor.
    func replacingTags(in old: [UInt8], image: String, from oldTag: String, to newTag: String) -> [UInt8] {
        let needle = Array("\(image):\(oldTag)".utf8)
        var result: [UInt8] = []
        var index = 0
        while index < old.count {
            if old[index...].starts(with: needle) {
                let tagStart = index + needle.count - oldTag.utf8.count
                result += old[index..<tagStart] + Array(newTag.utf8)
                index += needle.count
            } else {
                result.append(old[index])
                index += 1
            }
        }
        return result
    }

    @Test func changesOnlyTheTagBytes() throws {
        try withDeployRepo { root in
            let before = try snapshot(root)
            let outcome = try command(["\(Self.app):1.6.0", root + "/dev"]).execute()
            #expect(outcome.exitCode == 0, "\(outcome.errors)")
            let after = try snapshot(root)
            #expect(before.keys == after.keys)
            for (path, old) in before {
                let expected = path.hasPrefix(root + "/dev/app/") ? replacingTags(in: old, image: Self.app, from: "1.5.0", to: "1.6.0") : old
                #expect(after[path] == expected, "\(path)")
            }
            let lines = outcome.output.split(separator: "\n").map(String.init)
            #expect(lines == [
                "\(root)/dev/app/deploy.yaml:24: \(Self.app) 1.5.0 -> 1.6.0",
                "\(root)/dev/app/migration.yaml:17: \(Self.app) 1.5.0 -> 1.6.0",
            ])
            #expect(outcome.changes.count == 2)
        }
    }

    @Test func dryRunPrintsADiffAndWritesNothing() throws {
        try withDeployRepo { root in
            let before = try snapshot(root)
            let outcome = try command(["--dry-run", root + "/test", "\(Self.app):1.5.0"]).execute()
            #expect(outcome.exitCode == 0)
            #expect(try snapshot(root) == before)
            #expect(outcome.output.contains("--- a/\(root)/test/app/deploy.yaml\n+++ b/\(root)/test/app/deploy.yaml\n"))
            #expect(outcome.output.contains("\n-          image: \(Self.app):1.4.2  # promoted by promobot\n+          image: \(Self.app):1.5.0  # promoted by promobot\n"))
            #expect(outcome.output.contains("-          image: \"\(Self.app):1.4.2\"\n+          image: \"\(Self.app):1.5.0\"\n"))
            #expect(!outcome.output.contains("web/deploy.yaml"))
            #expect(outcome.errors.contains("test/app/deploy.yaml:24: \(Self.app) 1.4.2 -> 1.5.0"))
        }
    }

    @Test func missingImageExitsOneAndWritesNothing() async throws {
        try withDeployRepo { root in
            let before = try snapshot(root)
            let outcome = try command(["registry.example.com/oms/nope:1.0.0", "\(Self.app):9.9.9", root]).execute()
            #expect(outcome.exitCode == 1)
            #expect(outcome.errors.contains("error: image registry.example.com/oms/nope not found in \(root)"))
            #expect(outcome.errors.contains("nothing was written"))
            #expect(try snapshot(root) == before)
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("set-image-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: Self.examples, toPath: root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var parsed = try command(["registry.example.com/oms/nope:1.0.0", root])
        await #expect(throws: ExitCode(1)) { try await parsed.run() }
    }

    @Test func alreadyAtTheTagIsUnchanged() throws {
        try withDeployRepo { root in
            let before = try snapshot(root)
            let outcome = try command(["\(Self.app):1.4.0", "registry.example.com/oms/web:1.4.0", root + "/prod"]).execute()
            #expect(outcome.exitCode == 0)
            #expect(outcome.changes.isEmpty)
            #expect(outcome.output.contains("prod/app/deploy.yaml:24: \(Self.app) already at 1.4.0 (unchanged)"))
            #expect(outcome.output.contains("prod/web/deploy.yaml:23: registry.example.com/oms/web already at 1.4.0 (unchanged)"))
            #expect(try snapshot(root) == before)
        }
    }

    @Test func aFileThatFailsBlocksAllWrites() throws {
        try withDeployRepo { root in
            try Data("image: [unclosed\n".utf8).write(to: URL(fileURLWithPath: root + "/dev/broken.yaml"))
            let before = try snapshot(root)
            let outcome = try command(["\(Self.app):2.0.0", root + "/dev"]).execute()
            #expect(outcome.exitCode == 1)
            #expect(outcome.errors.contains("\(root)/dev/broken.yaml:"))
            #expect(try snapshot(root) == before)
        }
    }

    @Test func anExistingPathWinsOverAnImageReading() throws {
        try withDeployRepo { root in
            let odd = root + "/web:2.0"
            try FileManager.default.createDirectory(atPath: odd, withIntermediateDirectories: true)
            let split = try SetImageCommand.classify(["nginx:1.0", odd])
            #expect(split.paths == [odd])
            #expect(split.updates == [ImageUpdate(image: "docker.io/library/nginx", tag: "1.0")])
        }
    }

    @Test(arguments: [["nginx:1.0"], ["/definitely/missing/path", "nginx:1"], ["Bad:Image:x", "/tmp"], ["nginx", "/tmp"]])
    func badArgumentsAreValidationErrors(_ arguments: [String]) {
        #expect(throws: (any Error).self) { _ = try Promobot.parseAsRoot(["set-image"] + arguments) }
        let message = Promobot.message(for: ValidationErrorProbe.error(for: arguments))
        // The message names the offending argument, or says what is missing.
        #expect(message.contains("'\(arguments[0])'") || message.contains("give at least one"), "\(message)")
    }
}

/// Captures the validation error `classify` raises, to check the message is actionable.
enum ValidationErrorProbe {
    static func error(for arguments: [String]) -> any Error {
        do {
            _ = try SetImageCommand.classify(arguments)
            return ValidationError("no error")
        } catch {
            return error
        }
    }
}
