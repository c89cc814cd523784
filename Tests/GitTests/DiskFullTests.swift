import Foundation
import Testing
import TestSupport
@testable import Git

/// A cache on a full disk: a clear error naming the folder, nothing half-written kept or pushed, and
/// everything works again once there is room. The full disk is a size-limited tmpfs mounted over the
/// cache folder (needs root; skipped elsewhere, where `GitErrorClassificationTests` still covers the words).
@Suite(.enabled(if: SmallFilesystem.available, "mounting a tmpfs needs root"))
struct DiskFullTests {
    @Test func aCloneThatDoesNotFitFailsClearlyAndLeavesNothingBehind() async throws {
        let fixture = try GitFixture()
        // Incompressible, so the pack cannot fit either.
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try FileManager.default.createDirectory(at: fixture.work.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        try Data(noise).write(to: fixture.work.appendingPathComponent("blobs/noise.bin"))
        let tip = try fixture.commit(["dev/deploy.yaml": "image: app:1.0.0\n"])

        try await SmallFilesystem.with(at: fixture.cacheRoot, bytes: 512 * 1024) {
            let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))
            let free = SmallFilesystem.freeBytes(fixture.cacheRoot)
            let error = try await #require(throws: GitError.self) { try await repo.refresh(branches: ["main"]) }
            #expect(error.kind == .diskFull)
            #expect(error.folder == repo.path.path)
            #expect(error.description.hasPrefix("git: no space left on device while fetching \(fixture.origin.path) into \(repo.path.path): free space or move the cache"),
                    "\(error)")
            #expect(error.attempts == 1, "a full disk is not retried")
            // The half-downloaded pack is gone, and no ref points anywhere.
            let packs = try FileManager.default.contentsOfDirectory(atPath: repo.path.appendingPathComponent("objects/pack").path)
            #expect(packs.isEmpty, "\(packs)")
            #expect(SmallFilesystem.freeBytes(fixture.cacheRoot) >= free - 64 * 1024)
            #expect(try await repo.localTip(of: "main") == nil)
            // Not mistaken for damage: the clone is not deleted and made again.
            try SmallFilesystem.resize(fixture.cacheRoot, bytes: 8 << 20)
            let result = try await repo.refresh(branches: ["main"])
            #expect(result.tips == ["main": tip] && result.recovered.isEmpty)
        }
    }

    @Test func aCommitOnAFullDiskFailsClearlyAndPushesNothing() async throws {
        let fixture = try GitFixture()
        let tip = try fixture.commit(["dev/deploy.yaml": "image: app:1.0.0\n"])
        let signature = GitSignature(name: "promobot", email: "promobot@example.com", time: Date(timeIntervalSince1970: 1_750_000_000))

        try await SmallFilesystem.with(at: fixture.cacheRoot, bytes: 1 << 20) {
            let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))
            _ = try await repo.refresh(branches: ["main"])
            let filler = try SmallFilesystem.fill(fixture.cacheRoot)

            let changes = ["dev/deploy.yaml": Data("image: app:2.0.0\n".utf8)]
            let error = try await #require(throws: GitError.self) {
                try await repo.commit(parent: tip, changes: changes, author: signature, message: "promote")
            }
            #expect(error.kind == .diskFull)
            #expect(error.description.hasPrefix("git: no space left on device while committing to \(fixture.origin.path) into \(repo.path.path)"), "\(error)")
            #expect(try fixture.originTip("promote/x") == nil)

            try FileManager.default.removeItem(at: filler)
            let commit = try await repo.commit(parent: tip, changes: changes, author: signature, message: "promote")
            try await repo.push(commit, to: "promote/x", expecting: nil)
            #expect(try fixture.originTip("promote/x") == commit)
            #expect(try fixture.git("-C", fixture.origin.path, "fsck", "--no-dangling").isEmpty)
        }
    }
}

/// The words that make a failure `.diskFull`, without a file system to fill.
@Suite struct GitErrorClassificationTests {
    /// libgit2's error classes: 2 OS, 9 ODB, 12 NET, 34 HTTP.
    @Test(arguments: [
        ("cannot extend packfile '/c/x.git/objects/pack/pack_git2_1': No space left on device", 2, true),
        ("failed to write loose object: Disk quota exceeded", 2, true),
        ("unexpected http status code: 507 No space left on device", 34, false),
        ("remote: error: No space left on device", 12, false),
        ("object not found - no match for id (ab)", 9, false),
    ] as [(String, Int32, Bool)])
    func diskFullIsALocalWriteThatRanOutOfSpace(message: String, errorClass: Int32, full: Bool) {
        #expect(GitError.isDiskFull(message: message, errorClass: errorClass) == full)
    }

    @Test func theDescriptionSaysWhatToDo() {
        var error = GitError(kind: .diskFull, operation: "git_remote_download",
                             message: "cannot extend packfile: No space left on device", code: -1,
                             remote: "https://gitlab.example.com/group/x.git")
        error.folder = "/cache/gitlab.example.com-group-x-0123456789.git"
        error.activity = "fetching"
        #expect(error.description == "git: no space left on device while fetching https://gitlab.example.com/group/x.git "
                + "into /cache/gitlab.example.com-group-x-0123456789.git: free space or move the cache (`cache:` in promobot.yaml); "
                + "nothing half-written was used or pushed (git_remote_download: cannot extend packfile: No space left on device [libgit2 code -1])")
    }
}
