import Foundation
import Testing
@testable import Git

@Suite struct RefreshTests {
    /// Local paths and file:// URLs both go through libgit2's local transport.
    static let urlStyles = ["path", "file"]

    func remote(_ fixture: GitFixture, style: String) -> GitRemote {
        GitRemote(url: style == "file" ? "file://" + fixture.origin.path : fixture.origin.path)
    }

    @Test(arguments: urlStyles)
    func clonesOnFirstUse(style: String) async throws {
        let fixture = try GitFixture()
        let first = try fixture.commit(["apps/api/prod/values.yaml": "tag: v1\n"])
        let cache = fixture.makeCache()
        let repo = try await cache.repository(for: remote(fixture, style: style))
        #expect(repo.counters == GitCounters())

        let result = try await repo.refresh(branches: ["main"])
        #expect(result.tips == ["main": first])
        #expect(result.fetched)
        #expect(result.remoteRefs["main"] == first)
        #expect(repo.counters == GitCounters(refListings: 1, fetches: 1, pushes: 0))
        #expect(cache.counters == repo.counters)
        #expect(try await repo.localTip(of: "main") == first)
        // A bare clone under the cache root, with no remote (and no URL) in its config.
        #expect(repo.path.deletingLastPathComponent().standardizedFileURL == fixture.cacheRoot.standardizedFileURL)
        #expect(FileManager.default.fileExists(atPath: repo.path.appendingPathComponent("HEAD").path))
        let config = try String(contentsOf: repo.path.appendingPathComponent("config"), encoding: .utf8)
        #expect(!config.contains("[remote"))
        #expect(!config.contains(fixture.origin.path))
    }

    @Test func sameRemoteGivesSameRepository() async throws {
        let fixture = try GitFixture()
        let cache = fixture.makeCache()
        let a = try await cache.repository(for: GitRemote(url: fixture.origin.path))
        let b = try await cache.repository(for: GitRemote(url: fixture.origin.path))
        #expect(a === b)
    }

