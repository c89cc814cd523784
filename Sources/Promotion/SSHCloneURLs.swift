import Foundation
import GitLab

/// GitLab's SSH clone URLs for `git.transport: ssh`, learned from one project lookup.
///
/// GitLab builds every `ssh_url_to_repo` the same way: the instance's SSH prefix (`git@gitlab.example.com:`,
/// or `ssh://git@gitlab.example.com:2222/` off port 22) followed by the project's path and `.git`. The
/// first lookup teaches the prefix, so the other projects named by path need no API call: a no-op cycle
/// over 1,000 repositories costs one extra REST request, not 1,000. When a URL does not have that shape,
/// nothing is learned and every project is looked up.
actor SSHCloneURLs {
    private var prefix: String?
    /// The first lookup, which concurrent lanes wait for (and learn from) instead of each making their own.
    private var firstLookup: Task<GitLabProject?, Never>?

    /// The SSH clone URL of `project`.
    /// - Throws: `GitLabError` from the lookup, or `SSHCloneURLError` when GitLab reports no SSH URL.
    func url(for project: ResolvedProject, gitlab: GitLabClient) async throws -> String {
        if prefix == nil, let firstLookup, let first = await firstLookup.value { learn(from: first) }
        if let prefix { return prefix + project.path + ".git" }
        let lookup = Task { try await gitlab.project(project.ref) }
        if firstLookup == nil { firstLookup = Task { try? await lookup.value } }
        let found = try await lookup.value
        guard let url = found.sshURLToRepo, !url.isEmpty else { throw SSHCloneURLError(project: project.path) }
        learn(from: found)
        return url
    }

    /// Keeps the prefix of `project`'s SSH URL when it has GitLab's usual shape.
    private func learn(from project: GitLabProject) {
        guard prefix == nil, let url = project.sshURLToRepo else { return }
        let suffix = project.pathWithNamespace + ".git"
        if url.hasSuffix(suffix) { prefix = String(url.dropLast(suffix.count)) }
    }
}

/// GitLab answered a project lookup without an SSH clone URL.
struct SSHCloneURLError: Error, CustomStringConvertible {
    var project: String
    var description: String {
        "GitLab reports no SSH clone URL for \(project) (ssh_url_to_repo is empty): SSH git may be disabled on this instance; use 'git.transport: https'"
    }
}
