import Foundation
import Testing
@testable import Git

@Suite struct ReadTests {
    @Test func readsAndListsFilesAtOldAndNewCommits() async throws {
        let fixture = try GitFixture()
        let old = try fixture.commit([
            "apps/api/prod/values.yaml": "tag: v1\n",
            "apps/api/test/values.yaml": "tag: v1\n",
            "apps/web/prod/kustomization.yaml": "images: []\n",
            "README.md": "deploy repo\n",
        ])
        let new = try fixture.commit(["apps/api/prod/extra/patch.yaml": "x: 1\n", "apps/api/prod/values.yaml": "tag: v2\n"])
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))
        _ = try await repo.refresh(branches: ["main"])

        #expect(try await repo.readFile("apps/api/prod/values.yaml", at: old) == Data("tag: v1\n".utf8))
        #expect(try await repo.readFile("./apps/api/prod/values.yaml", at: new) == Data("tag: v2\n".utf8))
        #expect(try await repo.readFile("apps/api/prod/missing.yaml", at: new) == nil)
        #expect(try await repo.readFile("apps/api/prod", at: new) == nil)  // a folder is not a file
        #expect(try await repo.readFile("apps/api/prod/extra/patch.yaml", at: old) == nil)

        #expect(try await repo.listFiles(under: "apps/api", at: old) == ["apps/api/prod/values.yaml", "apps/api/test/values.yaml"])
        #expect(try await repo.listFiles(under: "apps/api/prod/", at: new)
                == ["apps/api/prod/extra/patch.yaml", "apps/api/prod/values.yaml"])
        #expect(try await repo.listFiles(under: "apps/web/prod/kustomization.yaml", at: new) == ["apps/web/prod/kustomization.yaml"])
        #expect(try await repo.listFiles(under: "nope", at: new) == [])
        #expect(try await repo.listFiles(under: "", at: old).count == 4)

        // A whole stage in one call: folders, a file, an absent path.
        let stage = try await repo.files(under: ["apps/api/prod/", "apps/web/prod/kustomization.yaml", "nope"], at: new)
        #expect(stage == ["apps/api/prod/extra/patch.yaml": Data("x: 1\n".utf8), "apps/api/prod/values.yaml": Data("tag: v2\n".utf8),
                          "apps/web/prod/kustomization.yaml": Data("images: []\n".utf8)])
        #expect(try await repo.files(under: ["apps/api/prod"], at: old) == ["apps/api/prod/values.yaml": Data("tag: v1\n".utf8)])
    }

    @Test func unknownCommitIsNotFound() async throws {
        let fixture = try GitFixture()
        _ = try fixture.commit(["a.txt": "1"])
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))
        _ = try await repo.refresh(branches: ["main"])
        let bogus = try requireID(String(repeating: "ab", count: 20))
        let error = try await #require(throws: GitError.self) { try await repo.readFile("a.txt", at: bogus) }
        #expect(error.kind == .notFound)
        #expect(error.description.contains(bogus.hex))
    }

    @Test(arguments: ["../etc/passwd", "/abs/path", "a/../../b", ".git/config"])
    func badPathsAreRejected(path: String) async throws {
        let fixture = try GitFixture()
        let tip = try fixture.commit(["a.txt": "1"])
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))
        _ = try await repo.refresh(branches: ["main"])
        let error = try await #require(throws: GitError.self) { try await repo.readFile(path, at: tip) }
        #expect(error.kind == .invalidArgument)
    }
}
