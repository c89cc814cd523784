import Foundation

/// A value guarded by a lock, for the little shared state the client keeps (counters, command queues).
///
/// Thread-safety: every access goes through `withLock`, so instances may be shared freely.
/// (`Synchronization.Mutex` would do, but it needs macOS 15 and the package targets macOS 14.)
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    /// Runs `body` with exclusive access to the value. Do not block or `await` inside.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
