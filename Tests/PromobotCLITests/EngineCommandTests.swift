import Foundation
import Planning
import PromobotCLI
import Sandbox
import Testing
import TestSupport

/// `run`, `plan`, `status` and `demo` as a user runs them: the real binary, a config file, a policies
/// folder, the token in an environment variable, and a sandbox GitLab on loopback.
@Suite struct EngineCommandTests {
    /// A sandbox with the oms repo where dev is ahead of test, plus a working folder with config and policy.
    final class Setup: @unchecked Sendable {
        let sandbox: Sandbox
        let folder: URL
        let token = "glpat-cli-" + UUID().uuidString
        let tokenVariable = "PROMOBOT_TEST_TOKEN"

        /// Seeds a started `sandbox` and writes config and policy into `folder` (both owned by `withSandbox`).
        init(sandbox: Sandbox, folder: URL) throws {
            self.sandbox = sandbox
            self.folder = folder
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("policies"), withIntermediateDirectories: true)
            sandbox.addUser("promobot", token: token, role: .developer)
            func deploy(_ version: String) -> String {
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/oms/app:\(version)\n"
            }
            try sandbox.createProject(path: "group/oms-deploy", defaultBranch: "master",
                                      files: ["dev/deploy.yaml": deploy("1.5.0"), "test/deploy.yaml": deploy("1.4.2")])
            let config = """
            gitlab:
              url: \(sandbox.baseURL.absoluteString)
              tokenEnv: \(tokenVariable)
            git:
              authorName: promobot
              authorEmail: promobot@example.com
            policies: policies/
            cache: \(folder.appendingPathComponent("cache").path)

            """
            try config.write(to: folder.appendingPathComponent("promobot.yaml"), atomically: true, encoding: .utf8)
            let policy = """
            version: 1
            name: oms
            repository: group/oms-deploy
            branch: master
            images: [registry.example.com/oms/app]
            stages:
              - name: dev
                paths: [dev/]
              - name: test
                paths: [test/]
                merge: manual

            """
            try policy.write(to: folder.appendingPathComponent("policies/oms.yaml"), atomically: true, encoding: .utf8)
        }

        /// Adds policy `name` (stages dev and test) for `repository`, e.g. one whose project does not exist.
        func addPolicy(_ name: String, repository: String) throws {
            let policy = """
            version: 1
            name: \(name)
            repository: \(repository)
            branch: master
            images: [registry.example.com/\(name)/app]
            stages:
              - name: dev
                paths: [dev/]
              - name: test
                paths: [test/]

            """
            try policy.write(to: folder.appendingPathComponent("policies/\(name).yaml"), atomically: true, encoding: .utf8)
        }

