import Foundation
import Synchronization
import Testing
@testable import BlockingWork

/// `BlockingWork.run`: every call gets a thread of its own at once (no bound, so no call waits for
/// another), and threads are reused between calls instead of made anew each time.
@Suite struct BlockingWorkTests {
    @Test func manyBlockedCallsRunAtOnce() async throws {
        let count = 40
        let arrived = Counter()
        let gate = DispatchSemaphore(value: 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask {
                    try await BlockingWork.run(name: "test.blocked") {
                        // The last to arrive opens the gate for all: only possible if all run at once.
                        if arrived.value.withLock({ $0 += 1; return $0 }) == count {
                            for _ in 0..<count { gate.signal() }
                        }
                        guard gate.wait(timeout: .now() + 10) == .success else { throw TimedOut() }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(arrived.value.withLock { $0 } == count)
    }

    @Test func sequentialCallsReuseThreads() async throws {
        for _ in 0..<20 { _ = try await BlockingWork.run(name: "test.reuse") { 1 } }  // warm: some threads wait idle
        let before = ThreadCache.shared.threadsStarted
        for _ in 0..<50 { _ = try await BlockingWork.run(name: "test.reuse") { 1 } }
        let started = ThreadCache.shared.threadsStarted - before
        #expect(started <= 2, "\(started) new threads for 50 calls one after the other")
    }

    @Test func errorsAndNamesPassThrough() async throws {
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await BlockingWork.run(name: "test.error") { throw Boom() } }
        let name = try await BlockingWork.run(name: "test.named") { Thread.current.name }
        #expect(name == "test.named")
    }

    struct TimedOut: Error {}
    final class Counter: Sendable { let value = Mutex(0) }
}
