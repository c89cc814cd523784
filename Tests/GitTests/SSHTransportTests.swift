import Foundation
import Testing
@testable import Git
import TestSupport

/// libgit2's SSH transport against a real `sshd`: key authentication, fetch and push, and the host
/// key checked against `known_hosts` (libgit2 1.5 trusts none on its own).
@Suite struct SSHTransportTests {
    static let signature = GitSignature(name: "promobot", email: "promobot@example.com", time: Date(timeIntervalSince1970: 1_750_000_000))

    @Test(.enabled(if: SSHServer.available, "needs sshd (apt-get install openssh-server)"))
    func keyAuthenticationFetchesAndPushesToAKnownHost() async throws {
        let fixture = try GitFixture()
        let first = try fixture.commit(["a.txt": "1"])
        let server = try SSHServer()
        defer { server.stop() }
        let cache = RepositoryCache(root: fixture.cacheRoot, options: GitTransportOptions(knownHostsPath: server.knownHosts))
        let credentials = GitCredentials.sshKey(privateKey: server.clientKey, publicKey: server.clientPublicKey, passphrase: nil)
        let repo = try await cache.repository(for: GitRemote(url: server.url(fixture.origin.path), credentials: credentials))

        let cloned = try await repo.refresh(branches: ["main"])
        #expect(cloned.tips == ["main": first])
        let commit = try await repo.commit(parent: first, changes: ["a.txt": Data("2".utf8)], author: Self.signature, message: "over ssh")
        try await repo.push(commit, to: "promobot/ssh", expecting: nil)
        #expect(try fixture.originTip("promobot/ssh") == commit)
    }

    @Test(.enabled(if: SSHServer.available, "needs sshd (apt-get install openssh-server)"))
    func unknownOrChangedHostKeysAreRefused() async throws {
        let fixture = try GitFixture()
        _ = try fixture.commit(["a.txt": "1"])
        let server = try SSHServer()
        defer { server.stop() }
        let credentials = GitCredentials.sshKey(privateKey: server.clientKey, publicKey: server.clientPublicKey, passphrase: nil)
        let remote = GitRemote(url: server.url(fixture.origin.path), credentials: credentials)

        let empty = fixture.root.appendingPathComponent("empty_known_hosts").path
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        let unknown = try await #require(throws: GitError.self) {
            try await RepositoryCache(root: fixture.root.appendingPathComponent("c1"), options: GitTransportOptions(knownHostsPath: empty))
                .repository(for: remote).refresh(branches: ["main"])
        }
        #expect(unknown.kind == .certificate)
        #expect(unknown.description.contains("is not in \(empty)"), "\(unknown.description)")

        let wrong = try server.wrongKnownHosts()
        let changed = try await #require(throws: GitError.self) {
            try await RepositoryCache(root: fixture.root.appendingPathComponent("c2"), options: GitTransportOptions(knownHostsPath: wrong))
                .repository(for: remote).refresh(branches: ["main"])
        }
        #expect(changed.kind == .certificate)
        #expect(changed.description.contains("does not match"), "\(changed.description)")
    }
}
