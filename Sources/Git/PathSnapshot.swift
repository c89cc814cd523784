import Foundation

/// The contents of some paths at one commit; an element of `CachedRepository.history`.
public struct PathSnapshot: Sendable, Hashable {
    /// The commit.
    public var commit: ObjectID
    /// The committer time of `commit`.
    public var time: Date
    /// Repo-relative path -> contents of every file under the requested paths at `commit`.
    public var files: [String: Data]

    /// Creates a snapshot (public so fakes in other modules can build one).
    public init(commit: ObjectID, time: Date, files: [String: Data]) {
        self.commit = commit
        self.time = time
        self.files = files
    }
}
