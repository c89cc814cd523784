import Foundation

/// Who made a commit and when; used as both author and committer by `CachedRepository.commit`.
public struct GitSignature: Sendable, Hashable {
    /// Display name, e.g. `"promobot"`.
    public var name: String
    /// E-mail address, e.g. `"promobot@example.com"`.
    public var email: String
    /// Commit time; stored with second precision in UTC.
    public var time: Date

    /// Creates a signature; `time` defaults to now.
    public init(name: String, email: String, time: Date = Date()) {
        self.name = name
        self.email = email
        self.time = time
    }
}
