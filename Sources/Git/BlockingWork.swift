import Foundation

/// Runs blocking git work on a dedicated thread so async callers do not pin the cooperative pool.
///
/// Every `CachedRepository` call blocks its thread for the whole network round trip. Calling it directly
/// from a task is fine occasionally, but on a small machine (2 cores = 2 cooperative threads) a few
/// concurrent blocking calls can starve the pool, and deadlock outright when the server being called
/// (e.g. the in-process Sandbox) needs that pool to answer. Wrap such calls:
/// `let result = try await BlockingWork.run { try repo.refresh(branches: ["main"]) }`.
public enum BlockingWork {
    /// Runs `body` on a new thread and resumes with its result or error. Not cancellable once started.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = "promobot.git"
            thread.start()
        }
    }
}
