import Foundation

/// When a stage accepts merges: its windows and freezes, read in the stage's time zone.
///
/// Pure (the caller passes the time); a value type, safe to share across threads.
///
/// Rules:
/// - No windows means "any time"; otherwise a moment is inside a window when its local weekday is
///   one of the window's `days` and its local wall-clock minute is in `[start, end)`. A window whose
///   end is not after its start crosses midnight: it opens on one of its `days` and runs into the next day.
/// - A freeze covers whole local days, `from` through `until` inclusive.
/// - Wall-clock rules follow DST: a window 10:00-16:00 is six local hours even on the day clocks change
///   (five or seven real hours when the change falls inside it); a start inside a skipped hour opens
///   at the first valid minute after it.
public struct MergeCalendar: Sendable {
    public let windows: [MergeWindow]
    public let freezes: [Freeze]
    public let timeZone: TimeZone
    private let calendar: Calendar

    /// How far ahead `nextOpening(after:)` searches before answering nil ("never").
    public static let searchHorizonDays = 800

    /// The calendar of `stage`. An unknown time zone (impossible after `PolicyParser`) falls back to UTC.
    public init(stage: Stage) {
        self.init(windows: stage.windows, freezes: stage.freezes,
                  timeZone: TimeZone(identifier: stage.timezone) ?? TimeZone(identifier: "UTC")!)
    }

    /// A calendar from parts, for callers without a `Stage`.
    public init(windows: [MergeWindow], freezes: [Freeze], timeZone: TimeZone) {
        self.windows = windows
        self.freezes = freezes
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// Whether a merge may happen at `date`: inside a window (or no windows) and outside every freeze.
    public func isOpen(at date: Date) -> Bool {
        activeFreeze(at: date) == nil && isInsideWindow(date)
    }

    /// The freeze covering `date`'s local day, if any (the first one listed when several overlap).
    public func activeFreeze(at date: Date) -> Freeze? {
        let day = localDate(of: date)
        return freezes.first { $0.from <= day && day <= $0.until }
    }

    /// The freeze covering `date`, with the first instant no freeze covers any more: 00:00 local on the
    /// day after the last of a chain of back-to-back or overlapping freezes (what "until when" means
    /// to the person waiting).
    public func activeFreezeAndEnd(at date: Date) -> (freeze: Freeze, end: Date?)? {
        guard let freeze = activeFreeze(at: date) else { return nil }
        var end = dayAfter(freeze.until)
        for _ in freezes.indices {
            guard let current = end, let next = activeFreeze(at: current) else { break }
            end = dayAfter(next.until)
        }
        return (freeze, end)
    }

    /// The first moment at or after `date` when a merge may happen (inside a window, no freeze);
    /// nil when none comes within `searchHorizonDays`.
    public func firstOpening(from date: Date) -> Date? {
        isOpen(at: date) ? date : nextOpening(after: date)
    }

    /// Whether `date` falls inside one of the windows (ignoring freezes); true when there are no windows.
    public func isInsideWindow(_ date: Date) -> Bool {
        guard !windows.isEmpty else { return true }
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        guard let weekday = parts.weekday.flatMap(Self.weekday), let hour = parts.hour, let minute = parts.minute
        else { return false }
        let now = hour * 60 + minute
        let yesterday = Self.previous(weekday)
        return windows.contains { window in
            if window.startMinute < window.endMinute {
                return window.days.contains(weekday) && now >= window.startMinute && now < window.endMinute
            }
            return (window.days.contains(weekday) && now >= window.startMinute)
                || (window.days.contains(yesterday) && now < window.endMinute)
        }
    }

    /// The next moment after `date` when the calendar goes from closed to open.
    ///
    /// - Returns: nil when it never closes from `date` on (no windows and no freeze ahead: "always"),
    ///   or when it does not open within `searchHorizonDays` ("never"). When the calendar is open at
    ///   `date`, this is the start of the *next* opening, after the current one closes.
    public func nextOpening(after date: Date) -> Date? {
        if windows.isEmpty, !freezes.contains(where: { $0.until >= localDate(of: date) }) { return nil }
        guard let today = calendar.dateInterval(of: .day, for: date)?.start else { return nil }
        // Day by day, candidates are window starts and the ends of freezes; the first candidate
        // that is open and follows a closed moment is an opening.
        for offset in -1...Self.searchHorizonDays {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today) else { continue }
            var candidates: [Date] = []
            let weekday = Self.weekday(calendar.component(.weekday, from: day))
            for window in windows where weekday.map(window.days.contains) ?? false {
                if let start = wallClock(minute: window.startMinute, on: day) { candidates.append(start) }
            }
            let local = localDate(of: day)
            if freezes.contains(where: { $0.until == local }),
               let next = calendar.date(byAdding: .day, value: 1, to: day) {
                candidates.append(calendar.startOfDay(for: next))
            }
            for candidate in candidates.sorted() where candidate > date {
                if isOpen(at: candidate), !isOpen(at: candidate.addingTimeInterval(-1)) { return candidate }
            }
        }
        return nil
    }

    // MARK: - Helpers

    /// 00:00 local on the day after `day`.
    private func dayAfter(_ day: LocalDate) -> Date? {
        let start = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day))
        return start.flatMap { calendar.date(byAdding: .day, value: 1, to: $0) }
    }

    private func localDate(of date: Date) -> LocalDate {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return LocalDate(year: parts.year ?? 0, month: parts.month ?? 0, day: parts.day ?? 0)
    }

    /// `minute` after local midnight on `day`; a wall-clock time skipped by DST moves to the next valid time.
    private func wallClock(minute: Int, on day: Date) -> Date? {
        if minute >= 1440 { return calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: day)) }
        return calendar.date(bySettingHour: minute / 60, minute: minute % 60, second: 0, of: day,
                             matchingPolicy: .nextTime, repeatedTimePolicy: .first, direction: .forward)
    }

    private static func weekday(_ number: Int) -> Weekday? {
        Weekday.allCases.first { $0.calendarWeekday == number }
    }

    private static func previous(_ day: Weekday) -> Weekday {
        let all = Weekday.allCases
        return all[(all.firstIndex(of: day)! + all.count - 1) % all.count]
    }
}
