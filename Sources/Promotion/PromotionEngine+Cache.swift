import Foundation
import Git
import GitLab

extension PromotionEngine {
    /// The end of a cycle over every policy: deletes the cache clones no policy reads any more and that
    /// nobody refreshed for a day (`RepositoryCache.prune(keeping:unusedFor:)`), and logs each one.
    ///
    /// Kept: the clone of every repository a policy names, whether or not this cycle reached it (paths
    /// give their clone URL without GitLab; projects named by id are kept as resolved this cycle, and the
    /// grace period covers one that could not be resolved). Only called when all policies are loaded
    /// (`closeOrphans`); a shard keeps its own repositories, and the grace period keeps those of the other
    /// shards if they share the cache volume, since their refreshes keep the folders recent.
    func pruneCache(resolved: [String]) async {
        var urls = Set(resolved)
        for policy in policies {
            for stage in policy.stages {
                if case .path(let path) = ProjectRef(stage.repository) {
                    urls.insert(ProjectCache.resolved(path: path, gitlabURL: configuration.gitlabURL).cloneURL)
                }
            }
        }
        let remotes = urls.sorted().map { GitRemote(url: $0, credentials: configuration.gitCredentials) }
        let report = await repositories.prune(keeping: remotes)
        for pruned in report.removed {
            logger.info("pruned the cache clone \(pruned.folder) (\(Self.mebibytes(pruned.bytes)), unused for \(Int(pruned.unusedFor / 3600)) h): no policy reads its repository")
        }
        for failure in report.failures {
            logger.warning("could not prune a cache clone no policy reads: \(failure)")
        }
    }

    static func mebibytes(_ bytes: Int64) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
}
