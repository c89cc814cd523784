/// What `CachedRepository.refresh(branches:)` found and did.
public struct RefreshResult: Sendable, Hashable {
    /// Tip of each requested branch that exists on the remote (now also the local tracking ref).
    /// A branch missing on the remote is absent.
    public var tips: [String: ObjectID]
    /// True when objects were downloaded; false when the ref listing showed nothing new (one round trip).
    public var fetched: Bool
    /// Every branch the remote advertised (`refs/heads/` stripped) with its tip.
    public var remoteRefs: [String: ObjectID]
    /// Damaged clones of this folder deleted and cloned again since the last refresh (usually none):
    /// worth a warning, not an error, since the refresh went on from the new clone.
    public var recovered: [CacheRecovery]
    /// Set when the clone was due for compaction (see `CachedRepository.compactIfNeeded`) and it failed,
    /// e.g. on a full disk: worth a warning; the clone was left as it was and the refresh succeeded.
    public var compactionFailure: String?

    /// Creates a result (public so fakes in other modules can build one).
    public init(tips: [String: ObjectID], fetched: Bool, remoteRefs: [String: ObjectID], recovered: [CacheRecovery] = [],
                compactionFailure: String? = nil) {
        self.tips = tips
        self.fetched = fetched
        self.remoteRefs = remoteRefs
        self.recovered = recovered
        self.compactionFailure = compactionFailure
    }
}
