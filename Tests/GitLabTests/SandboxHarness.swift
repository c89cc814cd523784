import Foundation
import Testing
import GitLab
import HTTP
import Sandbox
import TestSupport

/// A started `Sandbox` with a deploy project and three users, plus a curl transport with quick
/// retries, seeded by `withSandbox` below (a thin layer on `TestSupport.withSandbox`).
struct SandboxHarness {
    static let projectPath = "group/sub/deploy"
    let sandbox: Sandbox
    let transport: CurlHTTPClient
    /// Distinctive so tests can assert it never appears in messages.
    let botToken = "glpat-BOTSECRET-\(UUID().uuidString)"
    let reviewerToken = "glpat-REVIEWERSECRET-\(UUID().uuidString)"
    let readerToken = "glpat-READERSECRET-\(UUID().uuidString)"
    /// Ids of the users `withSandbox` adds, by username.
    var userIDs: [String: Int] = [:]
    var project: ProjectRef { .path(Self.projectPath) }
    /// The raw path prefix of the project's REST routes, as the client sends it (for faults).
    var apiProjectPrefix: String { "/api/v4/projects/group%2Fsub%2Fdeploy" }

    /// A client as the bot (maintainer), with fast client-side retries.
    func client(token: String? = nil, style: GitLabToken.Style = .privateToken, budget: RequestBudget? = nil,
                retry: GitLabRetryPolicy = GitLabRetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20))) -> GitLabClient {
        GitLabClient(baseURL: sandbox.baseURL, token: GitLabToken(token ?? botToken, style: style), transport: transport,
                     budget: budget, retryPolicy: retry)
    }

    /// Commits a file onto a new branch and returns its SHA.
    @discardableResult
    func push(_ branch: String, _ content: String = UUID().uuidString) throws -> String {
        try sandbox.commit(project: Self.projectPath, branch: branch, files: ["apps/app/values.yaml": "image:\n  tag: \(content)\n"],
                           message: "Bump app to \(content)")
    }

    /// Opens an MR from a freshly pushed branch.
    func openMergeRequest(_ client: GitLabClient, branch: String, title: String? = nil, labels: [String] = []) async throws -> MergeRequest {
        try push(branch)
        return try await client.createMergeRequest(project, CreateMergeRequest(
            title: title ?? "Promote \(branch)", description: "generated", sourceBranch: branch, targetBranch: "main", labels: labels))
    }

    /// Every token of the harness, to check messages against.
    var secrets: [String] { [botToken, reviewerToken, readerToken] }
}

/// Runs `body` against a fresh, seeded sandbox; `TestSupport.withSandbox` shuts it down and removes its data on every path.
func withSandbox(_ body: (SandboxHarness) async throws -> Void) async throws {
    try await TestSupport.withSandbox("gitlab-tests") { sandbox, _ in
        let transport = CurlHTTPClient(configuration: HTTPClientConfiguration(
            connectTimeout: .seconds(5), totalTimeout: .seconds(20),
            retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5), maxDelay: .milliseconds(30), jitter: .none),
            proxy: .none))
        var harness = SandboxHarness(sandbox: sandbox, transport: transport)
        for (name, token, role) in [("promobot", harness.botToken, SandboxRole.maintainer),
                                    ("reviewer", harness.reviewerToken, .developer), ("reader", harness.readerToken, .reporter)] {
            harness.userIDs[name] = sandbox.addUser(name, token: token, role: role).id
        }
        try sandbox.createProject(path: SandboxHarness.projectPath, defaultBranch: "main",
                                  files: ["apps/app/values.yaml": "image:\n  tag: 1.0.0\n"])
        try await body(harness)
    }
}

/// Asserts that no harness token appears in anything an error can print.
func expectNoSecrets(_ error: any Error, _ harness: SandboxHarness, sourceLocation: SourceLocation = #_sourceLocation) {
    var dumped = ""
    dump(error, to: &dumped)
    for text in [String(describing: error), String(reflecting: error), dumped, error.localizedDescription] {
        for secret in harness.secrets {
            #expect(!text.contains(secret), "token leaked into: \(text)", sourceLocation: sourceLocation)
        }
    }
}
