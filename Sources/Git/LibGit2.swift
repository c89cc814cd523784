import CGit2
import CGitShims

/// Process-wide libgit2 state. `git_libgit2_init` is reference counted; we call it once for the process.
public enum LibGit2 {
    private static let initialized: Bool = {
        git_libgit2_init()
        // Our own TCP stream with Nagle off: libgit2 1.5's stalls each smart-HTTP POST for the
        // server's delayed ACK (~40 ms). Without it everything still works, only slower.
        _ = promobot_git_register_nodelay_stream()
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
