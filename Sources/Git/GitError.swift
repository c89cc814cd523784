import CGit2
import Foundation
import HTTP

/// An error from a git operation, with libgit2's own message and a remote URL that never carries credentials.
///
/// `kind` is what callers switch on (`.leaseRejected` is the one the promotion engine handles: somebody else
/// moved the branch, re-plan). `description` says what failed, where, and what to do; it is safe to log.
public struct GitError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, coarse enough to switch on.
    public enum Kind: Sendable, Hashable {
        /// A push or delete with a lease found the remote branch at `actual` (nil: the branch does not exist)
        /// instead of the expected commit. Nothing was changed on the remote.
        case leaseRejected(actual: ObjectID?)
        /// A push that required another branch to be unchanged (the base a commit was built on) found it at
        /// `actual` (nil: gone). Nothing was changed on the remote.
        case baseMoved(branch: String, actual: ObjectID?)
        /// The server refused the ref update; carries the server's own text (e.g. a protected-branch hook message).
        case rejected(String)
        /// The remote asked for credentials and refused the ones we have (or we had none).
        case authentication
        /// The server's TLS certificate failed verification.
        case certificate
        /// A commit, path or repository does not exist.
        case notFound
        /// Connecting to or talking to the remote failed (DNS, refused connection, HTTP status, SSH).
        case network
        /// The caller passed something unusable (a malformed path or branch name).
        case invalidArgument
        /// The disk holding the cache is full (or over its quota): the step wrote nothing that a later step
        /// relies on (libgit2 writes objects, packs and refs to temporary files it renames only when complete).
        case diskFull
        /// Anything else libgit2 reported.
        case other
    }

    /// What went wrong, coarse enough to switch on.
    public var kind: Kind
    /// The operation that failed, e.g. `"git_remote_connect"` or `"push refs/heads/promote/x"`.
    public var operation: String
    /// libgit2's text for the failure (`git_error_last()`), or our own for errors we detect; credentials removed.
    public var message: String
    /// libgit2's return code (e.g. -16 for `GIT_EAUTH`); 0 for errors detected by this module.
    public var code: Int32
    /// The remote involved, with any userinfo removed; nil for local operations.
    public var remote: String?
    /// How many times the operation was tried (more than 1 when transient failures were retried).
    public var attempts: Int = 1
    /// The cache folder involved (the bare clone), when the failure is about the local disk.
    public var folder: String?
    /// What promobot was doing, in words ("fetching", "committing"), for the `.diskFull` description.
    var activity: String?
    /// libgit2's error class (`GIT_ERROR_*`), 0 for errors detected by this module; tells damage from
    /// other failures (see `indicatesDamage`).
    var errorClass: Int32 = 0
    /// Set when the failure is worth retrying (see `TransientFailure`); nil for permanent ones.
    var transient: TransientFailure?

    /// Creates an error; `message` and `remote` are redacted by the caller (see `GitRemote.redacted`).
    public init(kind: Kind, operation: String, message: String, code: Int32 = 0, remote: String? = nil) {
        self.kind = kind
        self.operation = operation
        self.message = message
        self.code = code
        self.remote = remote
    }

    /// One line for logs and CLI output: what failed, on which remote, libgit2's message and a hint.
    public var description: String {
        if kind == .diskFull { return diskFullDescription }
        var text = "git: \(operation) failed"
        if attempts > 1 { text += " after \(attempts) attempts" }
        if let remote { text += " (remote \(remote))" }
        text += ": \(message)"
        if code != 0 { text += " [libgit2 code \(code)]" }
        switch kind {
        case .leaseRejected:
            text += "; someone else moved the branch: refresh and re-plan"
        case .baseMoved:
            text += "; the branch the commit was built on moved: refresh and re-plan"
        case .rejected:
            text += "; the server refused the update: check branch protection and push rules"
        case .authentication:
            text += "; check that the token or SSH key is valid and has write_repository/read_repository access"
        case .certificate where remote.flatMap(KnownHosts.hostSpec(forURL:)) != nil:
            text += "; check the known_hosts file (knownHostsPath)"
        case .certificate:
            text += "; check the CA bundle (caBundlePath) or the server's certificate"
        case .network where attempts > 1:
            text += "; the server kept failing: check its status and the network, then run again"
        case .network:
            text += "; check the URL, network and proxy settings"
        case .notFound, .invalidArgument, .diskFull, .other:
            break
        }
        return text
    }

    /// "git: no space left on device while fetching <remote> into <folder>: free space or move the cache …"
    private var diskFullDescription: String {
        var text = "git: no space left on device while \(activity ?? operation)"
        if let remote { text += " \(remote)" }
        if let folder { text += " into \(folder)" }
        text += ": free space or move the cache (`cache:` in promobot.yaml); nothing half-written was used or pushed"
        text += " (\(operation): \(message)"
        if code != 0 { text += " [libgit2 code \(code)]" }
        return text + ")"
    }
}

/// Maps a libgit2 return code to a thrown `GitError`, reading the thread-local `git_error_last()`
/// immediately (callers must not `await` between the failing call and this one).
///
/// - Parameters:
///   - code: the libgit2 return value; `>= 0` is success and is returned unchanged.
///   - operation: the libgit2 function or our step name, kept in the error.
///   - remote: the redacted remote URL, if a remote is involved.
///   - secrets: strings that must never appear in the message (tokens, passphrases).
/// - Throws: `GitError` when `code < 0`.
@discardableResult
func check(_ code: Int32, operation: String, remote: String? = nil, secrets: [String] = [],
           unclassified: GitError.Kind = .other) throws(GitError) -> Int32 {
    guard code < 0 else { return code }
    throw GitError.fromLastError(code: code, operation: operation, remote: remote, secrets: secrets,
                                 unclassified: unclassified)
}

