import Foundation
import Onboarding
import Policies
import Testing

/// `promobot init`'s pure half: environments and images found in deploy-repository layouts, and a
/// policy draft that `validate` accepts.
@Suite struct DeployLayoutTests {
    static func deployment(_ image: String, _ version: String) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: app
        spec:
          template:
            spec:
              containers:
                - name: app
                  image: \(image):\(version)

        """
    }

    static func kustomization(_ image: String, _ version: String) -> String {
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../base]\nimages:\n  - name: \(image)\n    newTag: \"\(version)\"\n"
    }

    /// The draft parses without errors (warnings allowed), as `validate` would say.
    static func validated(_ yaml: String) throws -> Policy {
        let (policy, diagnostics) = PolicyParser.parse(yaml: yaml, path: "policies/draft.yaml")
        #expect(!diagnostics.contains { $0.isError }, "\(diagnostics.map(\.formatted))\n\(yaml)")
        return try #require(policy)
    }

    @Test func folderPerEnvironment() throws {
        let app = "registry.example.com/oms/app", web = "registry.example.com/oms/web", tool = "registry.example.com/tools/debug"
        var files: [String: String] = ["README.md": "# deploy\n"]
        for (env, version) in [("prod", "1.4.2"), ("dev", "1.5.0"), ("test", "1.4.2")] {
            files["\(env)/app/deploy.yaml"] = Self.deployment(app, version)
            files["\(env)/web/deploy.yaml"] = Self.deployment(web, version)
        }
        files["dev/debug.yaml"] = Self.deployment(tool, "latest")
        let discovery = try DeployLayout.discover([DeployRepositorySnapshot(
            repository: "group/oms-deploy", branch: "master", files: files,
            applications: [(name: "oms-dev", path: "dev"), (name: "oms-test", path: "./test/")])])
        #expect(discovery.environments.map(\.name) == ["dev", "test", "prod"])
        #expect(discovery.environments.map(\.paths) == [["dev/"], ["test/"], ["prod/"]])
        #expect(discovery.images == [app, web])
        #expect(discovery.environments.map(\.application) == ["oms-dev", "oms-test", nil])
        #expect(discovery.notes == ["left out, found in one environment only: \(tool)"])

        let name = DeployLayout.policyName(for: "group/oms-deploy")
        #expect(name == "oms")
        let policy = try Self.validated(PolicyDraft.yaml(name: name, discovery: discovery))
        #expect(policy.name == "oms" && policy.images == [app, web])
        #expect(policy.stages.map(\.name) == ["dev", "test", "prod"])
        #expect(policy.stages.map(\.repository) == ["group/oms-deploy", "group/oms-deploy", "group/oms-deploy"])
        #expect(policy.stages[0].health == [.argocd(application: "oms-dev", settle: nil)])
        #expect(policy.stages[1].health == [.argocd(application: "oms-test", settle: nil)] && policy.stages[1].merge == .auto)
        #expect(policy.stages[2].merge == .approved && policy.stages[2].approvals == 1)
    }

    @Test func overlaysWithABase() throws {
        let image = "registry.example.com/shop/api"
        let files = [
            "base/deployment.yaml": Self.deployment(image, "0.0.0"),
            "base/kustomization.yaml": "resources: [deployment.yaml]\n",
            "overlays/staging/kustomization.yaml": Self.kustomization(image, "2.1.0"),
            "overlays/production/kustomization.yaml": Self.kustomization(image, "2.0.3"),
            "overlays/dev/kustomization.yaml": Self.kustomization(image, "2.2.0-rc.1"),
        ]
        let discovery = try DeployLayout.discover([DeployRepositorySnapshot(repository: "shop/api-gitops", branch: "main", files: files)])
        #expect(discovery.environments.map(\.name) == ["dev", "staging", "production"])
        #expect(discovery.environments.map(\.paths) == [["overlays/dev/"], ["overlays/staging/"], ["overlays/production/"]])
        let policy = try Self.validated(PolicyDraft.yaml(name: DeployLayout.policyName(for: "shop/api-gitops"), discovery: discovery))
        #expect(policy.name == "api" && policy.stages.count == 3)
    }

    @Test func unknownNamesAreOrderedByNewestTagAndSaySo() throws {
        let image = "registry.example.com/x/app"
        let files = ["blue/app.yaml": Self.deployment(image, "1.0.0"), "green/app.yaml": Self.deployment(image, "1.1.0")]
        let discovery = try DeployLayout.discover([DeployRepositorySnapshot(repository: "g/x", branch: "main", files: files)])
        #expect(discovery.environments.map(\.name) == ["green", "blue"])
        #expect(discovery.notes.contains { $0.contains("the stage order is a guess") })
    }

    @Test func oneRepositoryPerEnvironment() throws {
        let image = "registry.example.com/pay/api"
        let snapshots = [
            DeployRepositorySnapshot(repository: "pay/dev", branch: "main", files: ["k8s/api/deploy.yaml": Self.deployment(image, "3.1.0")]),
            DeployRepositorySnapshot(repository: "pay/prod", branch: "release", files: ["k8s/api/deploy.yaml": Self.deployment(image, "3.0.0"),
                                                                                          "k8s/api/hpa.yaml": "kind: HorizontalPodAutoscaler\n"]),
        ]
        let discovery = try DeployLayout.discover(snapshots)
        #expect(discovery.environments.map(\.name) == ["dev", "prod"])
        #expect(discovery.environments.map(\.paths) == [["k8s/api/"], ["k8s/api/"]])
        let policy = try Self.validated(PolicyDraft.yaml(name: "payments", discovery: discovery))
        #expect(policy.stages.map(\.repository) == ["pay/dev", "pay/prod"])
        #expect(policy.stages.map(\.branch) == ["main", "release"])
    }

    /// Several repositories: one with folders of unknown names is ordered by its tags, and the notes say so.
    @Test func unknownFolderNamesInOneOfSeveralRepositoriesAreAGuessAndSaySo() throws {
        let image = "registry.example.com/x/app"
        let snapshots = [
            DeployRepositorySnapshot(repository: "g/x-deploy", branch: "main", files: ["blue/app.yaml": Self.deployment(image, "1.0.0"),
                                                                                      "green/app.yaml": Self.deployment(image, "1.1.0")]),
            DeployRepositorySnapshot(repository: "g/x-prod", branch: "main", files: ["app.yaml": Self.deployment(image, "0.9.0")]),
        ]
        let discovery = try DeployLayout.discover(snapshots)
        #expect(discovery.environments.map(\.name) == ["green", "blue", "prod"])
        #expect(discovery.notes.contains { $0.contains("the stage order is a guess") }, "\(discovery.notes)")
    }

    @Test func aRepositoryWithoutEnvironmentsSaysWhatWasLookedFor() {
        let files = ["app/deploy.yaml": Self.deployment("registry.example.com/a/b", "1.0.0")]
        #expect(throws: DeployLayout.Failure.self) {
            try DeployLayout.discover([DeployRepositorySnapshot(repository: "g/one", branch: "main", files: files)])
        }
        do {
            _ = try DeployLayout.discover([DeployRepositorySnapshot(repository: "g/one", branch: "main", files: files)])
        } catch {
            #expect(error.description.contains("found no environment folders in g/one (branch main)"))
            #expect(error.description.contains("give --repository once per environment"))
        }
    }
}
