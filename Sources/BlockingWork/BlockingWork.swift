import Foundation

/// Runs blocking work (libgit2, `flock`, a child process's pipes) on a thread of its own, so that Swift's
/// cooperative pool never waits on it.
///
/// The pool has one thread per core (two on a small CI runner). A blocking call made from a task holds
/// one of them for its whole duration; a few at once starve every other task, and deadlock outright when
/// the work waits for something that needs the pool itself: the in-process Sandbox answering libgit2's
/// HTTP request, a `GitRequestPermit` task, or another task holding a file lock the call is waiting for.
///
/// This is the project's one helper for it: the `Git` adapter calls it inside every public entry point
/// that does I/O, and the Sandbox inside its process runner and request handler, so callers of those
/// APIs never wrap anything themselves.
///
/// Each call gets a fresh thread rather than a Dispatch queue: on Linux libdispatch caps its
/// non-overcommit worker threads at the CPU count, so a few blocked waits on a global queue would
/// starve every other piece of work queued behind them (a test's curl waiting for a handler queued
/// behind it deadlocks until the curl times out). Threads are cheap next to a network round trip.
public enum BlockingWork {
    /// Runs `body` on a new thread and resumes with its result or error.
    ///
    /// Not cancellable once started: `body` runs to completion even if the calling task is cancelled.
    /// - Parameters:
    ///   - name: the thread's name, as shown by debuggers and `top -H` (e.g. `promobot.git`).
    ///   - stackSize: the thread's stack size in bytes; nil keeps the platform default.
    ///   - body: the blocking work. It must not touch the calling task's isolated state.
    /// - Returns: what `body` returns.
    /// - Throws: whatever `body` throws, unchanged.
    public static func run<T: Sendable>(
        name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = name
            if let stackSize { thread.stackSize = stackSize }
            thread.start()
        }
    }
}
