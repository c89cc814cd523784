import Foundation
import LocalFiles
import Policies
import Sandbox
import Testing
import TestSupport
@testable import PromobotCLI

/// `promobot init` through the real binary against a sandbox GitLab and Argo CD: the demo's deploy
/// repository, an overlays layout, one repository per environment, and the onboarding MR.
@Suite struct InitCommandTests {
    static let tokenVariable = "PROMOBOT_INIT_TOKEN"

    /// A config for `sandbox` in `folder`, with Argo CD and a policies repository.
    static func configure(_ sandbox: Sandbox, _ folder: URL, token: String) throws {
        sandbox.addUser("promobot", token: token, role: .developer)
        try """
            gitlab:
              url: \(sandbox.baseURL.absoluteString)
              tokenEnv: \(tokenVariable)
            argocd:
              url: \(sandbox.baseURL.absoluteString)
            git:
              authorName: promobot
              authorEmail: promobot@example.com
            policies: policies/
            cache: \(folder.appendingPathComponent("cache").path)
            policiesRepository: platform/policies

            """.write(to: folder.appendingPathComponent("promobot.yaml"), atomically: true, encoding: .utf8)
        try sandbox.createProject(path: "platform/policies", defaultBranch: "main", files: ["README.md": "# policies\n"])
    }

    static func promobot(_ arguments: [String], in folder: URL, token: String) async throws -> BinaryRunner.Result {
        try await BinaryRunner.run(arguments, in: folder, environment: [tokenVariable: token])
    }

    static func policy(at path: URL) throws -> Policy {
        let (policy, diagnostics) = PolicyParser.parse(yaml: try String(contentsOf: path, encoding: .utf8), path: path.path)
        #expect(!diagnostics.contains { $0.isError }, "\(diagnostics.map(\.formatted))")
        return try #require(policy)
    }

