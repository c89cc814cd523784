import Foundation
import Testing
@testable import Sandbox

/// Drives the real `git` CLI against the sandbox's smart-HTTP endpoint.
@Suite("Git smart HTTP")
struct GitHTTPTests {
    /// Runs git with the token passed as an HTTP header through the environment (not argv).
    static func git(_ args: [String], token: String?, in dir: URL? = nil) async throws -> ProcessResult {
        var env = GitRepository.baseEnvironment
        env["GIT_TERMINAL_PROMPT"] = "0"
        if let token {
            let basic = Data("oauth2:\(token)".utf8).base64EncodedString()
            env["GIT_CONFIG_COUNT"] = "1"
            env["GIT_CONFIG_KEY_0"] = "http.extraHeader"
            env["GIT_CONFIG_VALUE_0"] = "Authorization: Basic \(basic)"
        }
        return try await ProcessRunner.runAsync("/usr/bin/env", ["git"] + args, environment: env, currentDirectory: dir)
    }

    @Test func cloneCommitPushAndProtectedBranch() async throws {
        try await Fixture.with { f in
            let url = f.sandbox.baseURL.absoluteString + "/group/deploy.git"
            let work = f.directory.appendingPathComponent("clone")
            let clone = try await Self.git(["clone", "--quiet", url, work.path], token: Fixture.botToken)
            #expect(clone.status == 0, "\(clone.errorText)")
            let content = try String(contentsOf: work.appendingPathComponent("apps/web/deployment.yaml"), encoding: .utf8)
            #expect(content == "image: web:1.0.0\n")

            try "image: web:1.1.0\n".write(to: work.appendingPathComponent("apps/web/deployment.yaml"), atomically: true, encoding: .utf8)
            #expect(try await Self.git(["commit", "-qam", "bump"], token: nil, in: work).status == 0)
            // A new branch is accepted.
            let pushBranch = try await Self.git(["push", "--quiet", "origin", "HEAD:refs/heads/promote"], token: Fixture.botToken, in: work)
            #expect(pushBranch.status == 0, "\(pushBranch.errorText)")
            let local = try await Self.git(["rev-parse", "HEAD"], token: nil, in: work)
            #expect(try f.sandbox.branchSHA(project: Fixture.project, branch: "promote") == local.output)

            // A protected default branch rejects the direct push with GitLab's message.
            f.sandbox.protectBranch(project: Fixture.project, branch: "main")
            let before = try f.sandbox.branchSHA(project: Fixture.project, branch: "main")
            let pushMain = try await Self.git(["push", "origin", "HEAD:main"], token: Fixture.botToken, in: work)
            #expect(pushMain.status != 0)
            #expect(pushMain.errorText.contains("GitLab: You are not allowed to push code to protected branches on this project."))
            #expect(pushMain.errorText.contains("pre-receive hook declined"))
            #expect(try f.sandbox.branchSHA(project: Fixture.project, branch: "main") == before)

            // Reporters cannot push at all; unknown tokens cannot even fetch.
            let reporter = try await Self.git(["push", "origin", "HEAD:refs/heads/other"], token: Fixture.reporterToken, in: work)
            #expect(reporter.status != 0)
            #expect(reporter.errorText.contains("403"))
            let unknown = try await Self.git(["ls-remote", url], token: "wrong-token")
            #expect(unknown.status != 0)
            #expect(unknown.errorText.contains("Authentication failed") || unknown.errorText.contains("401")
                    || unknown.errorText.contains("could not read Username"), "\(unknown.errorText)")
        }
    }

    @Test func missingCredentialsGet401WithBasicChallenge() async throws {
        try await Fixture.with { f in
            let r = try await Curl.request("GET", f.sandbox.baseURL.absoluteString + "/group/deploy.git/info/refs?service=git-upload-pack")
            #expect(r.status == 401)
            #expect(r.header("WWW-Authenticate") == "Basic realm=\"GitLab\"")
            let basic = Data("oauth2:\(Fixture.botToken)".utf8).base64EncodedString()
            let ok = try await Curl.request("GET", f.sandbox.baseURL.absoluteString + "/group/deploy.git/info/refs?service=git-upload-pack",
                                            headers: ["Authorization": "Basic \(basic)"])
            #expect(ok.status == 200)
            #expect(ok.header("Content-Type") == "application/x-git-upload-pack-advertisement")
        }
    }
}
