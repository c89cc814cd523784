import Foundation
import Testing
@testable import Manifests

@Suite struct UnifiedDiffTests {
    @Test func equalTextsHaveNoDiff() {
        #expect(UnifiedDiff.render(path: "a.yaml", old: "x\n", new: "x\n") == "")
    }

    @Test func oneChangedLineWithContext() {
        let old = (1...10).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let new = old.replacingFirst("line 5", with: "line five")
        #expect(UnifiedDiff.render(path: "dev/app/deploy.yaml", old: old, new: new) == """
            --- a/dev/app/deploy.yaml
            +++ b/dev/app/deploy.yaml
            @@ -2,7 +2,7 @@
             line 2
             line 3
             line 4
            -line 5
            +line five
             line 6
             line 7
             line 8

            """)
    }

    @Test func distantChangesMakeTwoHunksAndInsertionsCount() {
        let old = (1...20).map { "l\($0)" }.joined(separator: "\n") + "\n"
        var new = old.replacingFirst("l2\n", with: "l2\nnew\n")
        new = new.replacingFirst("l19", with: "L19")
        let diff = UnifiedDiff.render(path: "f", old: old, new: new, context: 1)
        #expect(diff == """
            --- a/f
            +++ b/f
            @@ -2,2 +2,3 @@
             l2
            +new
             l3
            @@ -18,3 +19,3 @@
             l18
            -l19
            +L19
             l20

            """)
    }

    @Test func missingFinalNewlineIsMarked() {
        let diff = UnifiedDiff.render(path: "f", old: "a\nb", new: "a\nc")
        #expect(diff.hasSuffix("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"))
    }
}

/// Issue 8, class 11: the `--dry-run` diff must apply with the real `patch` and `git apply` whatever the
/// line endings (CRLF, mixed, lone CR, no final newline, a byte-order mark).
@Suite struct UnifiedDiffApplyTests {
    static let app = "registry.example.com/oms/app"

    static let texts: [(String, String)] = [
        ("crlf", "kind: Deployment\r\nspec:\r\n  containers:\r\n    - name: app\r\n      image: \(app):1.0.0\r\n      args: [a]\r\n"),
        ("mixed", "kind: Deployment\r\nspec:\n  containers:\r\n    - image: \(app):1.0.0\n      name: a\r\n    - image: \(app):1.0.0 # b\r\n"),
        ("cr-only", "kind: Kustomization\rimages:\r  - name: \(app)\r    newName: \(app)\r  - name: nginx\r"),
        ("no-final-newline-crlf", "a: 1\r\nimage: \(app):1.0.0\r\nb: 2"),
        ("bom-crlf-insert", "\u{FEFF}kind: Kustomization\r\nimages:\r\n  - name: \(app)\r\n  - name: nginx\r\n    newTag: \"1.0\"\r\n"),
    ]

    static func run(_ tool: String, _ arguments: [String], in folder: String, input: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let stdin = Pipe(), output = Pipe()
        process.standardInput = stdin
        process.standardOutput = output
        process.standardError = output
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test(arguments: texts.map(\.0))
    func theDiffAppliesWithPatchAndGitApply(_ name: String) throws {
        let old = try #require(Self.texts.first { $0.0 == name }?.1)
        let new = try ManifestEditor.edit(old, path: "deploy.yaml", updates: [ImageUpdate(image: Self.app, tag: "1.2.3")]).text
        #expect(new != old)
        let diff = UnifiedDiff.render(path: "dev/deploy.yaml", old: old, new: new)
        for (tool, arguments) in [("/usr/bin/patch", ["-p1", "--batch", "--quiet"]), ("/usr/bin/git", ["apply", "-"])] {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("diff-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder + "/dev", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try Data(old.utf8).write(to: URL(fileURLWithPath: folder + "/dev/deploy.yaml"))
            let (status, output) = try Self.run(tool, arguments, in: folder, input: diff)
            #expect(status == 0, "\(tool) rejected the diff for \(name): \(output)\n\(diff)")
            let applied = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/dev/deploy.yaml")))
            #expect(applied == Array(new.utf8), "\(tool) on \(name)")
        }
    }

    /// Thousands of distant changes: Myers' trace grew with D·(N+M) (gigabytes at 4 MiB); the resync diff
    /// is linear, and what it emits still applies.
    @Test func manyDistantChangesStayLinearAndApply() throws {
        let container = "  - name: c\n    image: \(Self.app):1.0.0\n    env: []\n"
        let old = "containers:\n" + String(repeating: container, count: 5_000)
        let new = try ManifestEditor.edit(old, path: "d.yaml", updates: [ImageUpdate(image: Self.app, tag: "1.2.3")]).text
        let started = Date()
        let diff = UnifiedDiff.render(path: "d.yaml", old: old, new: new)
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(diff.components(separatedBy: "\n-    image:").count - 1 == 5_000)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("diff-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(old.utf8).write(to: URL(fileURLWithPath: folder + "/d.yaml"))
        let (status, output) = try Self.run("/usr/bin/patch", ["-p1", "--batch", "--quiet"], in: folder, input: diff)
        #expect(status == 0, "\(output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/d.yaml")) == Data(new.utf8))
    }

    @Test func theResyncDiffEqualsMyersOnSmallEdits() {
        let old = (1...40).map { "line \($0 % 7)" }
        var new = old
        new[3] = "changed"
        new.insert("inserted", at: 20)
        new.remove(at: 30)
        func apply(_ operations: [UnifiedDiff.Operation]) -> [String] {
            operations.compactMap { $0.kind == .delete ? nil : ($0.kind == .insert ? new[$0.newIndex] : old[$0.oldIndex]) }
        }
        #expect(apply(UnifiedDiff.resync(old, new)) == new)
        #expect(apply(UnifiedDiff.diff(old, new)) == new)
    }

    @Test func aControlCharacterInThePathCannotStartALine() {
        let diff = UnifiedDiff.render(path: "a\n+++ b/evil", old: "x\n", new: "y\n")
        #expect(diff.hasPrefix("--- a/a\\n+++ b/evil\n+++ b/a\\n+++ b/evil\n@@"))
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
