import Foundation
import Testing
import TestSupport
@testable import LocalFiles
@testable import Manifests

@Suite struct ManifestFilesTests {
    /// A fresh temporary folder, removed after `body`.
    func withTemporaryFolder(_ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("manifests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try body(folder)
    }

    func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func collectsYAMLSortedSkippingHidden() throws {
        try withTemporaryFolder { root in
            for name in ["b/deploy.yaml", "a/x.yml", "a/readme.md", ".git/config.yaml", "a/.hidden/y.yaml", "c.yaml"] {
                try write("k: v\n", root + "/" + name)
            }
            let files = try ManifestFiles.collect([root, root + "/c.yaml", root + "/a/readme.md"])
            #expect(files == [root + "/a/readme.md", root + "/a/x.yml", root + "/b/deploy.yaml", root + "/c.yaml"])
            #expect(throws: ManifestError.fileNotFound(root + "/missing")) { try ManifestFiles.collect([root + "/missing"]) }
        }
    }

    /// The one walk (`YAMLFileWalk`, shared with the policy loader) goes through a linked folder and names
    /// its files under the link.
    @Test func aLinkedFolderIsWalkedUnderTheNameGiven() throws {
        try withTemporaryFolder { root in
            try write("k: v\n", root + "/real/deploy.yaml")
            try write("k: v\n", root + "/real/.hidden.yaml")
            try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: root + "/real")
            #expect(try ManifestFiles.collect([root + "/link"]) == [root + "/link/deploy.yaml"])
            #expect(YAMLFileWalk.files(under: root + "/link/") == [root + "/link/deploy.yaml"])
        }
    }

