import Foundation
import HTTP

/// Credentials for one remote, held in memory only.
///
/// They reach libgit2 only through the credentials callback: never a git config, never a URL on disk,
/// never an error message. `description` is redacted so an accidental `print` leaks nothing.
public enum GitCredentials: Sendable, Hashable, CustomStringConvertible {
    /// No credentials (local paths, public repositories, tests).
    case none
    /// An HTTPS token (GitLab project/group/personal access token), sent as username `oauth2`, token as password.
    case token(String)
    /// An SSH key pair. `privateKey`/`publicKey` are file paths, or the PEM/OpenSSH text itself when it starts
    /// with `-----BEGIN`. The username comes from the URL (`git@host:...`), else `git`.
    case sshKey(privateKey: String, publicKey: String?, passphrase: String?)

    /// Redacted, e.g. `token(***)`.
    public var description: String {
        switch self {
        case .none: return "none"
        case .token: return "token(\(Redaction.placeholder))"
        case .sshKey: return "sshKey(\(Redaction.placeholder))"
        }
    }

    /// The strings that must never appear in output.
    var secrets: [String] {
        switch self {
        case .none: return []
        case .token(let token): return token.isEmpty ? [] : [token]
        case .sshKey(let privateKey, _, let passphrase):
            var result: [String] = []
            if privateKey.hasPrefix("-----BEGIN") { result.append(privateKey) }
            if let passphrase, !passphrase.isEmpty { result.append(passphrase) }
            return result
        }
    }
}

/// A remote repository and the credentials to reach it.
///
/// `url` may be `https://`, `http://`, `ssh://`, scp-like `git@host:group/repo.git`, `file://` or a local path.
/// Userinfo in the URL (`https://user:pass@host/...`) is accepted but never stored or printed: it is split off
/// and used as in-memory credentials when `credentials` is `.none`.
public struct GitRemote: Sendable, Hashable, CustomStringConvertible {
    /// The remote URL as given (may contain userinfo; use `redactedURL` for anything you print or store).
    public var url: String
    /// How to authenticate; in memory only.
    public var credentials: GitCredentials

    /// Creates a remote description; nothing is contacted.
    public init(url: String, credentials: GitCredentials = .none) {
        self.url = url
        self.credentials = credentials
    }

    /// The URL without userinfo: safe to log, store, and use as the libgit2 remote URL.
    public var redactedURL: String { Redaction.stripUserinfo(url).url }

    /// The redacted URL and credential kind.
    public var description: String { "\(redactedURL) (credentials: \(credentials))" }

    /// The credentials actually offered to the server: explicit ones, else any `user:password` split off the URL.
    var effectiveCredentials: EffectiveCredentials {
        switch credentials {
        case .token(let token): return .userPass(user: "oauth2", password: token)
        case .sshKey(let privateKey, let publicKey, let passphrase):
            return .sshKey(privateKey: privateKey, publicKey: publicKey, passphrase: passphrase)
        case .none:
            let split = Redaction.stripUserinfo(url)
            if let user = split.user, let password = split.password { return .userPass(user: user, password: password) }
            return .none
        }
    }

    /// Whether the remote speaks git over http(s) (the transport whose failures are retried).
    var isSmartHTTP: Bool {
        let lowercased = redactedURL.lowercased()
        return lowercased.hasPrefix("https://") || lowercased.hasPrefix("http://")
    }

    /// Everything that must be scrubbed from messages and files.
    var secrets: [String] {
        var result = credentials.secrets
        if let password = Redaction.stripUserinfo(url).password, !password.isEmpty { result.append(password) }
        return result
    }
}

/// Credentials in the form the libgit2 callback needs (internal).
enum EffectiveCredentials: Sendable {
    case none
    case userPass(user: String, password: String)
    case sshKey(privateKey: String, publicKey: String?, passphrase: String?)
}
