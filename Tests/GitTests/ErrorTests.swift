import Foundation
import HTTP
import Testing
@testable import Git

@Suite struct ErrorTests {
    static let closedPortRemotes: [GitRemote] = [
        GitRemote(url: "http://oauth2:SECRET@127.0.0.1:1/x.git"),
        GitRemote(url: "http://127.0.0.1:1/x.git", credentials: .token("SECRET")),
        GitRemote(url: "https://oauth2:SECRET@127.0.0.1:1/group/x.git", credentials: .token("SECRET")),
    ]

    @Test(arguments: closedPortRemotes)
    func networkErrorsNameTheOperationAndNeverTheSecret(remote: GitRemote) async throws {
        let fixture = try GitFixture()
        let cache = fixture.makeCache()
        let repo = try await cache.repository(for: remote)
        let error = try await #require(throws: GitError.self) { try await repo.refresh(branches: ["main"]) }
        #expect(error.kind == .network)
        #expect(error.operation.contains("git_remote_connect"))
        #expect(error.description.contains("git_remote_connect"))
        #expect(error.code < 0)
        #expect(!error.message.isEmpty)
        #expect(error.remote?.hasPrefix(remote.url.hasPrefix("https") ? "https://127.0.0.1:1/" : "http://127.0.0.1:1/") == true)
        for text in [error.description, error.message, error.operation, error.remote ?? "", String(describing: error),
                     "\(repo.remote)", repo.path.path] {
            #expect(!text.contains("SECRET"))
        }
        let pushError = try await #require(throws: GitError.self) { try await repo.remoteTips(branches: ["main"]) }
        #expect(!pushError.description.contains("SECRET"))
        try expectNoFile(under: cache.root, contains: "SECRET")
    }

    @Test func scrubRemovesSecretsAndUserinfo() {
        let text = Redaction.redact(text: "failed http://u:p%40ss@host/x and token abc123", secrets: ["abc123", "p@ss"])
        #expect(text == "failed http://REDACTED@host/x and token REDACTED")
    }
}

/// Fails the test if any file under `folder` contains `needle`.
func expectNoFile(under folder: URL, contains needle: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let enumerator = try #require(FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil))
    let bytes = Data(needle.utf8)
    var checked = 0
    for case let url as URL in enumerator {
        guard let data = try? Data(contentsOf: url) else { continue }
        checked += 1
        #expect(data.range(of: bytes) == nil, "\(url.path) contains the secret", sourceLocation: sourceLocation)
    }
    #expect(checked > 0, "expected the cache folder to hold files", sourceLocation: sourceLocation)
}
