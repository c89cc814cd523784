import Foundation
import Testing
import TestSupport
@testable import Git

/// libgit2's HTTP transport against `git http-backend`: tokens, server-side hooks and the server-side lease.
@Suite struct SmartHTTPTests {
    let signature = GitSignature(name: "promobot", email: "promobot@example.com", time: Date(timeIntervalSince1970: 1_750_000_000))

    @Test func tokenAuthClonesFetchesAndPushes() async throws {
        let fixture = try GitFixture()
        let first = try fixture.commit(["apps/api/prod/values.yaml": "tag: v1\n"])
        let server = try SmartHTTPServer(projectRoot: fixture.root, token: "glpat-s3cret")
        defer { server.stop() }
        let cache = fixture.makeCache()
        let repo = try await cache.repository(for: GitRemote(url: server.url("origin.git"), credentials: .token("glpat-s3cret")))

        let cloned = try await repo.refresh(branches: ["main"])
        #expect(cloned.tips == ["main": first])
        #expect(cloned.fetched)
        let unchanged = try await repo.refresh(branches: ["main"])
        #expect(!unchanged.fetched)
        #expect(repo.counters == GitCounters(refListings: 2, fetches: 1, pushes: 0))

        let second = try fixture.commit(["apps/api/prod/values.yaml": "tag: v2\n"])
        #expect(try await repo.refresh(branches: ["main"]).tips == ["main": second])
        #expect(try await repo.readFile("apps/api/prod/values.yaml", at: second) == Data("tag: v2\n".utf8))

        let commit = try await repo.commit(parent: second, changes: ["apps/api/prod/values.yaml": Data("tag: v3\n".utf8)],
                                     author: signature, message: "promote v3")
        try await repo.push(commit, to: "promote/api", expecting: nil)
        #expect(try fixture.originTip("promote/api") == commit)
        try await repo.deleteBranch("promote/api", expecting: commit)
        #expect(try fixture.originTip("promote/api") == nil)
        try expectNoFile(under: cache.root, contains: "glpat-s3cret")
        #expect(server.requests.contains { $0.hasPrefix("POST /origin.git/git-receive-pack 200") })
    }