    @Test func fetchesOnlyWhenTheRemoteMoved() async throws {
        let fixture = try GitFixture()
        let first = try fixture.commit(["apps/api/prod/values.yaml": "tag: v1\n"])
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))
        _ = try await repo.refresh(branches: ["main"])

        // Unchanged: one ref listing, no fetch.
        let unchanged = try await repo.refresh(branches: ["main"])
        #expect(!unchanged.fetched)
        #expect(unchanged.tips == ["main": first])
        #expect(repo.counters == GitCounters(refListings: 2, fetches: 1, pushes: 0))

        // A new commit: fetched incrementally, old and new contents both readable.
        let second = try fixture.commit(["apps/api/prod/values.yaml": "tag: v2\n"])
        let moved = try await repo.refresh(branches: ["main"])
        #expect(moved.fetched)
        #expect(moved.tips == ["main": second])
        #expect(repo.counters == GitCounters(refListings: 3, fetches: 2, pushes: 0))
        #expect(try await repo.readFile("apps/api/prod/values.yaml", at: first) == Data("tag: v1\n".utf8))
        #expect(try await repo.readFile("apps/api/prod/values.yaml", at: second) == Data("tag: v2\n".utf8))
        #expect(try await repo.localTip(of: "main") == second)
    }

    @Test func missingBranchIsAbsentAndOnlyWantedBranchesAreFetched() async throws {
        let fixture = try GitFixture()
        let main = try fixture.commit(["a.txt": "1"])
        let other = try fixture.commit(["b.txt": "2"], branch: "other")
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))

        let result = try await repo.refresh(branches: ["main", "promote/missing"])
        #expect(result.tips == ["main": main])
        #expect(result.remoteRefs == ["main": main, "other": other])
        #expect(try await repo.localTip(of: "other") == nil)  // not wanted: no tracking ref

        let tips = try await repo.remoteTips(branches: ["other", "promote/missing"])
        #expect(tips == ["other": other])
        #expect(repo.counters.refListings == 2)
        #expect(repo.counters.fetches == 1)
    }

    @Test func concurrentCallersAreSerialized() async throws {
        let fixture = try GitFixture()
        let tip = try fixture.commit(["apps/a.yaml": "a\n", "apps/b.yaml": "b\n"])
        let cache = fixture.makeCache()
        let remote = GitRemote(url: fixture.origin.path)
        _ = try await cache.repository(for: remote).refresh(branches: ["main"])
        let failures = Failures()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<8 {
                group.addTask {
                    do {
                        let repo = try await cache.repository(for: remote)
                        if index.isMultiple(of: 2) {
                            if try await repo.refresh(branches: ["main"]).tips["main"] != tip { failures.add("wrong tip") }
                        } else if try await repo.listFiles(under: "apps", at: tip) != ["apps/a.yaml", "apps/b.yaml"] {
                            failures.add("wrong listing")
                        }
                    } catch {
                        failures.add("\(error)")
                    }
                }
            }
        }
        #expect(failures.all.isEmpty)
        #expect(cache.counters == GitCounters(refListings: 5, fetches: 1, pushes: 0))
    }

    /// Caches on one root (processes sharing a cache folder, in miniature) each open their own handle on
    /// the same clone: its file lock makes them take turns, so every refresh of a fresh remote succeeds
    /// instead of failing on libgit2's lock files.
    @Test func cachesSharingOneRootRefreshTheSameFreshRemote() async throws {
        let fixture = try GitFixture()
        let tip = try fixture.commit(["apps/a.yaml": "a\n"])
        let remote = GitRemote(url: fixture.origin.path)
        let caches = (0..<4).map { _ in fixture.makeCache() }
        let results = try await withThrowingTaskGroup(of: RefreshResult.self) { group in
            for cache in caches {
                group.addTask { try await cache.repository(for: remote).refresh(branches: ["main"]) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.map(\.tips) == Array(repeating: ["main": tip], count: caches.count))
        #expect(caches.map(\.counters.fetches).reduce(0, +) >= 1)
        let repo = try await caches[0].repository(for: remote)
        #expect(try await repo.listFiles(under: "apps", at: tip) == ["apps/a.yaml"])
    }

    @Test func deletedRemoteBranchDropsTheTrackingRef() async throws {
        let fixture = try GitFixture()
        _ = try fixture.commit(["a.txt": "1"])
        let feature = try fixture.commit(["a.txt": "2"], branch: "feature")
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))
        #expect(try await repo.refresh(branches: ["feature"]).tips == ["feature": feature])
        try fixture.git("-C", fixture.origin.path, "branch", "-D", "feature")
        #expect(try await repo.refresh(branches: ["feature"]).tips.isEmpty)
        #expect(try await repo.localTip(of: "feature") == nil)
    }

    @Test(arguments: ["", "bad..name", "with space", "-leading/../x"])
    func invalidBranchNamesAreRejectedBeforeAnyNetworkCall(branch: String) async throws {
        let fixture = try GitFixture()
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))
        let error = try await #require(throws: GitError.self) { try await repo.refresh(branches: [branch]) }
        #expect(error.kind == .invalidArgument)
        #expect(repo.counters.refListings == 0)
    }

    @Test func folderNamesCarryNoCredentialsAndDifferPerURL() {
        let a = RepositoryCache.folderName(for: "https://gitlab.example.com/group/deploy.git")
        let b = RepositoryCache.folderName(for: "https://gitlab.example.com/group/deploy2.git")
        #expect(a.hasPrefix("gitlab.example.com-group-deploy-"))
        #expect(a.hasSuffix(".git"))
        #expect(a != b)
        let remote = GitRemote(url: "https://oauth2:SECRET@gitlab.example.com/group/deploy.git")
        #expect(remote.redactedURL == "https://gitlab.example.com/group/deploy.git")
        #expect(RepositoryCache.folderName(for: remote.redactedURL) == a)
        #expect(!remote.description.contains("SECRET"))
        #expect(!GitCredentials.token("SECRET").description.contains("SECRET"))
    }
}

/// Errors collected from several threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}
