import Foundation

/// A GitLab project, named by its numeric id or by its full path (`group/sub/repo`).
///
/// GitLab accepts either in the `:id` slot of every project route; a path must have every `/`
/// encoded as `%2F` (an unencoded `/` matches no route and answers 404). `encoded` gives that
/// form; the client never lets Foundation decode it again (URLs are built from strings).
/// A value type: thread-safe.
public enum ProjectRef: Sendable, Hashable, CustomStringConvertible {
    /// The project's numeric id, e.g. `42`.
    case id(Int)
    /// The project's full path with namespace, e.g. `group/sub/deploy-repo` (unencoded).
    case path(String)

    /// Reads `"42"` as `.id(42)` and anything else as `.path` (leading/trailing `/` removed).
    public init(_ string: String) {
        let trimmed = string.trimmingCharacters(in: CharacterSet(charactersIn: "/").union(.whitespaces))
        if !trimmed.isEmpty, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber), let id = Int(trimmed) {
            self = .id(id)
        } else {
            self = .path(trimmed)
        }
    }

    /// The form that goes into a URL path segment: the id's digits, or the path with every
    /// character outside RFC 3986 "unreserved" percent-encoded (so `/` becomes `%2F`).
    public var encoded: String {
        switch self {
        case .id(let id): String(id)
        case .path(let path): URLEncoding.pathSegment(path)
        }
    }

    /// `42` or `group/sub/repo`, for messages.
    public var description: String {
        switch self {
        case .id(let id): String(id)
        case .path(let path): path
        }
    }
}
