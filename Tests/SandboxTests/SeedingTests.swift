import Foundation
import Testing
import TestSupport
@testable import Sandbox

/// `Sandbox.apply` and `createProjects`: seeded projects (whose repositories borrow a pool's objects) behave
/// like ones made by `createProject` over REST and git.
@Suite("Seeding")
struct SeedingTests {
    static let token = "seed-maintainer-\(UUID().uuidString.prefix(8))"
    static let developerToken = "seed-developer-\(UUID().uuidString.prefix(8))"

    static let seed = SandboxSeed(
        users: [SandboxSeed.User(username: "mia", name: "Mia Maintainer", role: .maintainer, token: .environment("MIA")),
                SandboxSeed.User(username: "dev", role: .developer)],
        projects: [
            SandboxSeed.Project(path: "group/deploy", defaultBranch: "master", files: ["dev/app.yaml": "image: app:1.0.0\n"],
                                protectedBranches: [SandboxSeed.ProtectedBranch(name: "master", allowPush: nil)],
                                approvalsRequired: 1, mergeMethod: .ff, resetApprovalsOnPush: false, pipelineMustSucceed: false),
            SandboxSeed.Project(path: "group/sub/empty"),
        ] + (1...20).map { SandboxSeed.Project(path: "bench/deploy-\($0)", files: ["app.yaml": "image: app-\($0):1.0.0\n"]) },
        argoApplications: [SandboxSeed.ArgoApplication(name: "app-dev", health: "Degraded", sync: "OutOfSync", images: ["app:1.0.0"],
                                                       syncedAgo: 600, project: "group/deploy")],
        prometheus: [SandboxSeed.PrometheusValue(query: "up", value: 1), SandboxSeed.PrometheusValue(query: "none", value: nil)])

    static func apply(_ sandbox: Sandbox) async throws {
        try await sandbox.apply(seed, tokens: ["mia": token, "dev": developerToken])
    }

