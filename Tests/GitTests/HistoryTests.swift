import Foundation
import Testing
@testable import Git

@Suite struct HistoryTests {
    /// c1 (t0) sets prod v1; c2 (t1) touches another path; c3 (t2) sets prod v2; c4 (t3) touches another path.
    struct Scenario {
        let fixture: GitFixture
        let repo: CachedRepository
        let commits: [ObjectID]
        let times: [Date]
    }

    func scenario() async throws -> Scenario {
        let fixture = try GitFixture()
        let base = Date(timeIntervalSince1970: 1_700_000_000)
        let times = (0..<4).map { base.addingTimeInterval(Double($0) * 3600) }
        let c1 = try fixture.commit(["apps/api/prod/values.yaml": "tag: v1\n", "apps/api/dev/values.yaml": "tag: v1\n"], date: times[0])
        let c2 = try fixture.commit(["apps/api/dev/values.yaml": "tag: v2\n"], date: times[1])
        let c3 = try fixture.commit(["apps/api/prod/values.yaml": "tag: v2\n"], date: times[2])
        let c4 = try fixture.commit(["docs/notes.md": "hello\n"], date: times[3])
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))
        _ = try await repo.refresh(branches: ["main"])
        return Scenario(fixture: fixture, repo: repo, commits: [c1, c2, c3, c4], times: times)
    }

    @Test func horizonBetweenChangesIncludesTheStateAtTheHorizon() async throws {
        let s = try await scenario()
        let since = s.times[0].addingTimeInterval(1800)
        let history = try await s.repo.history(from: s.commits[3], paths: ["apps/api/prod"], since: since, maxCommits: 100)
        #expect(history.map(\.commit) == [s.commits[2], s.commits[0]])
        #expect(history[0].files == ["apps/api/prod/values.yaml": Data("tag: v2\n".utf8)])
        #expect(history[0].time == s.times[2])
        #expect(history[1].files == ["apps/api/prod/values.yaml": Data("tag: v1\n".utf8)])
        #expect(history[1].time == s.times[0])
    }

    @Test func horizonAfterTheLastChangeReturnsOnlyTheCommitInEffect() async throws {
        let s = try await scenario()
        let since = s.times[2].addingTimeInterval(60)
        let history = try await s.repo.history(from: s.commits[3], paths: ["apps/api/prod/values.yaml"], since: since, maxCommits: 100)
        #expect(history.map(\.commit) == [s.commits[2]])
    }

    @Test func horizonBeforeAllCommitsListsEveryChangeNewestFirst() async throws {
        let s = try await scenario()
        let since = s.times[0].addingTimeInterval(-3600)
        let prod = try await s.repo.history(from: s.commits[3], paths: ["apps/api/prod"], since: since, maxCommits: 100)
        #expect(prod.map(\.commit) == [s.commits[2], s.commits[0]])
        let dev = try await s.repo.history(from: s.commits[3], paths: ["apps/api/dev"], since: since, maxCommits: 100)
        #expect(dev.map(\.commit) == [s.commits[1], s.commits[0]])
        let both = try await s.repo.history(from: s.commits[3], paths: ["apps/api/dev", "docs"], since: since, maxCommits: 100)
        #expect(both.map(\.commit) == [s.commits[3], s.commits[1], s.commits[0]])
        #expect(both[0].files.keys.sorted() == ["apps/api/dev/values.yaml", "docs/notes.md"])
    }

    @Test func maxCommitsBoundsTheWalk() async throws {
        let s = try await scenario()
        let since = s.times[0].addingTimeInterval(-3600)
        let history = try await s.repo.history(from: s.commits[3], paths: ["apps/api/prod"], since: since, maxCommits: 2)
        #expect(history.map(\.commit) == [s.commits[2]])
    }
}
