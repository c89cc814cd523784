import Foundation

/// A policy file written from a `DeployLayout.Discovery`: what `promobot init` proposes.
///
/// The gates it cannot know are conservative and marked `GUESS`: the middle stages merge automatically
/// after a 30-minute soak, the last stage (production) waits for one approval; Argo CD health checks
/// gate promotions out of every stage whose application was found. Pure.
public enum PolicyDraft {
    /// The policy's YAML, with a header saying where it came from and comments where it guessed.
    public static func yaml(name: String, discovery: DeployLayout.Discovery) -> String {
        let environments = discovery.environments
        let repositories = Set(environments.map(\.repository))
        let branches = Set(environments.map(\.branch))
        let oneRepository = repositories.count == 1, oneBranch = branches.count == 1
        var lines = [
            "# Written by `promobot init` from \(repositories.sorted().joined(separator: ", ")). Check the lines marked GUESS,",
            "# then run `promobot validate` and `promobot plan`. Keys: docs/policies.md.",
        ]
        for note in discovery.notes { lines.append("# Note: \(note).") }
        lines += ["version: 1", "name: \(name)"]
        if oneRepository, let repository = repositories.first { lines.append("repository: \(repository)") }
        if oneBranch, let branch = branches.first { lines.append("branch: \(quotedIfNeeded(branch))") }
        lines.append("images:")
        for image in discovery.images {
            let versions = environments.compactMap { environment in environment.versions[image].map { "\(environment.name) \($0)" } }
            lines.append("  - \(image)    # \(versions.joined(separator: ", "))")
        }
        lines.append("stages:")
        for (index, environment) in environments.enumerated() {
            let isFirst = index == 0, isLast = index == environments.count - 1
            lines.append("  - name: \(environment.name)")
            if !oneRepository { lines.append("    repository: \(environment.repository)") }
            if !oneBranch { lines.append("    branch: \(quotedIfNeeded(environment.branch))") }
            lines.append("    paths: [\(environment.paths.map(quotedIfNeeded).joined(separator: ", "))]")
            if isFirst { lines.append("    # CI writes this stage (e.g. `promobot set-image`); promobot never promotes into it.") }
            if !isLast, let application = environment.application {
                lines.append("    health:                        # gates promotions out of \(environment.name)")
                lines.append("      - argocd: \(application)")
            } else if !isLast {
                lines.append("    # GUESS: no health checks (no Argo CD application found for \(environment.paths.joined(separator: ", "))): add argocd/http/prometheus checks")
            }
            guard !isFirst else { continue }
            if isLast {
                lines.append("    soak: 24h                      # GUESS: how long a version runs in \(environments[index - 1].name) first")
                lines.append("    merge: approved                # GUESS: a person approves production")
                lines.append("    approvals: 1")
            } else {
                lines.append("    soak: 30m                      # GUESS")
                lines.append("    merge: auto                    # GUESS: merges once GitLab says mergeable")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What `init` prints: one line per stage with its paths, versions and application.
    public static func summary(_ discovery: DeployLayout.Discovery) -> String {
        var lines: [String] = []
        for environment in discovery.environments {
            let versions = discovery.images.compactMap { image in environment.versions[image].map { "\(image):\($0)" } }
            let app = environment.application.map { ", Argo CD application \($0)" } ?? ""
            lines.append("  \(environment.name): \(environment.repository) \(environment.paths.joined(separator: ", ")) (\(versions.joined(separator: ", "))\(app))")
        }
        for note in discovery.notes { lines.append("  note: \(note)") }
        return lines.joined(separator: "\n")
    }

    /// `text`, single-quoted when YAML would read it as something else.
    static func quotedIfNeeded(_ text: String) -> String {
        let plain = text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0)) } && !text.isEmpty
            && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(text.lowercased())
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
