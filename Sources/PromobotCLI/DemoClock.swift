import Foundation
import Synchronization

/// The demo's clock: real time plus an offset the story advances, so "30 minutes later" takes no time.
/// Thread-safe.
final class DemoClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    func advance(by seconds: TimeInterval) { offset.withLock { $0 += seconds } }

    /// Moves the clock forward to `date` (never backwards).
    func advance(to date: Date) {
        let delta = date.timeIntervalSince(now)
        if delta > 0 { advance(by: delta) }
    }
}
