import Testing
@testable import Policies

@Suite struct PolicyDurationTests {
    @Test(arguments: [("30m", 1_800), ("2h", 7_200), ("1d", 86_400), ("1h30m", 5_400), ("45s", 45)])
    func durations(text: String, seconds: Int) {
        #expect(PolicyDuration(parsing: text)?.seconds == seconds)
        #expect(PolicyDuration(seconds: seconds).description == text)
    }

    @Test(arguments: ["", "30", "m", "30x", "1m1h", "1h1h", "-5m", "1.5h"])
    func badDurations(text: String) {
        #expect(PolicyDuration(parsing: text) == nil)
    }
}
