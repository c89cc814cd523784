import Foundation
import Testing
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
}
