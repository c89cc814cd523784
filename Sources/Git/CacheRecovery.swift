/// A cache clone found damaged, deleted and cloned again (see `CachedRepository.refresh(branches:)`).
public struct CacheRecovery: Sendable, Hashable, CustomStringConvertible {
    /// The clone folder that was deleted and made anew.
    public var folder: String
    /// What showed the damage: libgit2's error, with the failing step (never a credential).
    public var problem: String

    /// Creates a record (public so fakes in other modules can build one).
    public init(folder: String, problem: String) {
        self.folder = folder
        self.problem = problem
    }

    /// One line for a warning log.
    public var description: String {
        "the cache clone \(folder) was damaged (\(problem)); deleted it and cloned it again"
    }
}
