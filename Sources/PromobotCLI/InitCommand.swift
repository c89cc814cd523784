import ArgumentParser
import Foundation
import Git
import GitLab
import Health
import Manifests
import Onboarding
import Policies

/// `promobot init --repository GROUP/PROJECT`: reads an existing deploy repository through the same git and
/// GitLab adapters as `run`, finds its environments, images and Argo CD applications (`Onboarding`), and
/// writes a policy that `validate` accepts, or opens an onboarding MR on the policies repository.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Propose a policy for an existing deploy repository: its environments, images and Argo CD applications.",
        discussion: """
            With one --repository, environments are sibling folders whose manifests hold the same images \
            with different tags (dev/, test/, prod/, or overlays/<env>/). Give --repository once per \
            environment when each environment has a repository of its own. Guesses are marked GUESS in the \
            policy; check them, then run `promobot validate` and `promobot plan`.
            """
    )

    @Option(name: .customLong("repository"), help: "The deploy repository (GROUP/PROJECT); repeat it, upstream first, for one repository per environment.")
    var repositories: [String] = []

    @Option(name: .long, help: "The branch to read and target (default: each repository's default branch).")
    var branch: String?

    @Option(name: .long, help: "The policy's name (default: from the repository name, e.g. oms for group/oms-deploy).")
    var name: String?

    @Option(name: .long, help: "Where to write the policy (default: <policies folder>/<name>.yaml). With --merge-request: its path in the policies repository (default: policies/<name>.yaml).")
    var output: String?

    @Flag(name: .long, help: "Overwrite --output when it exists.")
    var force = false

    @Flag(name: .customLong("merge-request"), help: "Instead of writing a file, open (or update) an onboarding MR on the config's policiesRepository with the policy and its plan.")
    var mergeRequest = false

    @Option(name: .long, help: "The global config file (default: promobot.yaml when it exists).")
    var config: String?

    func validate() throws {
        guard !repositories.isEmpty else { throw ValidationError("name the deploy repository: --repository GROUP/PROJECT") }
        for repository in repositories where !PolicyParser.isValidRepository(repository) {
            throw ValidationError("'--repository \(EchoText.escapingControls(repository))' is not a GitLab project path like group/project")
        }
        if let name, !PolicyParser.isValidName(name) {
            throw ValidationError("'--name \(EchoText.escapingControls(name))' is not a policy name: use 1-63 lowercase letters, digits and '-'")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let access: OnboardingAccess
        do {
            access = try OnboardingAccess(configPath: config, environment: environment)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("promobot: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let snapshots = try await access.snapshots(of: repositories, branch: branch)
        let discovery: DeployLayout.Discovery
        do {
            discovery = try DeployLayout.discover(snapshots)
        } catch {
            FileHandle.standardError.write(Data("promobot: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let policyName = name ?? DeployLayout.policyName(for: repositories[0])
        let yaml = PolicyDraft.yaml(name: policyName, discovery: discovery)
        let parsed = PolicyParser.parse(yaml: yaml, path: "\(policyName).yaml", shared: access.config.shared)
        if parsed.policy == nil {
            // A draft that does not validate is a bug in init: say so rather than write it.
            let problems = parsed.diagnostics.map(\.formatted).joined(separator: "\n")
            FileHandle.standardError.write(Data("promobot: the proposed policy does not validate (please report this):\n\(problems)\n\(yaml)".utf8))
            throw ExitCode(1)
        }
        print("found in \(repositories.joined(separator: ", ")):\n\(PolicyDraft.summary(discovery))")
        if mergeRequest {
            let path = output ?? "policies/\(policyName).yaml"
            let url = try await access.openOnboardingMergeRequest(policy: policyName, path: path, yaml: yaml,
                                                                   plan: try await Self.plan(yaml, name: policyName, configPath: config))
            print("onboarding merge request: \(url)")
        } else {
            let path = output ?? (access.config.policies as NSString).appendingPathComponent("\(policyName).yaml")
            if FileManager.default.fileExists(atPath: path), !force {
                throw ValidationError("\(EchoText.escapingControls(path)) exists: choose another --output, or add --force to replace it")
            }
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            print("wrote \(path): check the lines marked GUESS, then run 'promobot validate' and 'promobot plan --policy \(policyName)'")
        }
    }

    /// The dry-run plan of the proposed policy alone, as `promobot plan` prints it, for the MR description.
    static func plan(_ yaml: String, name: String, configPath: String?) async throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("promobot-init-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try yaml.write(to: folder.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
        var arguments = ["--policies", folder.path]
        if let configPath { arguments += ["--config", configPath] }
        let options = try EngineOptions.parse(arguments)
        let runtime = try Runtime.loadOrExit(options, dryRun: true, logFormat: .text, quiet: true)
        let report = await runtime.engine.runCycle()
        return PlanPrinter.text(report, now: runtime.engine.clock())
    }
}
