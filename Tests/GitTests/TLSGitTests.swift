import Foundation
import Testing
import TestSupport
@testable import Git

/// libgit2 over https: the certificate is verified by default, a CA bundle makes a private CA
/// trusted, and `verifyTLS: false` skips the check. The server is `openssl s_server -www`, which
/// completes the handshake and then answers with a plain page, so a trusted connection fails later,
/// as not-a-git-server, and never with a certificate error.
@Suite struct TLSGitTests {
    func refresh(_ server: TLSServer, _ options: GitTransportOptions) async throws -> GitError {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("promobot-gittls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = RepositoryCache(root: root, options: options)
        let repo = try await cache.repository(for: GitRemote(url: "https://localhost:\(server.port)/origin.git", credentials: .token("glpat-tls-secret")))
        return try await #require(throws: GitError.self) { try await repo.refresh(branches: ["main"]) }
    }

    @Test(.enabled(if: TLSServer.available, "needs the openssl command"))
    func certificatesAreVerifiedUnlessTrustedOrDisabled() async throws {
        try await TLSServer.with { server in
            let untrusted = try await refresh(server, GitTransportOptions())
            #expect(untrusted.kind == .certificate, "\(untrusted)")
            #expect(!untrusted.description.contains("glpat-tls-secret"))

            let trusted = try await refresh(server, GitTransportOptions(caBundlePath: server.certificatePath))
            #expect(trusted.kind != .certificate, "the CA bundle should make the certificate trusted: \(trusted.description)")

            let unverified = try await refresh(server, GitTransportOptions(verifyTLS: false))
            #expect(unverified.kind != .certificate, "\(unverified)")
        }
    }
}
