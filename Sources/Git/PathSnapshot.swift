import Foundation

/// The contents of some paths at one commit; an element of `CachedRepository.history`.
public struct PathSnapshot: Sendable, Hashable {
    /// The commit.
    public var commit: ObjectID
    /// The committer time of `commit`.
    public var time: Date
    /// Repo-relative path -> contents of every file under the requested paths at `commit`.
    public var files: [String: Data]
    /// Who made the change: the author name of `commit`.
    public var author: String
    /// The full message of `commit`, and of the commits a merge commit brought in (its other parents):
    /// what tells a promotion the bot merged from a person's change.
    public var messages: [String]

    /// Creates a snapshot (public so fakes in other modules can build one).
    public init(commit: ObjectID, time: Date, files: [String: Data], author: String = "", messages: [String] = []) {
        self.commit = commit
        self.time = time
        self.files = files
        self.author = author
        self.messages = messages
    }
}