        func promobot(_ arguments: [String], token: String? = nil) async throws -> BinaryRunner.Result {
            try await BinaryRunner.run(arguments, in: folder, environment: [tokenVariable: token ?? self.token])
        }
    }

    /// Runs `body` with a fresh setup; `withSandbox` shuts the sandbox down and removes the folder on every path.
    func withSetup(_ body: (Setup) async throws -> Void) async throws {
        try await withSandbox("cli") { sandbox, folder in try await body(Setup(sandbox: sandbox, folder: folder)) }
    }

    @Test func planShowsTheDecisionAndWritesNothing() async throws {
        try await withSetup { s in
            let result = try await s.promobot(["plan"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("oms/test (from dev): open MR: promote app 1.4.2 -> 1.5.0"), "\(result.stdout)")
            #expect(result.stdout.contains("    – image-exists: not checked (no registry configured for registry.example.com)"), "\(result.stdout)")
            #expect(s.sandbox.mergeRequests(project: "group/oms-deploy").isEmpty)
            let json = try await s.promobot(["plan", "--json"])
            let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            let stages = try #require(document?["stages"] as? [[String: Any]])
            #expect(stages.first?["stage"] as? String == "test")
        }
    }

    /// With the sandbox as registry.example.com's registry (token auth, credentials from the environment), `plan`
    /// says the tag exists; a tag the registry lacks blocks with its code. The password never shows.
    @Test func planAsksTheConfiguredRegistry() async throws {
        try await withSetup { s in
            s.sandbox.addUser("ci", token: "ci-registry-token-5678", role: .developer)
            s.sandbox.setRegistryTokenAuth(true)
            s.sandbox.pushImage("oms/app", tag: "1.5.0")
            let config = try String(contentsOf: s.folder.appendingPathComponent("promobot.yaml"), encoding: .utf8) + """
            registries:
              registry.example.com:
                url: \(s.sandbox.registryURL.absoluteString)
                usernameEnv: REG_USER
                passwordEnv: REG_PASSWORD

            """
            try config.write(to: s.folder.appendingPathComponent("promobot.yaml"), atomically: true, encoding: .utf8)
            let environment = [s.tokenVariable: s.token, "REG_USER": "ci", "REG_PASSWORD": "ci-registry-token-5678", "DOCKER_CONFIG": s.folder.path]
            let found = try await BinaryRunner.run(["plan"], in: s.folder, environment: environment)
            #expect(found.status == 0, "\(found.stderr)")
            #expect(found.stdout.contains("    ✓ image-exists: app found in the registry"), "\(found.stdout)")
            s.sandbox.deleteImageTag("oms/app", tag: "1.5.0")
            let missing = try await BinaryRunner.run(["plan"], in: s.folder, environment: environment)
            #expect(missing.stdout.contains("oms/test (from dev): blocked (image-exists): registry.example.com/oms/app:1.5.0 not found (MANIFEST_UNKNOWN)"), "\(missing.stdout)")
            #expect(missing.stdout.contains("    ✗ image-exists: registry.example.com/oms/app:1.5.0 not found (MANIFEST_UNKNOWN)"))
            #expect(!(found.stdout + found.stderr + missing.stdout + missing.stderr).contains("ci-registry-token-5678"))
        }
    }

    @Test func runOpensTheMRAndStatusShowsIt() async throws {
        try await withSetup { s in
            let run = try await s.promobot(["run"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(s.sandbox.mergeRequests(project: "group/oms-deploy").count == 1)
            #expect(run.stderr.contains("oms/test"), "\(run.stderr)")
            // The MR's marker names the promobot that wrote it: the version baked into the binary.
            let description = try #require(s.sandbox.mergeRequests(project: "group/oms-deploy").first?.description)
            #expect(MergeRequestText.marker(in: description)?.promobotVersion == Promobot.version, "\(description)")
            let status = try await s.promobot(["status", "--format", "markdown", "--output", "board.md"])
            #expect(status.status == 0, "\(status.stderr)")
            let board = try String(contentsOf: s.folder.appendingPathComponent("board.md"), encoding: .utf8)
            #expect(board.contains("1.5.0") && board.contains("1.4.2") && board.contains("!1"), "\(board)")
            // The HTML board is the status page: the same hooks the server's page has.
            let html = try await s.promobot(["status", "--format", "html", "--output", "board.html"])
            #expect(html.status == 0, "\(html.stderr)")
            let page = try String(contentsOf: s.folder.appendingPathComponent("board.html"), encoding: .utf8)
            #expect(page.contains("data-stage=\"oms/test\""), "\(page)")
            #expect(page.contains("<a class=\"mr\" href=\"\(s.sandbox.baseURL.absoluteString)"), "\(page)")
            #expect(page.contains("<p class=\"blocked-reason\">merge is manual: a person merges !1</p>"), "\(page)")
            #expect(!page.contains("http-equiv=\"refresh\""))
            for text in [run.stdout, run.stderr, status.stdout, status.stderr, board, html.stdout, html.stderr, page] { #expect(!text.contains(s.token)) }
        }
    }

    @Test func runExitsOneWhenAPolicyFails() async throws {
        try await withSetup { s in
            s.sandbox.injectFault(SandboxFault(pathPrefix: "/api/v4", kind: .status(500, body: #"{"message":"500 Internal Server Error"}"#), count: 1000))
            let result = try await s.promobot(["run", "--log-format", "json"])
            #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("\"level\":\"error\""), "\(result.stderr)")
            #expect(!result.stderr.contains(s.token))
        }
    }

    @Test func dryRunWritesNothingAndSaysWhatItWouldDo() async throws {
        try await withSetup { s in
            let result = try await s.promobot(["run", "--dry-run"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("would open MR: promote app 1.4.2 -> 1.5.0"), "\(result.stderr)")
            #expect(s.sandbox.mergeRequests(project: "group/oms-deploy").isEmpty)
            #expect(try s.sandbox.branchSHA(project: "group/oms-deploy", branch: "promobot/oms/test") == nil)
        }
    }

    @Test func stopFileInThePoliciesFolderHaltsTheBot() async throws {
        try await withSetup { s in
            try "incident 42\n".write(to: s.folder.appendingPathComponent("policies/.promobot-stop"), atomically: true, encoding: .utf8)
            let plan = try await s.promobot(["plan"])
            #expect(plan.stdout.contains("emergency-stop"), "\(plan.stdout)")
            #expect(plan.stdout.contains(".promobot-stop exists"), "\(plan.stdout)")
            let run = try await s.promobot(["run"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(s.sandbox.mergeRequests(project: "group/oms-deploy").isEmpty)
        }
    }

    /// `--watch` reads config, policies and the stop file again every cycle: lifting the stop takes
    /// effect without a restart.
    @Test func watchNoticesTheStopFileGoing() async throws {
        try await withSetup { s in
            let stop = s.folder.appendingPathComponent("policies/.promobot-stop")
            try "maintenance\n".write(to: stop, atomically: true, encoding: .utf8)
            async let watched = BinaryRunner.run(["run", "--watch", "1s"], in: s.folder,
                                                 environment: [s.tokenVariable: s.token], timeout: 8)
            try await Task.sleep(for: .seconds(2.5))
            #expect(s.sandbox.mergeRequests(project: "group/oms-deploy").isEmpty, "the stop file must hold while present")
            try FileManager.default.removeItem(at: stop)
            var opened = false
            for _ in 0..<40 where !opened {
                try await Task.sleep(for: .milliseconds(100))
                opened = !s.sandbox.mergeRequests(project: "group/oms-deploy").isEmpty
            }
            let result = try await watched
            #expect(opened, "no MR after the stop file was removed:\n\(result.stderr)")
            #expect(s.sandbox.mergeRequests(project: "group/oms-deploy").count == 1)
            // Each watched cycle gives its freed memory back and says what the process holds then.
            let done = result.stderr.split(separator: "\n").filter { $0.contains("cycle done") }
            #expect(done.count >= 2 && done.allSatisfy { $0.contains("rss_mib=") }, "\(result.stderr)")
        }
    }

    @Test func policyOptionRunsOnlyTheNamedPolicies() async throws {
        try await withSetup { s in
            try s.addPolicy("ghost", repository: "group/does-not-exist")
            let everything = try await s.promobot(["run"])
            #expect(everything.status == 1, "ghost's repository does not exist: \(everything.stderr)")
            #expect(s.sandbox.mergeRequests(project: "group/oms-deploy").count == 1, "oms still ran")
            let only = try await s.promobot(["run", "--policy", "oms"])
            #expect(only.status == 0, "\(only.stderr)")
            let unknown = try await s.promobot(["run", "--policy", "nope"])
            #expect(unknown.status == 2)
            #expect(unknown.stderr.contains("no policy named 'nope'"), "\(unknown.stderr)")
            #expect(unknown.stderr.contains("known:") && unknown.stderr.contains("oms"), "\(unknown.stderr)")
        }
    }

    @Test func missingTokenExitsTwoNamingTheVariable() async throws {
        try await withSetup { s in
            let result = try await BinaryRunner.run(["run"], in: s.folder, environment: ["PROMOBOT_TEST_TOKEN": ""])
            #expect(result.status == 2)
            #expect(result.stderr.contains("PROMOBOT_TEST_TOKEN"), "\(result.stderr)")
        }
    }

    @Test func demoWalksTheWholeStory() async throws {
        let result = try await BinaryRunner.run(["demo"], timeout: 300)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let steps = ["opened !1", "merged !1", "opened !2", "merged !2", "prod runs 1.5.0",
                     // prod pins digests resolved from the sandbox's registry.
                     "open MR: promote app 1.4.0 -> 1.5.0@sha256:", "image-exists: app, web found in the registry (digests pinned)",
                     "!2 prod/app/deploy.yaml: image: registry.example.com/oms/app:1.5.0@sha256:",
                     // The way back: automatic rollback, the hold, the fix flowing.
                     "open rollback MR: roll back app 1.5.0@sha256:", "action: opened !3, merged !3",
                     "blocked (hold): held: app 1.5.0@sha256:", "by promobot (automatic rollback)",
                     "merged !5", "prod runs 1.5.1",
                     // Promote exactly what was tested: a typo'd tag, a re-pushed tag.
                     "blocked (image-exists): registry.example.com/oms/app:1.6.O not found (MANIFEST_UNKNOWN)",
                     "blocked (image-exists): tag moved: registry.example.com/oms/app:1.6.0 now points at sha256:"]
        for step in steps {
            #expect(result.stdout.contains(step), "missing '\(step)' in:\n\(result.stdout)")
        }
    }
}
