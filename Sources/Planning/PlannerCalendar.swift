import Foundation
import Manifests
import Policies

/// The target stage's merge windows and freezes, as the planner asks about them.
///
/// A thin layer over `Policies.MergeCalendar` (which owns the window, freeze and DST rules) that adds
/// the one thing the planner needs on top: when an active freeze ends, counting back-to-back or
/// overlapping freezes as one.
struct PlannerCalendar {
    let merge: MergeCalendar
    private let calendar: Calendar

    init(stage: Stage) {
        merge = MergeCalendar(stage: stage)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = merge.timeZone
        self.calendar = calendar
    }

    /// The freeze covering `date`, with the first instant no freeze covers any more
    /// (00:00 local on the day after the last of a chain of adjacent freezes).
    func activeFreeze(at date: Date) -> (freeze: Freeze, end: Date?)? {
        guard let freeze = merge.activeFreeze(at: date) else { return nil }
        var end = self.end(of: freeze)
        for _ in merge.freezes.indices {
            guard let current = end, let next = merge.activeFreeze(at: current) else { break }
            end = self.end(of: next)
        }
        return (freeze, end)
    }

    /// 00:00 local on the day after `freeze.until`.
    func end(of freeze: Freeze) -> Date? {
        let day = calendar.date(from: DateComponents(year: freeze.until.year, month: freeze.until.month, day: freeze.until.day))
        return day.flatMap { calendar.date(byAdding: .day, value: 1, to: $0) }
    }

    /// Whether `date` is inside a merge window (freezes are the freeze gate's business).
    func isInsideWindow(_ date: Date) -> Bool { merge.isInsideWindow(date) }

    /// When merges next become possible (window open and no freeze), or nil if never within the search horizon.
    func nextOpening(after date: Date) -> Date? { merge.nextOpening(after: date) }
}