    @Test func everyPartOfASeedIsServed() async throws {
        try await withSandbox("seeding") { sandbox, _ in
            try await Self.apply(sandbox)
            let api = sandbox.baseURL.absoluteString + "/api/v4"
            let auth = ["PRIVATE-TOKEN": Self.token]

            let me = try await Curl.request("GET", api + "/user", headers: auth)
            #expect(me.object["username"] as? String == "mia")
            #expect(me.object["name"] as? String == "Mia Maintainer")

            let project = try await Curl.request("GET", api + "/projects/group%2Fdeploy", headers: auth).object
            #expect(project["default_branch"] as? String == "master")
            #expect(project["merge_method"] as? String == "ff")
            #expect(project["approvals_before_merge"] as? Int == 1)
            #expect(project["only_allow_merge_if_pipeline_succeeds"] as? Bool == false)
            let protected = try await Curl.request("GET", api + "/projects/group%2Fdeploy/protected_branches", headers: auth).array
            #expect(protected.map { $0["name"] as? String } == ["master"])
            #expect(((protected.first?["push_access_levels"] as? [[String: Any]])?.first?["access_level"] as? Int) == 0)

            #expect(try sandbox.fileContent(project: "group/deploy", ref: "master", path: "dev/app.yaml") == "image: app:1.0.0\n")
            #expect(try sandbox.fileContent(project: "group/sub/empty", ref: "main", path: "README.md") == "# group/sub/empty\n")
            #expect(try sandbox.fileContent(project: "bench/deploy-17", ref: "main", path: "app.yaml") == "image: app-17:1.0.0\n")
            let listing = try await Curl.request("GET", api + "/projects?per_page=1", headers: auth)
            #expect(listing.header("X-Total") == "22")

            let argo = try await Curl.request("GET", sandbox.baseURL.absoluteString + "/api/v1/applications/app-dev").object
            let status = try #require(argo["status"] as? [String: Any])
            #expect((status["health"] as? [String: Any])?["status"] as? String == "Degraded")
            #expect((status["sync"] as? [String: Any])?["revision"] as? String == (try sandbox.branchSHA(project: "group/deploy", branch: "master")))
            let finished = try #require((status["operationState"] as? [String: Any])?["finishedAt"] as? String)
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let ago = Date().timeIntervalSince(try #require(format.date(from: finished)))
            #expect(ago > 590 && ago < 700, "synced 10 minutes ago, found \(ago) s")

            let up = try await Curl.request("GET", sandbox.baseURL.absoluteString + "/api/v1/query?query=up").object
            #expect(((up["data"] as? [String: Any])?["result"] as? [Any])?.count == 1)
            let none = try await Curl.request("GET", sandbox.baseURL.absoluteString + "/api/v1/query?query=none").object
            #expect(((none["data"] as? [String: Any])?["result"] as? [Any])?.isEmpty == true)
        }
    }

    /// The pool-backed repositories take clones, pushes (protection enforced), in-process commits and MR merges.
    @Test func seededRepositoriesTakePushesAndMerges() async throws {
        try await withSandbox("seeding-git") { sandbox, folder in
            try await Self.apply(sandbox)
            let url = sandbox.baseURL.absoluteString + "/group/deploy.git"
            let work = folder.appendingPathComponent("clone")
            let clone = try await GitHTTPTests.git(["clone", "--quiet", url, work.path], token: Self.developerToken)
            #expect(clone.status == 0, "\(clone.errorText)")
            #expect(try String(contentsOf: work.appendingPathComponent("dev/app.yaml"), encoding: .utf8) == "image: app:1.0.0\n")

            try "image: app:1.1.0\n".write(to: work.appendingPathComponent("dev/app.yaml"), atomically: true, encoding: .utf8)
            #expect(try await GitHTTPTests.git(["commit", "-qam", "bump"], token: nil, in: work).status == 0)
            let toMaster = try await GitHTTPTests.git(["push", "origin", "HEAD:master"], token: Self.token, in: work)
            #expect(toMaster.status != 0)
            #expect(toMaster.errorText.contains("GitLab: You are not allowed to push code to protected branches on this project."))
            let toBranch = try await GitHTTPTests.git(["push", "--quiet", "origin", "HEAD:refs/heads/bump"], token: Self.developerToken, in: work)
            #expect(toBranch.status == 0, "\(toBranch.errorText)")

            let api = sandbox.baseURL.absoluteString + "/api/v4/projects/group%2Fdeploy"
            let created = try await Curl.request("POST", api + "/merge_requests", headers: ["PRIVATE-TOKEN": Self.developerToken],
                                                 body: #"{"title":"Bump","source_branch":"bump","target_branch":"master"}"#)
            #expect(created.status == 201, "\(created.text)")
            let iid = try #require(created.object["iid"] as? Int)
            #expect(try await Curl.request("POST", api + "/merge_requests/\(iid)/approve", headers: ["PRIVATE-TOKEN": Self.token]).status == 201)
            let merged = try await Curl.request("PUT", api + "/merge_requests/\(iid)/merge", headers: ["PRIVATE-TOKEN": Self.token])
            #expect(merged.status == 200, "\(merged.text)")
            #expect(try sandbox.fileContent(project: "group/deploy", ref: "master", path: "dev/app.yaml") == "image: app:1.1.0\n")

            let sha = try sandbox.commit(project: "bench/deploy-3", branch: "main", files: ["app.yaml": "image: app-3:2.0.0\n"], message: "CI")
            #expect(try sandbox.branchSHA(project: "bench/deploy-3", branch: "main") == sha)
            let fetched = try await GitHTTPTests.git(["ls-remote", sandbox.baseURL.absoluteString + "/bench/deploy-3.git", "main"], token: Self.token)
            #expect(fetched.output.hasPrefix(sha), "\(fetched.output) \(fetched.errorText)")
        }
    }

    @Test func aTakenOrRepeatedPathCreatesNothing() async throws {
        try await withSandbox("seeding-taken") { sandbox, _ in
            try sandbox.createProject(path: "group/taken")
            #expect(throws: SandboxError.self) {
                try sandbox.createProjects([SandboxSeed.Project(path: "group/new"), SandboxSeed.Project(path: "group/taken")])
            }
            #expect(throws: SandboxError.self) {
                try sandbox.createProjects([SandboxSeed.Project(path: "group/twice"), SandboxSeed.Project(path: "group/Twice")])
            }
            #expect(sandbox.project("group/new") == nil && sandbox.project("group/twice") == nil)
        }
    }

    @Test func aUserWithoutATokenIsRefused() async throws {
        try await withSandbox("seeding-token") { sandbox, _ in
            let error = await #expect(throws: SandboxError.self) {
                try await sandbox.apply(SandboxSeed(users: [SandboxSeed.User(username: "x", role: .developer)]), tokens: [:])
            }
            #expect(error?.description.contains("no token for seeded user 'x'") == true)
        }
    }
}