    @Test func theDemoRepositoryGivesThePolicyItShipsWithMinusTheGates() async throws {
        try await withSandbox("cli-init") { sandbox, folder in
            let token = "glpat-init-" + UUID().uuidString
            try Self.configure(sandbox, folder, token: token)
            try sandbox.createProject(path: DemoFixtures.project, defaultBranch: DemoFixtures.branch,
                                      files: DemoFixtures.deployTree(dev: "1.5.0", test: "1.4.2", prod: "1.4.0"))
            for env in ["dev", "test", "prod"] {
                sandbox.setArgoApplication(SandboxArgoApplication(name: "oms-\(env)", sourceProject: DemoFixtures.project, sourcePath: env))
            }
            let result = try await Self.promobot(["init", "--repository", DemoFixtures.project], in: folder, token: token)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("wrote policies/oms.yaml"), "\(result.stdout)")
            #expect(result.stdout.contains("dev: group/oms-deploy dev/ (registry.example.com/oms/app:1.5.0"), "\(result.stdout)")
            #expect(!result.stdout.contains(token) && !result.stderr.contains(token))

            let written = try Self.policy(at: folder.appendingPathComponent("policies/oms.yaml"))
            let shipped = try Self.policy(at: URL(fileURLWithPath: TestPaths.repositoryRoot()).appendingPathComponent("policies/oms.yaml"))
            #expect(written.name == shipped.name && written.images == shipped.images)
            #expect(written.stages.map(\.name) == shipped.stages.map(\.name))
            #expect(written.stages.map(\.paths) == shipped.stages.map(\.paths))
            #expect(written.stages.map(\.repository) == shipped.stages.map(\.repository))
            #expect(written.stages.map(\.branch) == shipped.stages.map(\.branch))
            #expect(written.stages[0].health == [.argocd(application: "oms-dev", settle: nil)])
            #expect(written.stages[1].health == [.argocd(application: "oms-test", settle: nil)])

            // `validate` accepts it, and the file is not overwritten without --force.
            let validate = try await Self.promobot(["validate"], in: folder, token: token)
            #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
            let again = try await Self.promobot(["init", "--repository", DemoFixtures.project], in: folder, token: token)
            #expect(again.status != 0 && again.stderr.contains("policies/oms.yaml exists"), "\(again.stderr)")
        }
    }

    @Test func anOverlaysLayoutWithABase() async throws {
        try await withSandbox("cli-init-overlays") { sandbox, folder in
            let token = "glpat-init-" + UUID().uuidString
            try Self.configure(sandbox, folder, token: token)
            let image = "registry.example.com/shop/api"
            func overlay(_ version: String) -> String {
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../base]\nimages:\n  - name: \(image)\n    newTag: \"\(version)\"\n"
            }
            try sandbox.createProject(path: "shop/api-gitops", defaultBranch: "main", files: [
                "base/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: \(image):0.0.0\n",
                "base/kustomization.yaml": "resources: [deployment.yaml]\n",
                "overlays/dev/kustomization.yaml": overlay("2.2.0"),
                "overlays/staging/kustomization.yaml": overlay("2.1.0"),
                "overlays/production/kustomization.yaml": overlay("2.0.3"),
            ])
            sandbox.setArgoApplication(SandboxArgoApplication(name: "api-staging", sourceProject: "shop/api-gitops", sourcePath: "overlays/staging"))
            let result = try await Self.promobot(["init", "--repository", "shop/api-gitops"], in: folder, token: token)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            let written = try Self.policy(at: folder.appendingPathComponent("policies/api.yaml"))
            #expect(written.stages.map(\.name) == ["dev", "staging", "production"])
            #expect(written.stages.map(\.paths) == [["overlays/dev/"], ["overlays/staging/"], ["overlays/production/"]])
            #expect(written.stages[1].health == [.argocd(application: "api-staging", settle: nil)])
            // And its plan runs against the same repository: nothing to merge yet, every stage read.
            let plan = try await Self.promobot(["plan", "--policy", "api", "--explain"], in: folder, token: token)
            #expect(plan.status == 0, "\(plan.stdout)\n\(plan.stderr)")
            #expect(plan.stdout.contains("api/staging") && plan.stdout.contains("api/production"), "\(plan.stdout)")
            // --explain: each stage's effective settings with their source lines in the written policy.
            let lines = plan.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            #expect(lines.contains("api/production (policies/api.yaml):"), "\(plan.stdout)")
            #expect(lines.contains { $0.hasPrefix("merge approved policies/api.yaml:") && $0.hasSuffix("(stage)") }, "\(plan.stdout)")
            #expect(lines.contains("pick latest built in"), "\(plan.stdout)")
        }
    }

    @Test func oneRepositoryPerEnvironment() async throws {
        try await withSandbox("cli-init-multi") { sandbox, folder in
            let token = "glpat-init-" + UUID().uuidString
            try Self.configure(sandbox, folder, token: token)
            let image = "registry.example.com/pay/api"
            for (repository, version) in [("pay/api-dev", "3.1.0"), ("pay/api-prod", "3.0.0")] {
                try sandbox.createProject(path: repository, defaultBranch: "main", files: [
                    "apps/api/kustomization.yaml": "images:\n  - name: \(image)\n    newTag: \(version)\n",
                ])
            }
            let result = try await Self.promobot(["init", "--repository", "pay/api-dev", "--repository", "pay/api-prod",
                                                  "--name", "payments", "--output", "payments.yaml"], in: folder, token: token)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            let written = try Self.policy(at: folder.appendingPathComponent("payments.yaml"))
            #expect(written.name == "payments" && written.images == [image])
            #expect(written.stages.map(\.name) == ["dev", "prod"], "named after the environment word in each repository's name")
            #expect(written.stages.map(\.repository) == ["pay/api-dev", "pay/api-prod"])
            #expect(written.stages.map(\.paths) == [["apps/api/"], ["apps/api/"]])
        }
    }

    /// The files of an `examples/` deploy tree, by repository path (the project's one folder walk).
    static func exampleFiles(_ folder: String) throws -> [String: String] {
        let root = TestPaths.repositoryRoot() + "/examples/" + folder
        let paths = try #require(YAMLFileWalk.files(under: root, including: { _ in true }), "cannot list \(root)")
        var files: [String: String] = [:]
        for path in paths { files[String(path.dropFirst(root.count + 1))] = try String(contentsOfFile: path, encoding: .utf8) }
        return files
    }

    /// The shipped multi-repository example: dev and test as folders of one repository, prod a repository of its own.
    @Test func theMultiRepositoryExampleGivesThePolicyItShipsWith() async throws {
        try await withSandbox("cli-init-payments") { sandbox, folder in
            let token = "glpat-init-" + UUID().uuidString
            try Self.configure(sandbox, folder, token: token)
            try sandbox.createProject(path: "group/payments-deploy", defaultBranch: "master", files: try Self.exampleFiles("payments-deploy"))
            try sandbox.createProject(path: "group/payments-prod", defaultBranch: "main", files: try Self.exampleFiles("payments-prod"))
            for env in ["dev", "test"] {
                sandbox.setArgoApplication(SandboxArgoApplication(name: "payments-\(env)", sourceProject: "group/payments-deploy", sourcePath: env))
            }
            let result = try await Self.promobot(["init", "--repository", "group/payments-deploy", "--repository", "group/payments-prod"],
                                                 in: folder, token: token)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            let written = try Self.policy(at: folder.appendingPathComponent("policies/payments.yaml"))
            let shipped = try Self.policy(at: URL(fileURLWithPath: TestPaths.repositoryRoot()).appendingPathComponent("policies/payments.yaml"))
            // The shipped policy also lists a worker image that the example trees do not hold.
            #expect(written.name == shipped.name && written.images == ["registry.example.com/payments/api"])
            #expect(Set(written.images).isSubset(of: Set(shipped.images)))
            #expect(written.stages.map(\.name) == shipped.stages.map(\.name))
            #expect(written.stages.map(\.repository) == shipped.stages.map(\.repository))
            #expect(written.stages.map(\.branch) == shipped.stages.map(\.branch))
            #expect(written.stages.map(\.paths) == shipped.stages.map(\.paths))
            #expect(written.stages.prefix(2).map(\.health) == [[.argocd(application: "payments-dev", settle: nil)],
                                                               [.argocd(application: "payments-test", settle: nil)]])
        }
    }

    @Test func theOnboardingMergeRequestIsOpenedOnceAndUpdatedInPlace() async throws {
        try await withSandbox("cli-init-mr") { sandbox, folder in
            let token = "glpat-init-" + UUID().uuidString
            try Self.configure(sandbox, folder, token: token)
            var files = DemoFixtures.deployTree(dev: "1.5.0", test: "1.4.2", prod: "1.4.0")
            try sandbox.createProject(path: DemoFixtures.project, defaultBranch: DemoFixtures.branch, files: files)
            let arguments = ["init", "--repository", DemoFixtures.project, "--merge-request"]
            let first = try await Self.promobot(arguments, in: folder, token: token)
            #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
            #expect(first.stdout.contains("onboarding merge request: "), "\(first.stdout)")
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("policies/oms.yaml").path), "no file written")
            let opened = sandbox.mergeRequests(project: "platform/policies").filter { $0.state == "opened" }
            let mr = try #require(opened.first)
            #expect(opened.count == 1 && mr.sourceBranch == "promobot/onboarding/oms" && mr.targetBranch == "main")
            #expect(mr.description.contains("What to check before merging") && mr.description.contains("oms/test"), "\(mr.description)")
            let policy = try #require(try sandbox.fileContent(project: "platform/policies", ref: "promobot/onboarding/oms", path: "policies/oms.yaml"))
            #expect(policy.contains("name: oms"))
            let tip = try sandbox.branchSHA(project: "platform/policies", branch: "promobot/onboarding/oms")

            // Unchanged: nothing pushed, the same MR.
            let second = try await Self.promobot(arguments, in: folder, token: token)
            #expect(second.status == 0, "\(second.stderr)")
            #expect(try sandbox.branchSHA(project: "platform/policies", branch: "promobot/onboarding/oms") == tip)
            #expect(sandbox.mergeRequests(project: "platform/policies").count == 1)

            // The deploy repository grew a stage: the same MR, a new commit.
            for (path, text) in DemoFixtures.deployTree(dev: "1.4.0", test: "1.4.0", prod: "1.3.9") where path.hasPrefix("prod/") {
                files["staging/" + path.dropFirst("prod/".count)] = text
            }
            try sandbox.commit(project: DemoFixtures.project, branch: DemoFixtures.branch, files: files, message: "add staging", author: "alice")
            let third = try await Self.promobot(arguments, in: folder, token: token)
            #expect(third.status == 0, "\(third.stderr)")
            #expect(try sandbox.branchSHA(project: "platform/policies", branch: "promobot/onboarding/oms") != tip)
            #expect(sandbox.mergeRequests(project: "platform/policies").count == 1)
            let updated = try #require(try sandbox.fileContent(project: "platform/policies", ref: "promobot/onboarding/oms", path: "policies/oms.yaml"))
            #expect(updated.contains("- name: staging"), "\(updated)")
        }
    }
}
