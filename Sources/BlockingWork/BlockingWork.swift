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
/// Each call gets a thread of its own rather than a Dispatch queue: on Linux libdispatch caps its
/// non-overcommit worker threads at the CPU count, so a few blocked waits on a global queue would
/// starve every other piece of work queued behind them (a test's curl waiting for a handler queued
/// behind it deadlocks until the curl times out). The thread is an idle one from `ThreadCache` when
/// there is one, else a new one: never a bounded pool, so no call ever waits for another to finish.
public enum BlockingWork {
    /// Runs `body` on a thread of its own and resumes with its result or error.
    ///
    /// Not cancellable once started: `body` runs to completion even if the calling task is cancelled.
    /// - Parameters:
    ///   - name: the thread's name, as shown by debuggers and `top -H` (e.g. `promobot.git`).
    ///   - stackSize: the thread's stack size in bytes; nil keeps the platform default (and lets an idle
    ///     thread be reused; a custom size always gets a new thread).
    ///   - body: the blocking work. It must not touch the calling task's isolated state.
    /// - Returns: what `body` returns.
    /// - Throws: whatever `body` throws, unchanged.
    public static func run<T: Sendable>(
        name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            ThreadCache.shared.run(name: name, stackSize: stackSize) {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}

/// Threads for `BlockingWork`, kept for a while after their work so the next call reuses one.
///
/// Why: a long-lived process (`promobot serve`) makes thousands of git calls per cycle, and a new thread
/// for each costs a thread start and leaves per-thread caches behind (libdispatch's continuation caches).
/// An idle thread waits up to `idleTimeout` for the next job, and at most `maxIdle` (about the engine's
/// concurrent lanes) wait at once: each idle thread keeps its stack (and, where glibc's arenas are not
/// limited as `promobot` limits them — see ProcessMemory — a malloc arena), so more would raise the floor
/// more than reuse saves. A job never waits for a thread: with no idle one, a new one starts.
final class ThreadCache: @unchecked Sendable {
    static let shared = ThreadCache()
    /// Most threads kept waiting for work.
    static let maxIdle = 4
    /// How long an idle thread waits for work before it ends.
    static let idleTimeout: TimeInterval = 10

    private let condition = NSCondition()
    /// Jobs handed to idle threads, oldest first (never more than there are idle threads).
    private var jobs: [(name: String, work: @Sendable () -> Void)] = []
    private var idle = 0
    private var started = 0

    /// Threads started so far (for tests).
    var threadsStarted: Int { condition.withLock { started } }

    /// Runs `work` on an idle thread, or on a new one when none is idle or `stackSize` is set.
    func run(name: String, stackSize: Int?, _ work: @escaping @Sendable () -> Void) {
        if stackSize == nil {
            condition.lock()
            if idle > jobs.count {
                jobs.append((name, work))
                condition.signal()
                condition.unlock()
                return
            }
            started += 1
            condition.unlock()
        }
        let thread = Thread { [self] in
            work()
            if stackSize == nil { serve() }
        }
        thread.name = name
        if let stackSize { thread.stackSize = stackSize }
        thread.start()
    }

    /// The loop of a thread after its first job: wait for the next one, or end after `idleTimeout`.
    private func serve() {
        while true {
            condition.lock()
            guard idle < Self.maxIdle else {
                condition.unlock()
                return
            }
            idle += 1
            let deadline = Date(timeIntervalSinceNow: Self.idleTimeout)
            while jobs.isEmpty {
                if !condition.wait(until: deadline), jobs.isEmpty {
                    idle -= 1
                    condition.unlock()
                    return
                }
            }
            let job = jobs.removeFirst()
            idle -= 1
            condition.unlock()
            Thread.current.name = job.name
            job.work()
        }
    }
}
