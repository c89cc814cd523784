import Foundation

/// The result slot a `finishing` thread fills in; read only after the semaphore says it is done.
private final class ResultBox<T>: @unchecked Sendable {
    let lock = NSLock()
    var value: T?
}

/// Runs `body` on its own thread and waits at most `seconds` for it.
///
/// Returns nil when it did not finish in time: the test fails instead of hanging the suite (the thread
/// is left to spin; the process ends with the test run). A crash still ends the process, which is the
/// failure a crash regression test wants to see.
func finishing<T: Sendable>(within seconds: Double, _ body: @escaping @Sendable () -> T) -> T? {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        let value = body()
        box.lock.lock()
        box.value = value
        box.lock.unlock()
        done.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
    guard done.wait(timeout: .now() + seconds) == .success else { return nil }
    box.lock.lock()
    defer { box.lock.unlock() }
    return box.value
}
