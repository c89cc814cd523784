import Foundation
import Sandbox
import Testing
import TestSupport
@testable import Git

/// libgit2 over HTTP with a GitLab-style token against the Sandbox's git smart-HTTP endpoint
/// (token auth, protected-branch pre-receive hook).
@Suite struct SandboxGitTests {
    static let signature = GitSignature(name: "promobot", email: "promobot@example.com", time: Date(timeIntervalSince1970: 1_750_000_000))

    /// Starts a sandbox with user `bot` (token `glpat-bot-secret`) and project `group/deploy`, runs `body`,
    /// and (through `TestSupport.withSandbox`) shuts the sandbox down and removes its folder on every path.
    /// The git calls are async and run libgit2 on threads of their own, so the Sandbox can answer on the
    /// cooperative pool meanwhile.
    func withSandbox(_ body: @escaping @Sendable (Sandbox, SandboxProject, GitFixture) async throws -> Void) async throws {
        let fixture = try GitFixture()
        try await TestSupport.withSandbox("git-sandbox") { sandbox, _ in
            sandbox.addUser("bot", token: "glpat-bot-secret", role: .maintainer)
            let project = try sandbox.createProject(path: "group/deploy",
                                                    files: ["apps/api/prod/values.yaml": "tag: v1\n"])
            try await body(sandbox, project, fixture)
        }
    }

    @Test func tokenCloneFetchPushAndDelete() async throws {
        try await withSandbox { sandbox, project, fixture in
            let cache = fixture.makeCache()
            let repo = try await cache.repository(for: GitRemote(url: project.httpURLToRepo, credentials: .token("glpat-bot-secret")))
            let first = try await repo.refresh(branches: ["main"])
            let main = try #require(first.tips["main"])
            #expect(main.hex == (try sandbox.branchSHA(project: "group/deploy", branch: "main")))
            #expect(first.fetched)
            #expect(try await repo.readFile("apps/api/prod/values.yaml", at: main) == Data("tag: v1\n".utf8))
            #expect(try await !repo.refresh(branches: ["main"]).fetched)

            let ci = try sandbox.commit(project: "group/deploy", branch: "main",
                                        files: ["apps/api/dev/values.yaml": "tag: v2\n"], message: "ci")
            let moved = try await repo.refresh(branches: ["main"])
            #expect(moved.fetched)
            #expect(moved.tips["main"]?.hex == ci)

            let tip = try #require(moved.tips["main"])
            let commit = try await repo.commit(parent: tip, changes: ["apps/api/prod/values.yaml": Data("tag: v2\n".utf8)],
                                         author: Self.signature, message: "Promote api v2\n\nPromobot-Policy: oms\n")
            try await repo.push(commit, to: "promobot/api-prod", expecting: nil)
            #expect(try sandbox.fileContent(project: "group/deploy", ref: "promobot/api-prod",
                                            path: "apps/api/prod/values.yaml") == "tag: v2\n")
            try await repo.deleteBranch("promobot/api-prod", expecting: commit)
            #expect(try sandbox.branchSHA(project: "group/deploy", branch: "promobot/api-prod") == nil)
            try expectNoFile(under: cache.root, contains: "glpat-bot-secret")
        }
    }

    @Test func wrongTokenIsAnAuthenticationError() async throws {
        try await withSandbox { _, project, fixture in
            let repo = try await fixture.makeCache().repository(for: GitRemote(url: project.httpURLToRepo, credentials: .token("glpat-wrong")))
            let error = try await #require(throws: GitError.self) { try await repo.refresh(branches: ["main"]) }
            #expect(error.kind == .authentication)
            #expect(!error.description.contains("glpat-wrong"))
        }
    }

    @Test func protectedBranchRejectionCarriesGitLabsMessage() async throws {
        try await withSandbox { sandbox, project, fixture in
            sandbox.protectBranch(project: "group/deploy", branch: "main", allowPush: nil)
            let repo = try await fixture.makeCache().repository(for: GitRemote(url: project.httpURLToRepo, credentials: .token("glpat-bot-secret")))
            let tip = try #require(try await repo.refresh(branches: ["main"]).tips["main"])
            let commit = try await repo.commit(parent: tip, changes: ["x.txt": Data("x".utf8)], author: Self.signature, message: "x")
            let error = try await #require(throws: GitError.self) { try await repo.push(commit, to: "main", expecting: tip) }
            guard case .rejected(let message) = error.kind else {
                Issue.record("expected .rejected, got \(error.kind)")
                return
            }
            #expect(message.contains("You are not allowed to push code to protected branches on this project."))
            #expect(try sandbox.branchSHA(project: "group/deploy", branch: "main") == tip.hex)
        }
    }
}
