import Foundation
import Sandbox
import Testing
import TestSupport

/// `promobot webhooks install` as a user runs it: the real binary, the config and policies of `EngineCommandTests`,
/// the token and the webhook secret in the environment, the sandbox GitLab and a webhook receiver on loopback.
@Suite struct WebhooksCommandTests {
    static let project = "group/oms-deploy"
    let secret = "whsec-cli-" + UUID().uuidString

    /// The engine tests' setup, with the bot promoted to Maintainer (hooks need it).
    func withSetup(_ body: (EngineCommandTests.Setup) async throws -> Void) async throws {
        try await withSandbox("cli-webhooks") { sandbox, folder in
            let setup = try EngineCommandTests.Setup(sandbox: sandbox, folder: folder)
            sandbox.addUser("promobot", token: setup.token, role: .maintainer)
            try await body(setup)
        }
    }

    /// What `PROMOBOT_WEBHOOK_SECRET` holds for a run.
    enum Secret { case standard, unset, value(String) }

    /// `promobot webhooks install ARGUMENTS` with the GitLab token and the webhook secret in the environment.
    func install(_ s: EngineCommandTests.Setup, _ arguments: [String], secret: Secret = .standard) async throws -> BinaryRunner.Result {
        var environment = [s.tokenVariable: s.token]
        switch secret {
        case .standard: environment["PROMOBOT_WEBHOOK_SECRET"] = self.secret
        case .unset: break
        case .value(let value): environment["PROMOBOT_WEBHOOK_SECRET"] = value
        }
        let result = try await BinaryRunner.run(["webhooks", "install"] + arguments, in: s.folder, environment: environment)
        for text in [result.stdout, result.stderr] {
            #expect(!text.contains(self.secret), "the secret was printed: \(text)")
            #expect(!text.contains(s.token), "the token was printed: \(text)")
        }
        return result
    }

    @Test func installTwiceKeepsOneHookThatDeliversWithTheSecret() async throws {
        try await withSetup { s in
            try await withWebhookReceiver { receiver in
                let first = try await install(s, ["--url", receiver.url])
                #expect(first.status == 0, "\(first.stderr)")
                let hooks = s.sandbox.webhooks(project: Self.project)
                let hook = try #require(hooks.first)
                #expect(hooks.count == 1)
                // Both stages live in one repository: one line, one hook.
                #expect(first.stdout == "\(Self.project): created hook \(hook.id) -> \(receiver.url) (push, merge requests, pipelines)\n")
                #expect(hook.url == receiver.url)
                #expect(hook.events == [.push, .mergeRequest, .pipeline])
                #expect(hook.enableSSLVerification && hook.hasToken)

                let second = try await install(s, ["--url", receiver.url])
                #expect(second.status == 0, "\(second.stderr)")
                #expect(second.stdout == "\(Self.project): updated hook \(hook.id) -> \(receiver.url) (push, merge requests, pipelines)\n")
                #expect(s.sandbox.webhooks(project: Self.project) == [hook])
                #expect(s.sandbox.requestLines().filter { $0.hasPrefix("POST /api/v4/projects/group%2Foms-deploy/hooks") }.count == 1)
                #expect(s.sandbox.requestLines().filter { $0.hasPrefix("PUT /api/v4/projects/group%2Foms-deploy/hooks/\(hook.id)") }.count == 1)

                // The hook works: a push reaches the receiver with the secret as X-Gitlab-Token.
                try s.sandbox.commit(project: Self.project, branch: "master", files: ["dev/notes.txt": "x\n"], message: "ci")
                let got = try await receiver.waitForRequests(1)
                #expect(got[0].header("X-Gitlab-Event") == "Push Hook")
                #expect(got[0].header("X-Gitlab-Token") == secret)
                #expect(got[0].json["ref"] as? String == "refs/heads/master")
                await s.sandbox.waitForWebhookDeliveries()
                #expect(s.sandbox.webhookDeliveries(project: Self.project).map(\.statusCode) == [200])
            }
        }
    }

    @Test func dryRunSaysWhatItWouldDoAndWritesNothing() async throws {
        try await withSetup { s in
            let url = "https://promobot.example.com/hooks/gitlab"
            s.sandbox.resetRequestLog()
            let dry = try await install(s, ["--url", url, "--dry-run"])
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(dry.stdout == "\(Self.project): would create a hook -> \(url) (push, merge requests, pipelines)\n")
            #expect(s.sandbox.writeRequestCount == 0)
            #expect(s.sandbox.webhooks(project: Self.project).isEmpty)

            #expect(try await install(s, ["--url", url]).status == 0)
            let hook = try #require(s.sandbox.webhooks(project: Self.project).first)
            s.sandbox.resetRequestLog()
            let again = try await install(s, ["--url", url, "--dry-run"])
            #expect(again.stdout == "\(Self.project): would update hook \(hook.id) -> \(url) (push, merge requests, pipelines)\n")
            #expect(s.sandbox.writeRequestCount == 0)
        }
    }

