import Foundation
import Testing
@testable import Git

@Suite struct CommitPushTests {
    let signature = GitSignature(name: "promobot", email: "promobot@example.com",
                                 time: Date(timeIntervalSince1970: 1_750_000_000))

    /// A fixture with one commit on main, refreshed into a cache.
    func prepared() async throws -> (GitFixture, CachedRepository, ObjectID) {
        let fixture = try GitFixture()
        let base = try fixture.commit([
            "apps/api/prod/values.yaml": "tag: v1\n",
            "apps/api/dev/values.yaml": "tag: v2\n",
            "run.sh": "#!/bin/sh\n",
        ])
        try fixture.git("-C", fixture.work.path, "update-index", "--chmod=+x", "run.sh")
        try fixture.git("-C", fixture.work.path, "commit", "-q", "-m", "exec")
        try fixture.git("-C", fixture.work.path, "push", "-q", "origin", "HEAD:main")
        let tip = try requireID(fixture.git("-C", fixture.work.path, "rev-parse", "HEAD"))
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))
        #expect(try await repo.refresh(branches: ["main"]).tips["main"] == tip)
        _ = base
        return (fixture, repo, tip)
    }

    @Test func buildsACommitWithNestedAndNewFilesAndPushesIt() async throws {
        let (fixture, repo, tip) = try await prepared()
        let message = "Promote api to prod\n\nPromobot-Policy: oms\nPromobot-Tag: v2\n"
        let commit = try await repo.commit(parent: tip, changes: [
            "apps/api/prod/values.yaml": Data("tag: v2\n".utf8),
            "apps/new/deep/folder/file.yaml": Data("new: true\n".utf8),
            "top.txt": Data("top\n".utf8),
        ], author: signature, message: message)
        try await repo.push(commit, to: "promote/api-prod", expecting: nil)
        #expect(try fixture.originTip("promote/api-prod") == commit)
        #expect(repo.counters.pushes == 1)
        #expect(try await repo.localTip(of: "promote/api-prod") == commit)

        let clone = fixture.root.appendingPathComponent("verify")
        try fixture.git("clone", "-q", "-b", "promote/api-prod", fixture.origin.path, clone.path)
        let show = { (path: String) throws -> String in try fixture.git("-C", clone.path, "show", "HEAD:\(path)") }
        #expect(try show("apps/api/prod/values.yaml") == "tag: v2")
        #expect(try show("apps/api/dev/values.yaml") == "tag: v2")
        #expect(try show("apps/new/deep/folder/file.yaml") == "new: true")
        #expect(try show("top.txt") == "top")
        #expect(try fixture.git("-C", clone.path, "rev-parse", "HEAD^") == tip.hex)
        #expect(try fixture.git("-C", clone.path, "log", "-1", "--format=%an|%ae|%at|%cn|%ce|%ct")
                == "promobot|promobot@example.com|1750000000|promobot|promobot@example.com|1750000000")
        #expect(try fixture.git("-C", clone.path, "log", "-1", "--format=%B") == message.trimmingCharacters(in: .newlines))
        #expect(try fixture.git("-C", clone.path, "log", "-1", "--format=%(trailers:key=Promobot-Policy,valueonly)") == "oms")
        // The executable bit of untouched files survives.
        #expect(try fixture.git("-C", clone.path, "ls-files", "-s", "run.sh").hasPrefix("100755"))
        #expect(try fixture.git("-C", clone.path, "fsck", "--strict").isEmpty)
        // Readable from the cache without a work tree.
        #expect(try await repo.readFile("apps/new/deep/folder/file.yaml", at: commit) == Data("new: true\n".utf8))
    }

    @Test func conflictingPathsAreRejected() async throws {
        // The fixture (and with it the cache folder) must outlive the calls: a vanished clone folder is
        // created again, empty, on the next use.
        let (fixture, repo, tip) = try await prepared()
        let error = try await #require(throws: GitError.self) {
            try await repo.commit(parent: tip, changes: ["a": Data("1".utf8), "a/b": Data("2".utf8)], author: signature, message: "x")
        }
        #expect(error.kind == .invalidArgument, "\(error)")
        withExtendedLifetime(fixture) {}
    }

    @Test func forceUpdateWithTheRightLeaseSucceeds() async throws {
        let (fixture, repo, tip) = try await prepared()
        let first = try await repo.commit(parent: tip, changes: ["f.txt": Data("1".utf8)], author: signature, message: "one")
        try await repo.push(first, to: "promote/x", expecting: nil)
        // A rebuilt branch: not a descendant of `first`.
        let rebuilt = try await repo.commit(parent: tip, changes: ["f.txt": Data("2".utf8)], author: signature, message: "two")
        try await repo.push(rebuilt, to: "promote/x", expecting: first)
        #expect(try fixture.originTip("promote/x") == rebuilt)
        #expect(repo.counters.pushes == 2)
        // Pushing what is already there is a no-op, not an error.
        try await repo.push(rebuilt, to: "promote/x", expecting: rebuilt)
        #expect(try fixture.originTip("promote/x") == rebuilt)
    }

    @Test func leaseIsRejectedWhenSomeoneElseMovedTheBranch() async throws {
        let (fixture, repo, tip) = try await prepared()
        let mine = try await repo.commit(parent: tip, changes: ["f.txt": Data("1".utf8)], author: signature, message: "mine")
        try await repo.push(mine, to: "promote/x", expecting: nil)
        let theirs = try fixture.commit(["g.txt": "theirs"], branch: "promote/x")

        let again = try await repo.commit(parent: tip, changes: ["f.txt": Data("2".utf8)], author: signature, message: "again")
        let error = try await #require(throws: GitError.self) { try await repo.push(again, to: "promote/x", expecting: mine) }
        #expect(error.kind == .leaseRejected(actual: theirs))
        #expect(error.description.contains("push refs/heads/promote/x"))
        #expect(try fixture.originTip("promote/x") == theirs)
    }

    /// A promotion branch is pushed only while the branch it was built on is still where it was read:
    /// a run on stale facts (another run already merged this promotion) pushes nothing.
    @Test func pushRequiresTheBaseUnchanged() async throws {
        let (fixture, repo, tip) = try await prepared()
        let mine = try await repo.commit(parent: tip, changes: ["f.txt": Data("1".utf8)], author: signature, message: "mine")
        let moved = try fixture.commit(["ci.txt": "a CI commit"], branch: "main")
        let error = try await #require(throws: GitError.self) {
            try await repo.push(mine, to: "promote/x", expecting: nil, unchanged: ["main": tip])
        }
        #expect(error.kind == .baseMoved(branch: "main", actual: moved))
        #expect(error.description.contains("moved"))
        #expect(try fixture.originTip("promote/x") == nil, "nothing was pushed")
        try await repo.push(mine, to: "promote/x", expecting: nil, unchanged: ["main": moved])
        #expect(try fixture.originTip("promote/x") == mine)
    }

    @Test func expectingAbsentFailsWhenTheBranchExists() async throws {
        let (fixture, repo, tip) = try await prepared()
        let commit = try await repo.commit(parent: tip, changes: ["f.txt": Data("1".utf8)], author: signature, message: "x")
        let error = try await #require(throws: GitError.self) { try await repo.push(commit, to: "main", expecting: nil) }
        #expect(error.kind == .leaseRejected(actual: tip))
        #expect(try fixture.originTip("main") == tip)
    }

    @Test func deletesABranchOnlyWithTheRightLease() async throws {
        let (fixture, repo, tip) = try await prepared()
        let commit = try await repo.commit(parent: tip, changes: ["f.txt": Data("1".utf8)], author: signature, message: "x")
        try await repo.push(commit, to: "promote/x", expecting: nil)

        let wrong = try await #require(throws: GitError.self) { try await repo.deleteBranch("promote/x", expecting: tip) }
        #expect(wrong.kind == .leaseRejected(actual: commit))
        #expect(try fixture.originTip("promote/x") == commit)

        try await repo.deleteBranch("promote/x", expecting: commit)
        #expect(try fixture.originTip("promote/x") == nil)
        #expect(try await repo.localTip(of: "promote/x") == nil)

        let gone = try await #require(throws: GitError.self) { try await repo.deleteBranch("promote/x", expecting: commit) }
        #expect(gone.kind == .leaseRejected(actual: nil))
    }

    @Test func pushingAnUnknownCommitIsNotFound() async throws {
        let (fixture, repo, _) = try await prepared()
        defer { withExtendedLifetime(fixture) {} }
        let bogus = try requireID(String(repeating: "cd", count: 20))
        let error = try await #require(throws: GitError.self) { try await repo.push(bogus, to: "promote/x", expecting: nil) }
        #expect(error.kind == .notFound)
        #expect(repo.counters.pushes == 0)
    }
}
