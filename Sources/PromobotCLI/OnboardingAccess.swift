import ArgumentParser
import Foundation
import Git
import GitLab
import Health
import Manifests
import Onboarding
import Policies

/// The I/O of `promobot init`: the same config and GitLab access as `run` (`GitLabAccess`), used to read
/// deploy repositories and Argo CD's applications, and to open the onboarding MR.
struct OnboardingAccess {
    let config: PromobotConfig
    let gitlab: GitLabAccess
    let health: HealthChecker?

    /// - Throws: ``ConfigurationError`` naming what to set (GitLab URL or token, SSH key).
    init(configPath: String?, environment: [String: String]) throws {
        config = try Runtime.loadConfig(configPath, environment: environment)
        gitlab = try GitLabAccess(config, environment: environment)
        let argocd = try Runtime.access(config.argocd, environment: environment, read: Runtime.readSecretFile)
        health = argocd.map { HealthChecker(transport: Runtime.client(caBundle: nil), argocd: $0, prometheus: nil) }
    }

    /// Every YAML file of each repository at `branch` (else its default branch), with the Argo CD
    /// applications that deploy from it when Argo CD is configured (matched by repository URL).
    func snapshots(of paths: [String], branch: String?) async throws -> [DeployRepositorySnapshot] {
        let sources: [HealthChecker.ArgoSource]
        do {
            sources = try await health?.argoSources() ?? []
        } catch {
            FileHandle.standardError.write(Data("promobot: warning: cannot list Argo CD applications (\(error)); no health checks will be proposed\n".utf8))
            sources = []
        }
        var snapshots: [DeployRepositorySnapshot] = []
        for path in paths {
            let project = try await gitlab.client.project(ProjectRef(path))
            guard let target = branch ?? project.defaultBranch else {
                throw ValidationError("\(path) has no default branch (an empty repository?): name one with --branch")
            }
            let repository = try await checkout(project)
            let refreshed = try await repository.refresh(branches: [target])
            guard let tip = refreshed.tips[target] else {
                throw ValidationError("\(path) has no branch '\(EchoText.escapingControls(target))' (its default branch is \(project.defaultBranch ?? "none"))")
            }
            var files: [String: String] = [:]
            for (file, data) in try await repository.files(under: [""], at: tip) where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
                if let text = String(data: data, encoding: .utf8) { files[file] = text }
            }
            let urls = [project.httpURLToRepo, project.sshURLToRepo].compactMap { $0 }.map(Self.normalizedRepositoryURL)
            let applications = sources.filter { urls.contains(Self.normalizedRepositoryURL($0.repoURL)) }.map { (name: $0.application, path: $0.path) }
            snapshots.append(DeployRepositorySnapshot(repository: project.pathWithNamespace, branch: target, files: files,
                                                      applications: applications))
        }
        return snapshots
    }

    /// The project's clone in the cache, over the configured transport.
    func checkout(_ project: GitLabProject) async throws -> CachedRepository {
        let url = config.gitTransport == .ssh ? (project.sshURLToRepo ?? project.httpURLToRepo) : project.httpURLToRepo
        return try await gitlab.repositories.repository(for: GitRemote(url: url, credentials: gitlab.credentials))
    }

    /// A repository URL as Argo CD and GitLab may spell it differently: no scheme, user, `.git` or case.
    static func normalizedRepositoryURL(_ url: String) -> String {
        var text = url.lowercased()
        if let scheme = text.range(of: "://") { text = String(text[scheme.upperBound...]) }
        if let at = text.firstIndex(of: "@"), !text[..<at].contains("/") { text = String(text[text.index(after: at)...]) }
        text = text.replacingOccurrences(of: ":", with: "/")
        if text.hasSuffix("/") { text.removeLast() }
        if text.hasSuffix(".git") { text.removeLast(4) }
        return text
    }

    // MARK: - The onboarding MR

    /// Opens, or updates in place, the onboarding MR for `policy` on the config's `policiesRepository`:
    /// branch `promobot/onboarding/<policy>` with the policy at `path`, the plan in the description.
    /// Idempotent: an unchanged policy pushes nothing, and one MR per policy is kept up to date.
    /// A branch whose head someone else pushed is left alone (their edits win), and the MR text still updates.
    /// - Returns: the MR's web URL.
    func openOnboardingMergeRequest(policy: String, path: String, yaml: String, plan: String) async throws -> String {
        guard let policiesRepository = config.policiesRepository else {
            throw ValidationError("--merge-request needs 'policiesRepository' in \(config.sourcePath ?? "promobot.yaml"): the GitLab project the policies live in")
        }
        if let problem = PolicyParser.pathProblem(path) { throw ValidationError("--output '\(EchoText.escapingControls(path))' \(problem)") }
        let ref = ProjectRef(policiesRepository)
        let project = try await gitlab.client.project(ref)
        guard let target = project.defaultBranch else { throw ValidationError("\(policiesRepository) has no default branch") }
        let branch = "promobot/onboarding/\(policy)"
        let repository = try await checkout(project)
        let refreshed = try await repository.refresh(branches: [target, branch])
        guard let base = refreshed.tips[target] else { throw ValidationError("\(policiesRepository) has no branch \(target)") }
        let existing = refreshed.remoteRefs[branch]
        var rewrite = true
        if let existing {
            let current = try await repository.readFile(path, at: existing).flatMap { String(data: $0, encoding: .utf8) }
            // The last change to the policy file on the branch: promobot's own, or a person's (left alone).
            let lastChange = try await repository.history(from: existing, paths: [path], since: .distantPast, maxCommits: 50).first
            let byBot = lastChange?.author == config.gitAuthorName
            if current != yaml, !byBot {
                FileHandle.standardError.write(Data("promobot: \(lastChange?.author ?? "someone") changed \(path) on \(branch) in \(policiesRepository): left as it is; the MR text is still updated\n".utf8))
            }
            rewrite = current != yaml && byBot
        }
        if rewrite {
            let commit = try await repository.commit(parent: base, changes: [path: Data(yaml.utf8)],
                                                     author: GitSignature(name: config.gitAuthorName, email: config.gitAuthorEmail),
                                                     message: "Add promotion policy \(policy) (promobot init)")
            try await repository.push(commit, to: branch, expecting: existing)
        }
        let title = "Onboard \(policy) to promobot"
        let description = Self.description(policy: policy, path: path, plan: plan)
        let open = try await gitlab.client.mergeRequests(ref, MergeRequestQuery(state: .opened, sourceBranch: branch))
        if let mine = open.first {
            let updated = try await gitlab.client.updateMergeRequest(ref, iid: mine.iid, UpdateMergeRequest(title: title, description: description))
            return updated.webURL
        }
        let created = try await gitlab.client.createMergeRequest(ref, CreateMergeRequest(
            title: title, description: description, sourceBranch: branch, targetBranch: target, labels: ["promobot"]))
        return created.webURL
    }

    /// The MR description: what was found, the plan, and what the reviewer should check.
    static func description(policy: String, path: String, plan: String) -> String {
        """
        `promobot init` proposes the promotion policy **\(policy)** (`\(path)`), read from the deploy repository.

        ### What to check before merging
        - The stage order and paths: each stage is one environment, upstream first.
        - The lines marked `GUESS`: soak times, merge modes and approvals are conservative defaults.
        - Health checks: Argo CD applications were matched by repository and path; add HTTP or Prometheus checks where they matter.

        ### What promobot would do now (`promobot plan`)
        ```
        \(plan.replacingOccurrences(of: "```", with: "'''"))
        ```

        Re-running `promobot init --merge-request` updates this MR in place.
        """
    }
}
