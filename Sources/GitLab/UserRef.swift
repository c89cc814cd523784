/// A GitLab user named by id or by username; usernames are resolved with `GET /users?username=`
/// (once per client; results are cached). A value type: thread-safe.
public enum UserRef: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, CustomStringConvertible {
    case id(Int)
    case username(String)

    /// `"alice"` or `"@alice"` as a username.
    public init(stringLiteral value: String) { self = .username(value) }
    /// `42` as an id.
    public init(integerLiteral value: Int) { self = .id(value) }

    /// `#42` or `@alice`.
    public var description: String {
        switch self {
        case .id(let id): "#\(id)"
        case .username(let name): "@\(name.hasPrefix("@") ? String(name.dropFirst()) : name)"
        }
    }
}
