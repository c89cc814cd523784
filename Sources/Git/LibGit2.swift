import CGit2
import CGitShims

/// Process-wide libgit2 state. `git_libgit2_init` is reference counted; we call it once for the process.
public enum LibGit2 {
    private static let initialized: Bool = {
        git_libgit2_init()
        // Our own TCP stream with Nagle off: libgit2 1.5's stalls each smart-HTTP POST for the
        // server's delayed ACK (~40 ms). Without it everything still works, only slower.
        _ = promobot_git_register_nodelay_stream()
        // Memory that grows with the number of repositories: libgit2 keeps pack windows mapped (up to
        // 8 GiB by default on 64-bit) and decoded objects cached (256 MiB) across every open repository.
        // promobot reads a few small manifests per repository, so small bounds cost nothing measurable and
        // keep a 1,000-repository process small.
        _ = promobot_git_opts_set_size(Int32(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT.rawValue), 32 << 20)
        _ = promobot_git_opts_set_size(Int32(GIT_OPT_SET_MWINDOW_FILE_LIMIT.rawValue), 64)
        _ = promobot_git_opts_set_cache_max_size(16 << 20)
        return true
    }()

    /// Make sure libgit2 is initialised; cheap after the first call.
    static func ensureInitialized() { _ = initialized }

    /// Connections libgit2 opened through promobot's TCP stream with `TCP_NODELAY` in effect.

    /// The version of the libgit2 the process runs on, e.g. "1.5.1".
    public static var version: String {
        ensureInitialized()
        var major: Int32 = 0, minor: Int32 = 0, rev: Int32 = 0
        git_libgit2_version(&major, &minor, &rev)
        return "\(major).\(minor).\(rev)"
    }
}
