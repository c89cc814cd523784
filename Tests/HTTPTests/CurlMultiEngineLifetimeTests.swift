import Foundation
import Testing
@testable import HTTP

/// A long-lived process (`serve`, `run --watch`) makes a client per cycle: once shut down, an engine
/// and its thread must be freed, not kept alive by each other.
@Suite struct CurlMultiEngineLifetimeTests {
    @Test func aShutDownEngineIsFreed() async throws {
        weak var released: CurlMultiEngine?
        do {
            let engine = CurlMultiEngine(maxConnectionsPerHost: 2)
            released = engine
            engine.shutdown()
        }
        // The engine thread drops its last reference as it exits, a moment after `shutdown` returns.
        let deadline = ContinuousClock.now + .seconds(5)
        while released != nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(released == nil, "the engine and its thread keep each other alive")
    }
}
