import Foundation

/// A commit of a merge request (`GET …/merge_requests/:iid/commits`). A value type: thread-safe.
public struct GitLabCommit: Sendable, Hashable, Decodable {
    /// Full SHA.
    public var id: String
    /// Abbreviated SHA.
    public var shortID: String
    /// First line of the message.
    public var title: String
    /// Full message.
    public var message: String
    /// Author name and e-mail.
    public var authorName: String
    public var authorEmail: String
    /// When it was authored; `nil` if not sent.
    public var authoredDate: Date?
    /// When it was created (committed); `nil` if not sent.
    public var createdAt: Date?
    /// Parent SHAs; empty if not sent.
    public var parentIDs: [String]
    /// Commit page; `""` if not sent.
    public var webURL: String

    /// Memberwise initialiser, for fakes and tests.
    public init(id: String, shortID: String? = nil, title: String, message: String? = nil, authorName: String = "", authorEmail: String = "",
                authoredDate: Date? = nil, createdAt: Date? = nil, parentIDs: [String] = [], webURL: String = "") {
        self.id = id; self.shortID = shortID ?? String(id.prefix(8)); self.title = title; self.message = message ?? title
        self.authorName = authorName; self.authorEmail = authorEmail; self.authoredDate = authoredDate; self.createdAt = createdAt
        self.parentIDs = parentIDs; self.webURL = webURL
    }

    enum CodingKeys: String, CodingKey {
        case id, title, message
        case shortID = "short_id", authorName = "author_name", authorEmail = "author_email", authoredDate = "authored_date"
        case createdAt = "created_at", parentIDs = "parent_ids", webURL = "web_url"
    }

    /// Decodes GitLab's commit JSON.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        shortID = try c.decodeIfPresent(String.self, forKey: .shortID) ?? String(id.prefix(8))
        message = try c.text(.message)
        title = try c.decodeIfPresent(String.self, forKey: .title) ?? String(message.split(separator: "\n").first ?? "")
        authorName = try c.text(.authorName)
        authorEmail = try c.text(.authorEmail)
        authoredDate = try c.decodeIfPresent(Date.self, forKey: .authoredDate)
        createdAt = try c.decodeIfPresent(Date.self, forKey: .createdAt)
        parentIDs = try c.decodeIfPresent([String].self, forKey: .parentIDs) ?? []
        webURL = try c.text(.webURL)
    }
}
