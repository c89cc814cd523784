import Foundation
import Testing
@testable import HTTP

@Suite struct RetryPolicyTests {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: [
        (1, Duration.milliseconds(500)), (2, .seconds(1)), (3, .seconds(2)), (4, .seconds(4)),
        (7, .seconds(30)), (60, .seconds(30)),
    ])
    func backoffDoublesUpToTheCap(attempt: Int, expected: Duration) {
        let policy = RetryPolicy(baseDelay: .milliseconds(500), maxDelay: .seconds(30), jitter: .none)
        #expect(policy.delay(afterAttempt: attempt, now: now) == expected)
    }

    @Test(arguments: [
        (RetryPolicy.Jitter.full, 0.0, Duration.zero), (.full, 0.25, .milliseconds(500)), (.full, 1.0, .seconds(2)),
        (.equal, 0.0, .seconds(1)), (.equal, 0.5, .milliseconds(1500)), (.equal, 1.0, .seconds(2)),
    ])
    func jitterStaysWithinItsRange(jitter: RetryPolicy.Jitter, random: Double, expected: Duration) {
        let policy = RetryPolicy(baseDelay: .seconds(1), jitter: jitter)
        #expect(policy.delay(afterAttempt: 2, now: now, random: { _ in random }) == expected)
    }

    @Test(arguments: [
        // (status, headers, expected server-requested delay)
        (503, ["Retry-After": "7"], Duration?.some(.seconds(7))),
        (429, ["Retry-After": "0"], .some(.zero)),
        (503, ["Retry-After": "Fri, 15 Jan 2027 08:00:12 GMT"], .some(.seconds(12))),  // now + 12 s
        (503, ["Retry-After": "Fri, 15 Jan 2027 07:59:00 GMT"], .some(.zero)),  // in the past
        (429, ["RateLimit-Reset": "1800000020"], .some(.seconds(20))),
        (429, ["RateLimit-Reset": "30"], .some(.seconds(30))),  // delta-seconds form
        (500, ["RateLimit-Reset": "1800000020"], nil),  // only a 429 is about the rate limit
        (503, ["Retry-After": "soon"], nil),
        (503, [:], nil),
    ])
    func serverRequestedDelays(status: Int, headers: [String: String], expected: Duration?) {
        let reference = HTTPDate.parse("Fri, 15 Jan 2027 08:00:00 GMT")!
        var fields = HTTPHeaders()
        for (name, value) in headers { fields.add(name, value) }
        let response = HTTPResponse(status: status, headers: fields)
        let nowForCase = headers["RateLimit-Reset"] != nil ? now : reference
        #expect(RetryPolicy.serverRequestedDelay(in: response, now: nowForCase) == expected)
    }

    @Test func serverDelayWinsOverBackoffButIsCapped() {
        let policy = RetryPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(10), jitter: .none)
        let soon = HTTPResponse(status: 503, headers: ["Retry-After": "3"])
        let late = HTTPResponse(status: 429, headers: ["Retry-After": "3600"])
        #expect(policy.delay(afterAttempt: 1, response: soon, now: now) == .seconds(3))
        #expect(policy.delay(afterAttempt: 1, response: late, now: now) == .seconds(10))
        #expect(policy.delay(afterAttempt: 1, response: HTTPResponse(status: 503), now: now) == .milliseconds(100))
    }

    @Test(arguments: [(200, false), (404, false), (429, true), (500, true), (503, true), (599, true), (600, false)])
    func retryableStatuses(status: Int, retryable: Bool) {
        #expect(RetryPolicy.isRetryable(status: status) == retryable)
    }

    @Test func httpDateRoundTrips() throws {
        let date = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(HTTPDate.format(date) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == date)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == date)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == date)
        #expect(HTTPDate.parse("yesterday") == nil)
    }
}