    @Test func theConfigGivesTheURLAndTheSecretFile() async throws {
        try await withSetup { s in
            try await withWebhookReceiver { receiver in
                let secretFile = s.folder.appendingPathComponent("hook-secret")
                try "from-file-\(secret)\n".write(to: secretFile, atomically: true, encoding: .utf8)
                let config = s.folder.appendingPathComponent("promobot.yaml")
                let text = try String(contentsOf: config, encoding: .utf8)
                try (text + "webhook:\n  url: \(receiver.url)\n  secretFile: \(secretFile.path)\n").write(to: config, atomically: true, encoding: .utf8)
                let result = try await install(s, [], secret: .unset)
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stdout.contains("created hook"))
                #expect(s.sandbox.webhooks(project: Self.project).map(\.url) == [receiver.url])
                try s.sandbox.commit(project: Self.project, branch: "feature", files: ["a": "1"], message: "a")
                let got = try await receiver.waitForRequests(1)
                #expect(got[0].header("X-Gitlab-Token") == "from-file-\(secret)")
            }
        }
    }

    @Test func configurationProblemsExitTwo() async throws {
        try await withSetup { s in
            let noSecret = try await install(s, ["--url", "https://promobot.example.com/hooks"], secret: .unset)
            #expect(noSecret.status == 2)
            #expect(noSecret.stderr.contains("PROMOBOT_WEBHOOK_SECRET"), "\(noSecret.stderr)")
            #expect(noSecret.stderr.contains("webhook.secretEnv"), "\(noSecret.stderr)")
            let emptySecret = try await install(s, ["--url", "https://promobot.example.com/hooks"], secret: .value(" "))
            #expect(emptySecret.status == 2)
            #expect(emptySecret.stderr.contains("PROMOBOT_WEBHOOK_SECRET"), "\(emptySecret.stderr)")
            let noURL = try await install(s, [])
            #expect(noURL.status == 2)
            #expect(noURL.stderr.contains("no webhook URL: pass --url or set 'webhook.url'"), "\(noURL.stderr)")
            let credentials = try await install(s, ["--url", "https://user:pass@promobot.example.com/hooks"])
            #expect(credentials.status == 2)
            #expect(credentials.stderr.contains("'--url' must be an absolute http:// or https:// URL without credentials"), "\(credentials.stderr)")
            #expect(!credentials.stderr.contains("pass@"))
            let noToken = try await BinaryRunner.run(["webhooks", "install", "--url", "https://promobot.example.com/hooks"], in: s.folder,
                                                     environment: ["PROMOBOT_WEBHOOK_SECRET": secret, s.tokenVariable: ""])
            #expect(noToken.status == 2)
            #expect(noToken.stderr.contains(s.tokenVariable), "\(noToken.stderr)")
            #expect(s.sandbox.webhooks(project: Self.project).isEmpty)
        }
    }

    @Test func aFailingRepositoryExitsOneAndTheOthersAreStillDone() async throws {
        try await withSetup { s in
            try s.addPolicy("ghost", repository: "group/a-missing-deploy")
            let url = "https://promobot.example.com/hooks/gitlab"
            let result = try await install(s, ["--url", url])
            #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("group/a-missing-deploy"), "\(result.stderr)")
            #expect(result.stderr.contains("404"), "\(result.stderr)")
            #expect(result.stdout.contains("\(Self.project): created hook"), "\(result.stdout)")
            #expect(s.sandbox.webhooks(project: Self.project).count == 1)
            // --policy narrows the repositories, as for `run`.
            let only = try await install(s, ["--url", url, "--policy", "oms"])
            #expect(only.status == 0, "\(only.stderr)")
            #expect(only.stdout.contains("updated hook"))

            // Below Maintainer, GitLab refuses: exit 1, saying so.
            s.sandbox.addUser("promobot", token: s.token, role: .developer)
            let developer = try await install(s, ["--url", url, "--policy", "oms"])
            #expect(developer.status == 1)
            #expect(developer.stderr.contains("403"), "\(developer.stderr)")
        }
    }
}
