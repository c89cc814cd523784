import HTTP

/// A GitLab access token and the header it travels in.
///
/// The value is only ever written into a request header; `description`, `debugDescription`
/// and reflection (`dump`, `Mirror`) never show it, so a token cannot leak through string
/// interpolation or logs. A value type: thread-safe.
public struct GitLabToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// How the token is presented to GitLab.
    public enum Style: String, Sendable, Hashable {
        /// `PRIVATE-TOKEN: <token>`: personal, project and group access tokens.
        case privateToken
        /// `Authorization: Bearer <token>`: OAuth2 access tokens (GitLab also accepts PATs this way).
        case bearer
    }

    /// The secret itself. Never log or interpolate it.
    public let value: String
    /// Which header carries the token.
    public let style: Style

    /// Wraps a token; `style` defaults to `PRIVATE-TOKEN`.
    public init(_ value: String, style: Style = .privateToken) {
        self.value = value
        self.style = style
    }

    /// The header name and value that authenticate a request.
    var header: (name: String, value: String) {
        switch style {
        case .privateToken: ("PRIVATE-TOKEN", value)
        case .bearer: ("Authorization", "Bearer \(value)")
        }
    }

    /// `GitLabToken(privateToken, REDACTED)`: never the value.
    public var description: String { "GitLabToken(\(style.rawValue), \(Redaction.placeholder))" }
    /// Same as `description`.
    public var debugDescription: String { description }
    /// Hides the value from `dump` and `Mirror`.
    public var customMirror: Mirror { Mirror(self, children: ["style": style], displayStyle: .struct) }
}
