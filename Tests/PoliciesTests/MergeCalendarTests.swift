import Foundation
import Testing
@testable import Policies

@Suite struct MergeCalendarTests {
    static func instant(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)!
    }

    static func stage(timezone: String, windows: [MergeWindow] = [], freezes: [Freeze] = []) -> Stage {
        Stage(name: "prod", repository: "g/p", branch: "main", paths: ["prod/"], timezone: timezone,
              windows: windows, freezes: freezes)
    }

    static let weekdays: Set<Weekday> = [.mon, .tue, .wed, .thu, .fri]
    static let berlinOffice = stage(timezone: "Europe/Berlin",
                                    windows: [MergeWindow(days: weekdays, startMinute: 600, endMinute: 960)])
    /// Friday 22:00 into Saturday 02:00, New York.
    static let newYorkNight = stage(timezone: "America/New_York",
                                    windows: [MergeWindow(days: [.fri], startMinute: 1_320, endMinute: 120)])
    /// Sunday 01:00-04:00 New York: 2026-03-08 skips 02:00-03:00.
    static let newYorkSpringForward = stage(timezone: "America/New_York",
                                            windows: [MergeWindow(days: [.sun], startMinute: 60, endMinute: 240)])
    /// Sunday 02:00-03:00 Berlin: on 2026-10-25 that hour happens twice.
    static let berlinFallBack = stage(timezone: "Europe/Berlin",
                                      windows: [MergeWindow(days: [.sun], startMinute: 120, endMinute: 180)])
    static let yearEnd = Freeze(from: LocalDate(year: 2026, month: 12, day: 20),
                                until: LocalDate(year: 2027, month: 1, day: 4), reason: "year-end freeze")
    static let shanghaiFreeze = stage(timezone: "Asia/Shanghai", freezes: [yearEnd])
    static let shanghaiOfficeAndFreeze = stage(
        timezone: "Asia/Shanghai",
        windows: [MergeWindow(days: [.mon, .tue, .wed, .thu], startMinute: 600, endMinute: 960)], freezes: [yearEnd])

    static let openRows: [(String, Stage, String, Bool)] = [
        ("Berlin CET Friday 10:00", berlinOffice, "2026-03-27T09:00:00Z", true),
        ("Berlin CET Friday 09:59", berlinOffice, "2026-03-27T08:59:00Z", false),
        ("Berlin CEST Monday 10:00 (same UTC hour is 11:00 now)", berlinOffice, "2026-03-30T08:00:00Z", true),
        ("Berlin CEST Monday 09:30", berlinOffice, "2026-03-30T07:30:00Z", false),
        ("Berlin end is exclusive", berlinOffice, "2026-03-30T14:00:00Z", false),
        ("Berlin Sunday", berlinOffice, "2026-03-29T10:00:00Z", false),
        ("New York Friday 21:59", newYorkNight, "2026-03-07T02:59:00Z", false),
        ("New York Friday 22:00", newYorkNight, "2026-03-07T03:00:00Z", true),
        ("New York Saturday 01:30 (after midnight)", newYorkNight, "2026-03-07T06:30:00Z", true),
        ("New York Saturday 02:00", newYorkNight, "2026-03-07T07:00:00Z", false),
        ("New York Saturday 22:30 (window starts Fridays only)", newYorkNight, "2026-03-08T03:30:00Z", false),
        ("Spring forward: 01:30 EST", newYorkSpringForward, "2026-03-08T06:30:00Z", true),
        ("Spring forward: 03:30 EDT", newYorkSpringForward, "2026-03-08T07:30:00Z", true),
        ("Spring forward: 04:00 EDT", newYorkSpringForward, "2026-03-08T08:00:00Z", false),
        ("Fall back: first 02:30 (CEST)", berlinFallBack, "2026-10-25T00:30:00Z", true),
        ("Fall back: second 02:30 (CET)", berlinFallBack, "2026-10-25T01:30:00Z", true),
        ("Fall back: 03:00 CET", berlinFallBack, "2026-10-25T02:00:00Z", false),
        ("Freeze: the evening before", shanghaiFreeze, "2026-12-19T15:59:59Z", true),
        ("Freeze: first local midnight", shanghaiFreeze, "2026-12-19T16:00:00Z", false),
        ("Freeze: last local minute of until", shanghaiFreeze, "2027-01-04T15:59:00Z", false),
        ("Freeze: the day after until", shanghaiFreeze, "2027-01-04T16:00:00Z", true),
        ("Window inside a freeze", shanghaiOfficeAndFreeze, "2026-12-21T03:00:00Z", false),
        ("Window after the freeze", shanghaiOfficeAndFreeze, "2027-01-05T03:00:00Z", true),
    ]

    @Test(arguments: openRows)
    func isOpen(name: String, stage: Stage, at: String, expected: Bool) {
        #expect(MergeCalendar(stage: stage).isOpen(at: Self.instant(at)) == expected, "\(name)")
    }

    static let nextRows: [(String, Stage, String, String?)] = [
        ("Berlin: Friday evening to Monday 10:00 CEST", berlinOffice, "2026-03-27T15:30:00Z", "2026-03-30T08:00:00Z"),
        ("Berlin: while open, the next day's opening", berlinOffice, "2026-03-27T10:00:00Z", "2026-03-30T08:00:00Z"),
        ("New York: next Friday 22:00 EST", newYorkNight, "2026-03-02T12:00:00Z", "2026-03-07T03:00:00Z"),
        ("Start inside the skipped hour opens at 03:00 EDT",
         stage(timezone: "America/New_York", windows: [MergeWindow(days: [.sun], startMinute: 150, endMinute: 300)]),
         "2026-03-08T05:00:00Z", "2026-03-08T07:00:00Z"),
        ("Fall back: the first 02:00", berlinFallBack, "2026-10-24T22:00:00Z", "2026-10-25T00:00:00Z"),
        ("Freeze only: the day after until", shanghaiFreeze, "2026-12-25T00:00:00Z", "2027-01-04T16:00:00Z"),
        ("Freeze only, after it: always open", shanghaiFreeze, "2027-02-01T00:00:00Z", nil),
        ("Freeze and window: first window after the freeze", shanghaiOfficeAndFreeze, "2026-12-25T00:00:00Z",
         "2027-01-05T02:00:00Z"),
        ("No windows, no freezes", stage(timezone: "UTC"), "2026-01-01T00:00:00Z", nil),
        ("Adjacent windows: no opening at the seam",
         stage(timezone: "UTC", windows: [MergeWindow(days: [.mon], startMinute: 1_320, endMinute: 120),
                                          MergeWindow(days: [.tue], startMinute: 120, endMinute: 240)]),
         "2026-03-30T12:00:00Z", "2026-03-30T22:00:00Z"),
        ("Never open: no days", stage(timezone: "UTC", windows: [MergeWindow(days: [], startMinute: 0, endMinute: 60)]),
         "2026-01-01T00:00:00Z", nil),
    ]

    @Test(arguments: nextRows)
    func nextOpening(name: String, stage: Stage, after: String, expected: String?) {
        let next = MergeCalendar(stage: stage).nextOpening(after: Self.instant(after))
        #expect(next == expected.map(Self.instant), "\(name)")
    }

    @Test func activeFreezeNamesTheFreeze() {
        let calendar = MergeCalendar(stage: Self.shanghaiFreeze)
        #expect(calendar.activeFreeze(at: Self.instant("2026-12-31T12:00:00Z"))?.reason == "year-end freeze")
        #expect(calendar.activeFreeze(at: Self.instant("2026-12-19T12:00:00Z")) == nil)
    }

    @Test func calendarFromParsedPolicyHonoursItsTimeZone() throws {
        let yaml = PolicyFixtures.withTestStage("""
                timezone: Asia/Shanghai
                windows:
                  - days: [mon]
                    hours: "10:00-16:00"
            """)
        let stage = try #require(PolicyParser.parse(yaml: yaml, path: "p.yaml").policy?.stages[1])
        let calendar = MergeCalendar(stage: stage)
        #expect(calendar.isOpen(at: Self.instant("2026-03-30T02:00:00Z")))  // Monday 10:00 in Shanghai
        #expect(!calendar.isOpen(at: Self.instant("2026-03-30T10:00:00Z")))  // Monday 18:00 in Shanghai
    }
}