extension GitError {
    /// Builds an error from libgit2's thread-local last error; see `check(_:operation:remote:secrets:unclassified:)`.
    /// `unclassified` is the kind for errors whose code and class say nothing specific (e.g. an OS-level
    /// "connection refused" during a network call is `.network`).
    static func fromLastError(code: Int32, operation: String, remote: String?, secrets: [String],
                              unclassified: Kind = .other) -> GitError {
        var message = "unknown libgit2 error"
        var errorClass: Int32 = 0
        if let last = git_error_last() {
            if let text = last.pointee.message { message = String(cString: text) }
            errorClass = last.pointee.klass
        }
        git_error_clear()
        let kind: Kind
        switch code {
        case _ where isDiskFull(message: message, errorClass: errorClass): kind = .diskFull
        case GIT_EAUTH.rawValue: kind = .authentication
        case GIT_ECERTIFICATE.rawValue: kind = .certificate
        case GIT_ENOTFOUND.rawValue: kind = .notFound
        case GIT_EINVALIDSPEC.rawValue: kind = .invalidArgument
        default:
            switch errorClass {
            case Int32(GIT_ERROR_NET.rawValue), Int32(GIT_ERROR_HTTP.rawValue), Int32(GIT_ERROR_SSH.rawValue):
                if message.contains("status code: 404") {
                    kind = .notFound  // GitLab answers 404 for projects the token cannot see
                } else if message.contains("status code: 401") || message.contains("status code: 403")
                            || message.lowercased().contains("authentication") {
                    kind = .authentication
                } else {
                    kind = .network
                }
            case Int32(GIT_ERROR_SSL.rawValue):
                kind = message.lowercased().contains("certificate") ? .certificate : .network
            default:
                kind = unclassified
            }
        }
        var error = GitError(kind: kind, operation: operation, message: Redaction.redact(text: message, secrets: secrets),
                             code: code, remote: remote)
        error.errorClass = errorClass
        return error
    }

    /// The operating system's words for a full disk or an exhausted quota (`strerror(ENOSPC)`,
    /// `strerror(EDQUOT)`), which libgit2 appends to its own message for failed writes.
    static let diskFullMessages = [String(cString: strerror(ENOSPC)), String(cString: strerror(EDQUOT))]

    /// A local write failed for lack of space. Transport classes are excluded: a server whose own disk is
    /// full says so over the network, and that is not this machine's cache.
    static func isDiskFull(message: String, errorClass: Int32) -> Bool {
        let transport = [GIT_ERROR_NET, GIT_ERROR_HTTP, GIT_ERROR_SSH, GIT_ERROR_SSL, GIT_ERROR_CALLBACK].map { Int32($0.rawValue) }
        return !transport.contains(errorClass) && diskFullMessages.contains { message.contains($0) }
    }

    /// Raised by a local step (reading or writing the clone), not by the remote or the caller.
    var isLocal: Bool { remote == nil && (kind == .notFound || kind == .other) }

    /// The remote or the way to it failed (credentials, certificate, HTTP, SSH, TLS, network classes):
    /// nothing a check of the local clone could explain.
    var isTransport: Bool {
        let classes = [GIT_ERROR_NET, GIT_ERROR_HTTP, GIT_ERROR_SSH, GIT_ERROR_SSL].map { Int32($0.rawValue) }
        return kind == .authentication || kind == .certificate || classes.contains(errorClass)
    }

    /// A condition of the machine rather than of one clone: a full disk, missing memory, permissions, a
    /// read-only file system, exhausted file descriptors. Deleting and cloning again would not help.
    var isMachineWide: Bool {
        if kind == .diskFull { return true }
        let words = [ENOMEM, EACCES, EPERM, EROFS, EMFILE, ENFILE].map { String(cString: strerror($0)) }
        return errorClass == Int32(GIT_ERROR_NOMEMORY.rawValue) || words.contains { message.contains($0) }
    }

    /// Whether this failure, met while reading the clone, says its files are damaged (so deleting and
    /// cloning it again helps): libgit2 reports it about the repository's own files (classes reference,
    /// zlib, repository, config, odb, object, tree, indexer, sha, or an OS error reading them), and it is
    /// not machine-wide. A commit that is simply not fetched yet is `.notFound` without a class: not damage.
    var indicatesDamage: Bool {
        guard kind == .notFound || kind == .other, !isMachineWide else { return false }
        let damageClasses = [GIT_ERROR_REFERENCE, GIT_ERROR_ZLIB, GIT_ERROR_REPOSITORY, GIT_ERROR_CONFIG, GIT_ERROR_ODB,
                             GIT_ERROR_OBJECT, GIT_ERROR_TREE, GIT_ERROR_INDEXER, GIT_ERROR_SHA, GIT_ERROR_OS]
        return damageClasses.map { Int32($0.rawValue) }.contains(errorClass)
    }
}

extension GitError {
    /// A push or delete found the branch elsewhere than expected: another run or a person pushed.
    public var isLeaseRejection: Bool {
        if case .leaseRejected = kind { return true }
        return false
    }

    /// Where the branch was when a lease was lost (nil: absent, or not a lease rejection).
    public var leaseActual: ObjectID? {
        if case let .leaseRejected(actual) = kind { return actual }
        return nil
    }

    /// The branch a commit was built on moved (see `push(_:to:expecting:unchanged:)`).
    public var baseMoved: Bool {
        if case .baseMoved = kind { return true }
        return false
    }
}
