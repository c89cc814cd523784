import ArgumentParser
import Foundation
import LocalFiles
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
        let parsed = try command(["registry.example.com/oms/nope:1.0.0", root])
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

extension SetImageCommandTests {
    /// Issue 8: nothing from a file name, a file or argv reaches the output unescaped, so no value can
    /// start a line of its own (`fake.yaml:1:1: error: ...`) or send an escape sequence to the CI log.
    @Test func controlCharactersInPathsAndArgumentsAreEscaped() throws {
        try withDeployRepo { root in
            let odd = root + "/dev/evil\nfake.yaml:1:1: error: forged\u{1B}[31m.yaml"
            try Data("image: \(Self.app):1.0.0\n".utf8).write(to: URL(fileURLWithPath: odd))
            let outcome = try command(["--dry-run", "\(Self.app):1.6.0", root + "/dev"]).execute()
            #expect(outcome.exitCode == 0, "\(outcome.errors)")
            for text in [outcome.errors, outcome.output] {
                #expect(!text.contains("\u{1B}"))
                #expect(!text.split(separator: "\n").contains { $0.hasPrefix("fake.yaml") })
            }
            #expect(outcome.errors.contains("evil\\nfake.yaml:1:1: error: forged\\e[31m.yaml:1: \(Self.app) 1.0.0 -> 1.6.0"))

            let refused = try command(["\(Self.app):1.6.0", root + "/dev"])
            try Data("image: [\(Self.app):1.0.0\n".utf8).write(to: URL(fileURLWithPath: odd))
            let failed = refused.execute()
            #expect(failed.exitCode == 1)
            #expect(!failed.errors.contains("\u{1B}") && failed.errors.contains("evil\\nfake.yaml"))
        }
        let message = Promobot.message(for: ValidationErrorProbe.error(for: ["nginx:\u{1B}[2J\nfake", "/tmp"]))
        #expect(!message.contains("\u{1B}") && !message.contains("\n"), "\(message)")
    }

    @Test func twoUpdatesForOneImageAreAUsageError() {
        for arguments in [["nginx:1", "docker.io/library/nginx:2", "/tmp"], ["nginx:1", "nginx:1", "/tmp"]] {
            #expect(throws: ValidationError.self) { _ = try SetImageCommand.classify(arguments) }
            let error = ValidationErrorProbe.error(for: arguments)
            #expect(Promobot.exitStatus(for: error) == ExitCode(2))
            #expect(Promobot.message(for: error).contains("both set docker.io/library/nginx; give one update per image"))
        }
    }

    /// A file that holds the image but is refused is an error of its own, not also "image not found".
    @Test func aRefusedFileIsNotAlsoReportedAsNotFound() throws {
        try withDeployRepo { root in
            let only = root + "/only"
            try FileManager.default.createDirectory(atPath: only, withIntermediateDirectories: true)
            // A block scalar over two lines (one line would be edited in place).
            try Data("containers:\n  - image: >-\n      \(Self.app):1.0.0\n      --pull\n".utf8).write(to: URL(fileURLWithPath: only + "/block.yaml"))
            let outcome = try command(["\(Self.app):1.6.0", only]).execute()
            #expect(outcome.exitCode == 1)
            #expect(outcome.errors.contains("block.yaml:2:12: the value is a block scalar ('>-') over 2 lines"), "\(outcome.errors)")
            #expect(!outcome.errors.contains("not found"), "\(outcome.errors)")
            #expect(outcome.errors.contains("nothing was written"))
        }
    }

    @Test func aBrokenFileWithBracesInAComment() throws {
        try withDeployRepo { root in
            try Data("# {{ .Values.image }}\nimage: [broken\n".utf8).write(to: URL(fileURLWithPath: root + "/dev/broken.yaml"))
            let before = try snapshot(root)
            let outcome = try command(["\(Self.app):2.0.0", root + "/dev"]).execute()
            #expect(outcome.exitCode == 1)
            #expect(outcome.errors.contains("\(root)/dev/broken.yaml:3:1: not valid YAML"), "\(outcome.errors)")
            #expect(!outcome.errors.contains("notice:"))
            #expect(try snapshot(root) == before)
        }
    }