    @Test func writeIsAtomicAndKeepsTheMode() throws {
        try withTemporaryFolder { root in
            let path = root + "/deploy.yaml"
            try write("old\n", path)
            #expect(chmod(path, 0o640) == 0)
            try ManifestFiles.write("new\r\ntext\n", to: path)
            #expect(try ManifestFiles.read(path) == "new\r\ntext\n")
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o640)
            // No temporary files are left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["deploy.yaml"])
        }
    }

    @Test func writeIntoAMissingFolderFailsWithThePath() {
        #expect {
            try ManifestFiles.write("x", to: "/nonexistent-\(UUID().uuidString)/f.yaml")
        } throws: { error in
            guard case ManifestError.io(let path, _) = error else { return false }
            return path.hasSuffix("/f.yaml")
        }
    }

    @Test func planProcessesAllFilesAndCollectsFailures() throws {
        try withTemporaryFolder { root in
            try write("image: registry.example.com/oms/app:1.0.0\n", root + "/a.yaml")
            try write("image: [broken\n", root + "/b.yaml")
            try write("image: registry.example.com/oms/app:1.0.0 # same\n", root + "/c.yaml")
            let update = ImageUpdate(image: "registry.example.com/oms/app", tag: "2.0.0")
            let plan = try ManifestFiles.plan(updates: [update], paths: [root])
            #expect(plan.files.map(\.path) == [root + "/a.yaml", root + "/c.yaml"])
            #expect(plan.failures.count == 1)
            #expect(plan.changes.map(\.line) == [1, 1])
            #expect(plan.unmatchedUpdates.isEmpty)
            // A plan with failures writes nothing.
            #expect(throws: ManifestError.self) { try ManifestFiles.commit(plan) }
            #expect(try ManifestFiles.read(root + "/a.yaml") == "image: registry.example.com/oms/app:1.0.0\n")

            try FileManager.default.removeItem(atPath: root + "/b.yaml")
            let good = try ManifestFiles.plan(updates: [update, ImageUpdate(image: "nginx", tag: "1")], paths: [root])
            #expect(good.unmatchedUpdates.map(\.image) == ["nginx"])
            try ManifestFiles.commit(good)
            #expect(try ManifestFiles.read(root + "/c.yaml") == "image: registry.example.com/oms/app:2.0.0 # same\n")
        }
    }

    // MARK: - Issue 8: files damaged or written half-way

    static let app = "registry.example.com/oms/app"
    static let update = ImageUpdate(image: app, tag: "2.0.0")

    func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func snapshot(_ root: String) throws -> [String: [UInt8]] { try fileBytes(under: root) }

    /// Three files in three folders; the plan changes all of them.
    func threeFolders(_ root: String) throws -> EditPlan {
        for folder in ["a", "b", "c"] { try write("image: \(Self.app):1.0.0\n", root + "/\(folder)/deploy.yaml") }
        let plan = try ManifestFiles.plan(updates: [Self.update], paths: [root])
        #expect(plan.files.filter(\.isChanged).count == 3)
        return plan
    }

    @Test func aFailedTemporaryWriteLeavesEveryFileAsItWas() throws {
        try withTemporaryFolder { root in
            let plan = try threeFolders(root)
            let before = try snapshot(root)
            #expect {
                try ManifestFiles.commit(plan) { step, path in step == .stage && path.hasPrefix(root + "/c/") ? EACCES : nil }
            } throws: { error in
                guard case let ManifestError.io(path, detail) = error else { return false }
                return path == root + "/c/deploy.yaml" && detail.contains("Permission denied") && detail.contains("nothing was written")
            }
            #expect(try snapshot(root) == before)
        }
    }

    @Test func aFailedRenameRestoresTheFilesAlreadyReplaced() throws {
        try withTemporaryFolder { root in
            let plan = try threeFolders(root)
            let before = try snapshot(root)
            #expect {
                try ManifestFiles.commit(plan) { step, path in step == .replace && path.hasPrefix(root + "/c/") ? EBUSY : nil }
            } throws: { error in
                guard case let ManifestError.io(path, detail) = error else { return false }
                return path == root + "/c/deploy.yaml" && detail.contains("restored the 2 file(s) already written")
                    && detail.contains(root + "/a/deploy.yaml") && detail.contains(root + "/b/deploy.yaml")
            }
            #expect(try snapshot(root) == before)
        }
    }

    @Test func aFailedRestoreIsNamed() throws {
        try withTemporaryFolder { root in
            let plan = try threeFolders(root)
            #expect {
                try ManifestFiles.commit(plan) { step, path in
                    (step == .replace && path.hasPrefix(root + "/c/")) || (step == .restore && path.hasPrefix(root + "/a/")) ? EIO : nil
                }
            } throws: { error in
                "\(error)".contains("could NOT restore \(root)/a/deploy.yaml") && "\(error)".contains("restored the 1 file(s)")
            }
            #expect(try ManifestFiles.read(root + "/a/deploy.yaml") == "image: \(Self.app):2.0.0\n")
            #expect(try ManifestFiles.read(root + "/b/deploy.yaml") == "image: \(Self.app):1.0.0\n")
        }
    }

    /// The same through the file system: the last folder cannot be written (read-only for a user; for root,
    /// which ignores modes, immutable through `chattr +i` when the file system allows it).
    @Test func aReadOnlyFolderLeavesEveryFileAsItWas() throws {
        try withTemporaryFolder { root in
            let plan = try threeFolders(root)
            let before = try snapshot(root)
            guard let restore = makeUnwritable(root + "/c") else {
                // Neither works here; the injected failures above cover the same path.
                return
            }
            defer { restore() }
            #expect(throws: ManifestError.self) { try ManifestFiles.commit(plan) }
            #expect(try snapshot(root) == before)
        }
    }

    /// Makes `folder` refuse new files; returns how to undo it, or nil when this environment cannot.
    func makeUnwritable(_ folder: String) -> (() -> Void)? {
        if getuid() != 0 {
            guard chmod(folder, 0o555) == 0 else { return nil }
            return { _ = chmod(folder, 0o755) }
        }
        func chattr(_ flag: String) -> Bool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
            process.arguments = [flag, folder]
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return false }
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chattr"), chattr("+i") else { return nil }
        return { _ = chattr("-i") }
    }

    @Test func aLinkInsideThePathsEditsItsTargetAndStaysALink() throws {
        try withTemporaryFolder { root in
            try write("image: \(Self.app):1.0.0\n", root + "/base/deploy.yaml")
            try FileManager.default.createDirectory(atPath: root + "/dev", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: root + "/dev/deploy.yaml", withDestinationPath: "../base/deploy.yaml")
            let plan = try ManifestFiles.plan(updates: [Self.update], paths: [root + "/dev", root + "/base"])
            #expect(plan.files.map(\.path) == [root + "/base/deploy.yaml"], "one file, named by its real path")
            try ManifestFiles.commit(plan)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/dev/deploy.yaml") == "../base/deploy.yaml")
            #expect(try ManifestFiles.read(root + "/base/deploy.yaml") == "image: \(Self.app):2.0.0\n")

            // Named only through the link: the link is the path shown, its target is what changes.
            let again = try ManifestFiles.plan(updates: [ImageUpdate(image: Self.app, tag: "3.0.0")], paths: [root + "/dev/deploy.yaml"])
            #expect(again.files.map(\.path) == [root + "/dev/deploy.yaml"])
            try ManifestFiles.commit(again)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/dev/deploy.yaml") == "../base/deploy.yaml")
            #expect(try ManifestFiles.read(root + "/base/deploy.yaml") == "image: \(Self.app):3.0.0\n")
        }
    }

    @Test func aLinkOutsideThePathsIsRefusedWhenItWouldChange() throws {
        try withTemporaryFolder { root in
            try write("image: \(Self.app):1.0.0\n", root + "/shared/deploy.yaml")
            try write("image: \(Self.app):1.0.0\n", root + "/dev/own.yaml")
            try FileManager.default.createSymbolicLink(atPath: root + "/dev/deploy.yaml", withDestinationPath: "../shared/deploy.yaml")
            let plan = try ManifestFiles.plan(updates: [Self.update], paths: [root + "/dev"])
            #expect(plan.failures == [.linkOutsidePaths(path: root + "/dev/deploy.yaml", target: root + "/shared/deploy.yaml")])
            #expect(plan.refusesToWrite)
            #expect(plan.unmatchedUpdates.isEmpty, "the image is in the refused file: refused, not missing")

            // Not holding the image, the same link is read and left alone.
            let other = try ManifestFiles.plan(updates: [ImageUpdate(image: "nginx", tag: "1.25")], paths: [root + "/dev"])
            #expect(other.failures.isEmpty)
        }
    }

    @Test func aFileNamedTwiceIsEditedOnce() throws {
        try withTemporaryFolder { root in
            try write("image: \(Self.app):1.0.0\n", root + "/deploy.yaml")
            let plan = try ManifestFiles.plan(updates: [Self.update], paths: [root + "/deploy.yaml", root + "/./deploy.yaml", root])
            #expect(plan.files.count == 1)
            #expect(plan.changes.count == 1)
        }
    }

    @Test func aByteOrderMarkIsKept() throws {
        try withTemporaryFolder { root in
            let path = root + "/deploy.yaml"
            try Data([0xEF, 0xBB, 0xBF] + Array("image: \(Self.app):1.0.0\r\nkind: Pod\r\n".utf8)).write(to: URL(fileURLWithPath: path))
            let plan = try ManifestFiles.plan(updates: [Self.update], paths: [path])
            try ManifestFiles.commit(plan)
            #expect(try bytes(path) == [0xEF, 0xBB, 0xBF] + Array("image: \(Self.app):2.0.0\r\nkind: Pod\r\n".utf8))
            #expect(plan.changes.map(\.line) == [1])
        }
    }

    @Test func readSaysWhyItCannot() throws {
        try withTemporaryFolder { root in
            let big = root + "/big.yaml"
            try Data(repeating: UInt8(ascii: "#"), count: ManifestLimits.maxFileBytes + 1).write(to: URL(fileURLWithPath: big))
            #expect(throws: ManifestError.tooLarge(path: big, bytes: ManifestLimits.maxFileBytes + 1, limit: ManifestLimits.maxFileBytes)) {
                try ManifestFiles.read(big)
            }
            #expect("\(ManifestError.tooLarge(path: big, bytes: 52_428_800, limit: ManifestLimits.maxFileBytes))"
                == "\(big): the file is 50 MiB (52428800 bytes), over the 4 MiB limit for manifests; split it into smaller files (nothing was changed)")
            try write("x", root + "/folder.yaml/inner.yaml")
            #expect(throws: ManifestError.io(path: root + "/folder.yaml", detail: "cannot read the file: not a regular file")) {
                try ManifestFiles.read(root + "/folder.yaml")
            }
            try Data([0x69, 0x3A, 0x20, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: root + "/latin1.yaml"))
            #expect(throws: ManifestError.io(path: root + "/latin1.yaml", detail: "cannot read the file: it is not UTF-8 text")) {
                try ManifestFiles.read(root + "/latin1.yaml")
            }
        }
    }

    @Test func aRefusedFileHoldingTheImageIsNotReportedMissing() throws {
        try withTemporaryFolder { root in
            // A block scalar over two lines: refused, and not read as a version, but it holds the image.
            try write("containers:\n  - image: |-\n      \(Self.app):1.0.0\n      --pull\n", root + "/block.yaml")
            let plan = try ManifestFiles.plan(updates: [Self.update], paths: [root])
            #expect(plan.failures.count == 1)
            #expect(plan.unmatchedUpdates.isEmpty)
        }
    }
}
