import Foundation
import Testing
@testable import Git

/// `RepositoryCache(maxOpenRepositories:)`: past the limit, idle clones close their libgit2 handle and
/// reopen on their next use, with nothing lost; a clone in use is never closed under its user.
@Suite struct OpenHandleLimitTests {
    /// `count` bare repositories next to the fixture's origin, each a copy of it.
    func origins(_ fixture: GitFixture, count: Int) throws -> [GitRemote] {
        try (0..<count).map { index in
            let path = fixture.root.appendingPathComponent("origin-\(index).git")
            try fixture.git("clone", "-q", "--bare", fixture.origin.path, path.path)
            return GitRemote(url: path.path)
        }
    }

    @Test func idleClonesCloseOldestFirstAndReopenOnUse() async throws {
        let fixture = try GitFixture()
        try fixture.commit(["dev/deploy.yaml": "image: app:1.0.0\n"])
        let tip = try #require(try fixture.originTip("main"))
        let remotes = try origins(fixture, count: 5)
        let cache = RepositoryCache(root: fixture.cacheRoot, options: GitTransportOptions(proxyFromEnvironment: false),
                                    maxOpenRepositories: 2)
        var repositories: [CachedRepository] = []
        for remote in remotes {
            let repository = try await cache.repository(for: remote)
            _ = try await repository.refresh(branches: ["main"])
            repositories.append(repository)
            #expect(cache.openRepositoryCount <= 2)
        }
        #expect(cache.openRepositoryCount == 2)
        #expect(cache.closedRepositoryHandles == 3)
        // The two most recently used are the open ones: using them again closes nothing.
        for repository in repositories.suffix(2) {
            #expect(try await repository.readFile("dev/deploy.yaml", at: tip) == Data("image: app:1.0.0\n".utf8))
        }
        #expect(cache.closedRepositoryHandles == 3)
        // A closed clone reopens with everything it fetched: no refetch, same content.
        for repository in repositories {
            #expect(try await repository.readFile("dev/deploy.yaml", at: tip) == Data("image: app:1.0.0\n".utf8))
            let again = try await repository.refresh(branches: ["main"])
            #expect(!again.fetched && again.tips["main"] == tip)
        }
        #expect(cache.openRepositoryCount == 2)
    }

    @Test func aCloneInUseIsNeverClosedUnderItsUser() async throws {
        let fixture = try GitFixture()
        try fixture.commit(["dev/deploy.yaml": "image: app:1.0.0\n"])
        let tip = try #require(try fixture.originTip("main"))
        let remotes = try origins(fixture, count: 6)
        let cache = RepositoryCache(root: fixture.cacheRoot, options: GitTransportOptions(proxyFromEnvironment: false),
                                    maxOpenRepositories: 1)
        var repositories: [CachedRepository] = []
        for remote in remotes {
            let repository = try await cache.repository(for: remote)
            _ = try await repository.refresh(branches: ["main"])
            repositories.append(repository)
        }
        // Many readers at once over a limit of one: every read succeeds (a busy clone stays open until idle).
        try await withThrowingTaskGroup(of: Data?.self) { group in
            for round in 0..<60 {
                let repository = repositories[round % repositories.count]
                group.addTask { try await repository.readFile("dev/deploy.yaml", at: tip) }
            }
            for try await data in group { #expect(data == Data("image: app:1.0.0\n".utf8)) }
        }
        #expect(cache.openRepositoryCount <= remotes.count)
        // Once all are idle, the next use brings the count back down to the limit.
        _ = try await repositories[0].readFile("dev/deploy.yaml", at: tip)
        #expect(cache.openRepositoryCount == 1)
    }
}

extension OpenHandleLimitTests {
    /// `serve` builds a new cache every cycle: a dropped cache must free its clones and their handles.
    @Test func aDroppedCacheFreesItsClones() async throws {
        let fixture = try GitFixture()
        try fixture.commit(["dev/deploy.yaml": "image: app:1.0.0\n"])
        let remotes = try origins(fixture, count: 3)
        weak var freed: CloneFolder?
        do {
            let cache = RepositoryCache(root: fixture.cacheRoot, options: GitTransportOptions(proxyFromEnvironment: false),
                                        maxOpenRepositories: 2)
            for remote in remotes {
                let repository = try await cache.repository(for: remote)
                _ = try await repository.refresh(branches: ["main"])
                freed = repository.folder
            }
            #expect(freed != nil && cache.openRepositoryCount == 2)
        }
        // The thread that ran the last git call lets go of its closure a moment after resuming the caller.
        let deadline = ContinuousClock.now + .seconds(5)
        while freed != nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(freed == nil, "the cache's clones (and their libgit2 handles) outlive it")
    }
}
