import Foundation

/// A repository branch (`GET /projects/:id/repository/branches/:branch`). A value type: thread-safe.
public struct GitLabBranch: Sendable, Hashable, Decodable {
    /// Branch name, unencoded.
    public var name: String
    /// The commit the branch points at.
    public var commitSHA: String
    /// Title of that commit; `""` if not sent.
    public var commitTitle: String
    /// Merged into the default branch.
    public var merged: Bool
    /// Protected (deleting or force-pushing it will be refused).
    public var protected: Bool
    /// The project's default branch.
    public var isDefault: Bool
    /// Whether the token's user may push to it.
    public var canPush: Bool
    /// Branch page; `""` if not sent.
    public var webURL: String

    /// Memberwise initialiser, for fakes and tests.
    public init(name: String, commitSHA: String, commitTitle: String = "", merged: Bool = false, protected: Bool = false,
                isDefault: Bool = false, canPush: Bool = true, webURL: String = "") {
        self.name = name; self.commitSHA = commitSHA; self.commitTitle = commitTitle; self.merged = merged
        self.protected = protected; self.isDefault = isDefault; self.canPush = canPush; self.webURL = webURL
    }

    enum CodingKeys: String, CodingKey { case name, commit, merged, protected, isDefault = "default", canPush = "can_push", webURL = "web_url" }
    private struct Commit: Decodable { var id: String; var title: String? }

    /// Decodes GitLab's branch JSON.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        let commit = try c.decode(Commit.self, forKey: .commit)
        commitSHA = commit.id
        commitTitle = commit.title ?? ""
        merged = try c.flag(.merged)
        protected = try c.flag(.protected)
        isDefault = try c.flag(.isDefault)
        canPush = try c.flag(.canPush)
        webURL = try c.text(.webURL)
    }
}
