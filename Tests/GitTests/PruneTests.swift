import Foundation
import Testing
@testable import Git

/// `RepositoryCache.prune`: only clones nobody keeps and nobody refreshed for the grace period go.
@Suite struct PruneTests {
    /// The fixture's origin and a second bare repository next to it, both cloned into one cache.
    func twoClones() async throws -> (GitFixture, RepositoryCache, kept: CachedRepository, dropped: CachedRepository) {
        let fixture = try GitFixture()
        try fixture.commit(["dev/deploy.yaml": "image: app:1.0.0\n"])
        let other = fixture.root.appendingPathComponent("other.git")
        try fixture.git("clone", "-q", "--bare", fixture.origin.path, other.path)
        let cache = fixture.makeCache()
        let kept = try await cache.repository(for: GitRemote(url: fixture.origin.path))
        let dropped = try await cache.repository(for: GitRemote(url: other.path))
        _ = try await kept.refresh(branches: ["main"])
        _ = try await dropped.refresh(branches: ["main"])
        return (fixture, cache, kept, dropped)
    }

    /// Sets a path's modification time `seconds` into the past.
    func backdate(_ path: String, by seconds: TimeInterval) {
        let then = Date().addingTimeInterval(-seconds).timeIntervalSince1970
        var times = [timeval(tv_sec: Int(then), tv_usec: 0), timeval(tv_sec: Int(then), tv_usec: 0)]
        #expect(utimes(path, &times) == 0)
    }

    @Test func anUnkeptCloneGoesOnlyAfterTheGracePeriod() async throws {
        let (fixture, cache, kept, dropped) = try await twoClones()
        // Things that are not clones of this cache are never touched.
        let foreign = ["notes.txt", "handmade.git", "UPPER-ABCDEF0123.git"]
        for name in foreign {
            try FileManager.default.createDirectory(at: cache.root.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        for name in foreign { backdate(cache.root.appendingPathComponent(name).path, by: 10 * 86_400) }

        // Refreshed a moment ago (by another shard, say): left alone.
        let recent = await cache.prune(keeping: [kept.remote])
        #expect(recent.removed.isEmpty)
        #expect(recent.recentlyUsed == [dropped.path.path])

        backdate(dropped.path.path, by: 2 * 86_400)
        backdate(kept.path.path, by: 30 * 86_400)
        let report = await cache.prune(keeping: [kept.remote])
        #expect(report.removed.map(\.folder) == [dropped.path.path])
        #expect(report.failures.isEmpty && report.busy.isEmpty)
        let pruned = try #require(report.removed.first)
        #expect(pruned.bytes > 0 && pruned.bytes == report.freedBytes)
        #expect(pruned.unusedFor > 86_400 && pruned.unusedFor < 3 * 86_400)
        #expect(!FileManager.default.fileExists(atPath: dropped.path.path))
        #expect(!FileManager.default.fileExists(atPath: FolderLock.lockPath(for: dropped.path)), "its lock file goes too")
        #expect(FileManager.default.fileExists(atPath: kept.path.appendingPathComponent("HEAD").path), "kept, however old")
        for name in foreign { #expect(FileManager.default.fileExists(atPath: cache.root.appendingPathComponent(name).path)) }

        // A repository object still held elsewhere clones again on its next use.
        let again = try await dropped.refresh(branches: ["main"])
        let originTip = try fixture.originTip("main")
        #expect(again.fetched && again.tips["main"] == originTip)
        // And the cache hands out a working repository for that remote again.
        let reopened = try await cache.repository(for: dropped.remote)
        #expect(try await reopened.readFile("dev/deploy.yaml", at: try #require(again.tips["main"])) == Data("image: app:1.0.0\n".utf8))
    }

    @Test func aRefreshMarksTheCloneRecentlyUsed() async throws {
        let (fixture, cache, kept, dropped) = try await twoClones()
        defer { withExtendedLifetime(fixture) {} }
        backdate(dropped.path.path, by: 2 * 86_400)
        _ = try await dropped.refresh(branches: ["main"])
        let age = Date().timeIntervalSince(try #require(RepositoryCache.modificationTime(dropped.path.path)))
        #expect(age < 60)
        let report = await cache.prune(keeping: [kept.remote])
        #expect(report.removed.isEmpty && report.recentlyUsed == [dropped.path.path])
    }

    /// Another process working on the clone holds its lock: the prune leaves it for next time.
    @Test func aCloneInUseIsLeftForLater() async throws {
        let (fixture, cache, kept, dropped) = try await twoClones()
        defer { withExtendedLifetime(fixture) {} }
        backdate(dropped.path.path, by: 2 * 86_400)
        let report = try FolderLock.withLock(dropped.path) {
            cache.blockingPrune(keeping: [kept.remote], unusedFor: 86_400, now: Date())
        }
        #expect(report.busy == [dropped.path.path] && report.removed.isEmpty)
        #expect(FileManager.default.fileExists(atPath: dropped.path.appendingPathComponent("HEAD").path))
    }

    @Test(arguments: [
        ("promobot.example.com-group-oms-deploy-0123456789.git", true),
        ("x-abcdef0123.git", true),
        ("abcdef0123.git", false),
        ("-abcdef0123.git", false),
        ("x-ABCDEF0123.git", false),
        ("x-abcdef012.git", false),
        ("x-abcdef0123.git.lock", false),
        ("notes.txt", false),
    ])
    func onlyThisCachesFolderNamesAreConsidered(name: String, isClone: Bool) {
        #expect(RepositoryCache.isCloneFolderName(name) == isClone)
    }

    @Test func folderNamesAreRecognizedAsClones() {
        for url in ["https://gitlab.example.com/group/oms-deploy.git", "/tmp/x/origin.git", "ssh://git@h:22/a/b"] {
            #expect(RepositoryCache.isCloneFolderName(RepositoryCache.folderName(for: url)), "\(url)")
        }
    }
}
