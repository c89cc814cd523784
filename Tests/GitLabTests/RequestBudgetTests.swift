import Foundation
import Testing
@testable import GitLab

@Suite struct RequestBudgetTests {
    @Test func burstPassesThenRequestsWaitForTheRate() async throws {
        // 600/min = one token per 100 ms; burst of 3.
        let budget = RequestBudget(requestsPerMinute: 600, burst: 3, maxWait: .seconds(2))
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<6 { try await budget.acquire() }
        let elapsed = start.duration(to: clock.now)
        #expect(elapsed >= .milliseconds(280), "3 requests beyond the burst must wait ~300 ms, waited \(elapsed)")
        #expect(await budget.grantedCount == 6)
    }

    @Test func burstNeedsNoWait() async throws {
        // One token per minute, so only the burst can pass with a zero wait bound.
        let budget = RequestBudget(requestsPerMinute: 1, burst: 3, maxWait: .zero)
        for _ in 0..<3 { try await budget.acquire() }
        await #expect(throws: GitLabError.self) { try await budget.acquire() }
        #expect(await budget.grantedCount == 3)
    }

    @Test func refusesAWaitLongerThanTheBound() async throws {
        let budget = RequestBudget(requestsPerMinute: 1, burst: 1, maxWait: .milliseconds(100))
        try await budget.acquire()
        let error = await #expect(throws: GitLabError.self) { try await budget.acquire(for: "GET", path: "/user") }
        #expect(error?.kind == .budgetExhausted)
        #expect(error?.status == nil)
        #expect(error?.description.contains("GET /user") == true)
        #expect(await budget.grantedCount == 1)
    }

    @Test func concurrentCallersShareTheBucket() async throws {
        let budget = RequestBudget(requestsPerMinute: 1200, burst: 2, maxWait: .seconds(2)) // 50 ms per token
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 { group.addTask { try await budget.acquire() } }
            try await group.waitForAll()
        }
        #expect(start.duration(to: clock.now) >= .milliseconds(180))
    }
}