    /// An origin with one commit, served over HTTP with `token`, and its cached clone (not yet fetched).
    /// Stop the server when done.
    func tokenOrigin(_ token: String) async throws -> (GitFixture, SmartHTTPServer, CachedRepository) {
        let fixture = try GitFixture()
        _ = try fixture.commit(["a.txt": "1"])
        let server = try SmartHTTPServer(projectRoot: fixture.root, token: token)
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: server.url("origin.git"), credentials: .token(token)))
        return (fixture, server, repo)
    }

    /// The token goes with the first request, so an unchanged repository costs exactly one HTTP request
    /// (the ref listing), not a 401 challenge and a retry.
    @Test func unchangedRefreshIsOneAuthenticatedRequest() async throws {
        let (fixture, server, repo) = try await tokenOrigin("glpat-once")
        defer { server.stop(); withExtendedLifetime(fixture) {} }  // the fixture owns the origin's folder
        _ = try await repo.refresh(branches: ["main"])
        #expect(!server.requests.contains { $0.contains(" 401") }, "\(server.requests)")
        let before = server.requests.count
        #expect(try await !repo.refresh(branches: ["main"]).fetched)
        let sent = Array(server.requests.dropFirst(before))
        #expect(sent.count == 1, "\(sent)")
        #expect(sent.first?.hasPrefix("GET /origin.git/info/refs?service=git-upload-pack 200") == true, "\(sent)")
    }

    /// `url.<base>.insteadOf` in git config never redirects the bot (and its token) elsewhere.
    @Test func insteadOfRewritesAreIgnored() async throws {
        let (fixture, server, repo) = try await tokenOrigin("glpat-insteadof")
        defer { server.stop() }
        _ = try await repo.refresh(branches: ["main"])
        _ = try fixture.git("config", "--file", repo.path.appendingPathComponent("config").path,
                            "url.http://127.0.0.1:1/.insteadOf", server.url(""))
        let second = try fixture.commit(["a.txt": "2"])
        #expect(try await repo.refresh(branches: ["main"]).tips == ["main": second])
    }

    /// A server that accepts the connection and then says nothing fails the refresh after the I/O
    /// timeout instead of hanging the cycle.
    @Test func silentServerTimesOut() async throws {
        let (listener, port) = try Loopback.bind(listen: true)
        defer { close(listener) }
        let fixture = try GitFixture()
        // The kernel completes the handshake from the backlog; nobody ever reads or writes.
        let cache = RepositoryCache(root: fixture.cacheRoot, options: GitTransportOptions(
            proxyFromEnvironment: false, connectTimeout: .seconds(2), ioTimeout: .milliseconds(500)))
        let repo = try await cache.repository(for: GitRemote(url: "http://127.0.0.1:\(port)/origin.git", credentials: .token("glpat-silent")))
        let started = Date()
        let error = try await #require(throws: GitError.self) { try await repo.refresh(branches: ["main"]) }
        #expect(error.kind == .network, "\(error)")
        #expect(error.description.contains("timed out after 500 ms"), "\(error.description)")
        #expect(Date().timeIntervalSince(started) < 30, "bounded by the timeout, not hanging")
        #expect(!error.description.contains("glpat-silent"))
    }

    /// libgit2 connects through promobot's stream, which turns Nagle off (no delayed-ACK stall per POST).
    @Test func connectionsUseTCPNoDelay() async throws {
        let (fixture, server, repo) = try await tokenOrigin("glpat-nodelay")
        defer { server.stop(); withExtendedLifetime(fixture) {} }  // the fixture owns the origin's folder
        let before = repo.noDelayConnections
        _ = try await repo.refresh(branches: ["main"])
        #expect(repo.noDelayConnections > before, "counted for this repository's own operations only")
    }

    @Test(arguments: [GitCredentials.token("wrong-token"), GitCredentials.none])
    func wrongOrMissingTokenIsAnAuthenticationError(credentials: GitCredentials) async throws {
        let fixture = try GitFixture()
        _ = try fixture.commit(["a.txt": "1"])
        let server = try SmartHTTPServer(projectRoot: fixture.root, token: "right-token")
        defer { server.stop() }
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: server.url("origin.git"), credentials: credentials))
        let error = try await #require(throws: GitError.self) { try await repo.refresh(branches: ["main"]) }
        #expect(error.kind == .authentication)
        #expect(error.operation.contains("git_remote_connect"))
        #expect(!error.description.contains("wrong-token"))
        #expect(!error.description.contains("right-token"))
    }

    @Test func unknownRepositoryIsNotFound() async throws {
        let fixture = try GitFixture()
        let server = try SmartHTTPServer(projectRoot: fixture.root)
        defer { server.stop() }
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: server.url("missing.git"), credentials: .token("tok-123")))
        let error = try await #require(throws: GitError.self) { try await repo.refresh(branches: ["main"]) }
        #expect(error.kind == .notFound)
        #expect(error.description.contains("404"))
        #expect(error.remote == server.url("missing.git"))
    }

    @Test func serverHookRejectionCarriesTheServerMessage() async throws {
        let fixture = try GitFixture()
        let tip = try fixture.commit(["a.txt": "1"])
        let hook = fixture.origin.appendingPathComponent("hooks/pre-receive")
        try Data("#!/bin/sh\necho 'GitLab: You are not allowed to push code to protected branches on this project.'\nexit 1\n".utf8)
            .write(to: hook)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook.path)
        let server = try SmartHTTPServer(projectRoot: fixture.root)
        defer { server.stop() }
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: server.url("origin.git")))
        _ = try await repo.refresh(branches: ["main"])
        let commit = try await repo.commit(parent: tip, changes: ["a.txt": Data("2".utf8)], author: signature, message: "x")

        let error = try await #require(throws: GitError.self) { try await repo.push(commit, to: "main", expecting: tip) }
        guard case .rejected(let message) = error.kind else {
            Issue.record("expected .rejected, got \(error.kind)")
            return
        }
        #expect(message.contains("You are not allowed to push code to protected branches on this project."))
        #expect(error.description.contains("You are not allowed to push code to protected branches"))
        #expect(error.description.contains("push refs/heads/main"))
        #expect(try fixture.originTip("main") == tip)
    }

    @Test func leaseRejectedOverHTTPWhenTheBranchMoved() async throws {
        let fixture = try GitFixture()
        let tip = try fixture.commit(["a.txt": "1"])
        let server = try SmartHTTPServer(projectRoot: fixture.root)
        defer { server.stop() }
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: server.url("origin.git")))
        _ = try await repo.refresh(branches: ["main"])
        let theirs = try fixture.commit(["a.txt": "theirs"])
        let mine = try await repo.commit(parent: tip, changes: ["a.txt": Data("mine".utf8)], author: signature, message: "x")
        let error = try await #require(throws: GitError.self) { try await repo.push(mine, to: "main", expecting: tip) }
        #expect(error.kind == .leaseRejected(actual: theirs))
        #expect(try fixture.originTip("main") == theirs)
    }

    /// The branch moves after the server advertised it for the push and before the receive-pack POST: the
    /// server refuses the stale old value and the caller still gets `.leaseRejected` with the new tip.
    @Test func leaseHoldsBetweenAdvertisementAndPush() async throws {
        let fixture = try GitFixture()
        let tip = try fixture.commit(["a.txt": "1"])
        let server = try SmartHTTPServer(projectRoot: fixture.root)
        defer { server.stop() }
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: server.url("origin.git")))
        _ = try await repo.refresh(branches: ["main"])
        let mine = try await repo.commit(parent: tip, changes: ["a.txt": Data("mine".utf8)], author: signature, message: "x")

        let moved = Moved()
        server.onResponse { request in
            guard request.hasPrefix("GET /origin.git/info/refs?service=git-receive-pack"), moved.claim() else { return }
            moved.set(try? fixture.commit(["a.txt": "theirs"]))
        }
        let outcome: Result<Void, any Error>
        do { outcome = .success(try await repo.push(mine, to: "main", expecting: tip)) } catch { outcome = .failure(error) }
        let error = try #require(throws: GitError.self) { try outcome.get() }
        let theirs = try #require(moved.value)
        #expect(error.kind == .leaseRejected(actual: theirs))
        #expect(try fixture.originTip("main") == theirs)
        // Exactly one advertisement for the push: the lease was checked on the connection that pushed.
        #expect(server.requests.filter { $0.hasPrefix("GET /origin.git/info/refs?service=git-receive-pack") }.count == 1)
    }
}

/// A once-only flag and the commit made by the racing writer.
final class Moved: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false
    private var commit: ObjectID?
    func claim() -> Bool { lock.withLock { defer { claimed = true }; return !claimed } }
    func set(_ value: ObjectID?) { lock.withLock { commit = value } }
    var value: ObjectID? { lock.withLock { commit } }
}
