import Foundation
import Synchronization

/// Bearer tokens by (registry host, scope), until they expire; and which hosts answer Basic challenges.
/// Thread-safe (a mutex guards the maps); copies of a client share one cache.
final class TokenCache: Sendable {
    struct Key: Hashable, Sendable {
        var host: String
        var scope: String
    }

    /// The token spec's default when the answer has no `expires_in` (GitLab's `/jwt/auth` never sends one).
    static let defaultLifetime = 60
    /// Tokens are dropped this long before they expire, so one never runs out in flight.
    static let margin: TimeInterval = 5

    private let state = Mutex<(tokens: [Key: (token: String, expires: Date)], basic: Set<String>)>(([:], []))
    private let clock: @Sendable () -> Date

    init(clock: @escaping @Sendable () -> Date) { self.clock = clock }

    func token(for key: Key) -> String? {
        let now = clock()
        return state.withLock { state in
            guard let entry = state.tokens[key] else { return nil }
            if entry.expires <= now { state.tokens[key] = nil; return nil }
            return entry.token
        }
    }

    func store(_ token: String, for key: Key, expiresIn seconds: Int) {
        let lifetime = max(1, TimeInterval(max(seconds, 1)) - Self.margin)
        let expires = clock().addingTimeInterval(lifetime)
        state.withLock { $0.tokens[key] = (token, expires) }
    }

    func usesBasic(_ host: String) -> Bool { state.withLock { $0.basic.contains(host) } }
    func rememberBasic(_ host: String) { state.withLock { _ = $0.basic.insert(host) } }
}
