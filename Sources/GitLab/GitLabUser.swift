import Foundation

/// A GitLab user: the token's owner (`GET /user`) or a user looked up by username.
/// A value type: thread-safe.
public struct GitLabUser: Sendable, Hashable, Decodable {
    /// Global user id (used for `assignee_ids`/`reviewer_ids`).
    public var id: Int
    /// Login name, without `@`.
    public var username: String
    /// Display name.
    public var name: String
    /// `active`, `blocked`, …; `""` when not sent.
    public var state: String
    /// Profile URL; `""` when not sent.
    public var webURL: String
    /// Whether GitLab reports the user as a bot (project/group access token users are bots).
    public var isBot: Bool

    /// Memberwise initialiser, for fakes and tests.
    public init(id: Int, username: String, name: String, state: String = "active", webURL: String = "", isBot: Bool = false) {
        self.id = id; self.username = username; self.name = name; self.state = state; self.webURL = webURL; self.isBot = isBot
    }

    enum CodingKeys: String, CodingKey { case id, username, name, state, webURL = "web_url", bot }

    /// Decodes GitLab's user JSON; missing optional fields become empty.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id)
        username = try c.decode(String.self, forKey: .username)
        name = try c.text(.name)
        state = try c.text(.state)
        webURL = try c.text(.webURL)
        isBot = try c.flag(.bot)
    }
}
