/// Why a text is not a valid image reference. A value type; thread-safe.
public struct ImageReferenceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, precisely enough to fix it.
    public enum Reason: Sendable, Hashable {
        /// The reference (or its name part) is empty.
        case empty
        /// The name (host and path) is longer than 255 characters.
        case nameTooLong
        /// The registry host is not a valid host name or `[IPv6]` address.
        case invalidHost(String)
        /// The registry port is not a number from 0 to 65535.
        case invalidPort(String)
        /// A path component contains uppercase letters (repositories are lowercase).
        case uppercase(String)
        /// A path component is empty or uses characters outside `[a-z0-9]` and the separators `.`, `_`, `__`, `-`.
        case invalidPath(String)
        /// The tag does not match `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
        case invalidTag(String)
        /// The digest is not `algorithm:hex` (sha256 needs 64 lowercase hex digits).
        case invalidDigest(String)
    }

    /// The text that failed to parse.
    public var reference: String
    /// What is wrong with it.
    public var reason: Reason

    /// Creates an error for `reference`.
    public init(reference: String, reason: Reason) {
        self.reference = reference
        self.reason = reason
    }

    /// A message naming the reference and the problem.
    public var description: String {
        let problem: String
        switch reason {
        case .empty: problem = "the image name is empty"
        case .nameTooLong: problem = "the image name is longer than 255 characters"
        case .invalidHost(let host): problem = "'\(host)' is not a valid registry host"
        case .invalidPort(let port): problem = "'\(port)' is not a valid registry port (0-65535)"
        case .uppercase(let part): problem = "repository path '\(part)' must be lowercase"
        case .invalidPath(let part):
            problem = "repository path component '\(part)' is invalid (use a-z, 0-9 and single '.', '_', '__' or '-' separators)"
        case .invalidTag(let tag):
            problem = "tag '\(tag)' is invalid (at most 128 characters of A-Z a-z 0-9 _ . -, not starting with . or -)"
        case .invalidDigest(let digest):
            problem = "digest '\(digest)' is invalid (expected algorithm:hex, e.g. sha256: and 64 lowercase hex digits)"
        }
        return "invalid image reference '\(reference)': \(problem)"
    }
}
