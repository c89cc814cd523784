import Foundation

/// A comment on a merge request (`…/merge_requests/:iid/notes`), including GitLab's system notes.
/// A value type: thread-safe.
public struct Note: Sendable, Hashable, Decodable {
    /// Note id (for `updateNote`).
    public var id: Int
    /// Markdown body.
    public var body: String
    /// Who wrote it.
    public var authorUsername: String
    /// GitLab-generated ("added 1 commit", "approved this merge request").
    public var system: Bool
    /// Creation and last-edit time.
    public var createdAt: Date
    public var updatedAt: Date
    /// The MR's iid; `nil` if not sent.
    public var noteableIID: Int?

    /// Memberwise initialiser, for fakes and tests.
    public init(id: Int, body: String, authorUsername: String, system: Bool = false, createdAt: Date, updatedAt: Date? = nil, noteableIID: Int? = nil) {
        self.id = id; self.body = body; self.authorUsername = authorUsername; self.system = system
        self.createdAt = createdAt; self.updatedAt = updatedAt ?? createdAt; self.noteableIID = noteableIID
    }

    enum CodingKeys: String, CodingKey {
        case id, body, author, system
        case createdAt = "created_at", updatedAt = "updated_at", noteableIID = "noteable_iid"
    }

    /// Decodes GitLab's note JSON.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id)
        body = try c.text(.body)
        authorUsername = try c.decodeIfPresent(EmbeddedUser.self, forKey: .author)?.username ?? ""
        system = try c.flag(.system)
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        updatedAt = try c.decodeIfPresent(Date.self, forKey: .updatedAt) ?? createdAt
        noteableIID = try c.decodeIfPresent(Int.self, forKey: .noteableIID)
    }
}