    /// The same file named twice (and through a link) is edited and reported once; the link stays a link.
    @Test func aFileNamedTwiceOrLinkedIsReportedOnce() throws {
        try withDeployRepo { root in
            let deploy = root + "/dev/app/deploy.yaml"
            try FileManager.default.createSymbolicLink(atPath: root + "/dev/link.yaml", withDestinationPath: "app/deploy.yaml")
            let outcome = try command(["\(Self.app):1.6.0", deploy, deploy, root + "/dev/./app/deploy.yaml", root + "/dev/link.yaml"]).execute()
            #expect(outcome.exitCode == 0, "\(outcome.errors)")
            #expect(outcome.output == "\(deploy):24: \(Self.app) 1.5.0 -> 1.6.0\n")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/dev/link.yaml") == "app/deploy.yaml")
        }
    }

    // MARK: - Manifest shapes (issue 13, section 4)

    /// A kustomize entry runs its `newName` image: set-image edits it for that image, and for its `name`
    /// edits nothing, says why in a notice and exits 1 (the image is found nowhere else).
    @Test func aKustomizeRenameIsEditedForNewNameOnly() throws {
        try withDeployRepo { root in
            let overlay = root + "/overlay"
            try FileManager.default.createDirectory(atPath: overlay, withIntermediateDirectories: true)
            let text = "kind: Kustomization\nimages:\n  - name: app\n    newName: registry.example.com/new-app\n    newTag: 1.0\n"
            try Data(text.utf8).write(to: URL(fileURLWithPath: overlay + "/kustomization.yaml"))

            let byName = try command(["app:2.0", overlay]).execute()
            #expect(byName.exitCode == 1)
            #expect(byName.errors.contains("notice: \(overlay)/kustomization.yaml:3: not edited for app: this kustomize images entry renames it to registry.example.com/new-app (newName)"), "\(byName.errors)")
            #expect(byName.errors.contains("error: image docker.io/library/app not found in \(overlay)"), "\(byName.errors)")
            #expect(try String(contentsOfFile: overlay + "/kustomization.yaml", encoding: .utf8) == text)

            let byNewName = try command(["registry.example.com/new-app:2.0", overlay]).execute()
            #expect(byNewName.exitCode == 0, "\(byNewName.errors)")
            #expect(byNewName.output == "\(overlay)/kustomization.yaml:5: registry.example.com/new-app 1.0 -> 2.0\n")
            #expect(try String(contentsOfFile: overlay + "/kustomization.yaml", encoding: .utf8)
                    == text.replacingOccurrences(of: "newTag: 1.0", with: "newTag: \"2.0\""))
        }
    }

    /// Shapes edited in place: a Helm block whose `digest` is null, `~`, nothing or `""` (it pins nothing),
    /// and an image written as a block scalar on one line (the block style is kept).
    @Test(arguments: [
        "image:\n  repository: \(app)\n  tag: 1.5.0\n  digest: null\n",
        "image:\n  repository: \(app)\n  tag: 1.5.0\n  digest: ~\n",
        "image:\n  repository: \(app)\n  tag: 1.5.0\n  digest:\n",
        "image:\n  repository: \(app)\n  tag: 1.5.0\n  digest: \"\"\n",
        "containers:\n  - image: >-\n      \(app):1.5.0\n",
    ])
    func aShapeIsEditedInPlace(_ text: String) throws {
        try withDeployRepo { root in
            let folder = root + "/shape"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/values.yaml"))
            let outcome = try command(["\(Self.app):1.6.0", folder]).execute()
            #expect(outcome.exitCode == 0, "\(outcome.errors)")
            #expect(try String(contentsOfFile: folder + "/values.yaml", encoding: .utf8)
                    == text.replacingOccurrences(of: "1.5.0", with: "1.6.0"))
        }
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
