import Foundation
import Manifests
import Policies

/// Small formatting helpers shared by the planner, the MR text and the status board.
///
/// Pure and deterministic: times are always printed in UTC, never with the machine's locale.
public enum PlannerText {
    /// The first 8 characters of a commit SHA, as GitLab shows them.
    public static func shortSHA(_ sha: String) -> String { String(sha.prefix(8)) }

    /// The last path component of an image name: `registry.example.com/shop/app` -> `app`.
    public static func shortImage(_ image: String) -> String {
        image.split(separator: "/").last.map(String.init) ?? image
    }

    /// `app 1.5.0, web 1.5.0` (digests shortened), in policy order.
    public static func list(_ versions: ImageVersions, order: [String]) -> String {
        versions.ordered(by: order).map { "\(shortImage($0.image)) \($0.version.display)" }.joined(separator: ", ")
    }

    /// `app 1.4.2 -> 1.5.0, web 1.4.2 -> 1.5.0`: only images whose version changes; `(none)` when the stage lacks one.
    public static func changes(from current: ImageVersions, to candidate: ImageVersions, order: [String]) -> String {
        let all = candidate.ordered(by: order)
        let changed = all.filter { current[$0.image] != $0.version }
        return (changed.isEmpty ? all : changed).map { image, version in
            "\(shortImage(image)) \(current[image]?.display ?? "(none)") -> \(version.display)"
        }.joined(separator: ", ")
    }

    /// A duration in policy notation, e.g. `1h30m`; negative values print as `0s`.
    public static func duration(_ seconds: Int) -> String { PolicyDuration(seconds: max(0, seconds)).description }

    /// `10:42Z` when `date` falls on the same UTC day as `now`, else `2026-11-27 10:42Z`.
    public static func time(_ date: Date, now: Date) -> String {
        let calendar = utcCalendar
        let d = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let clock = String(format: "%02d:%02dZ", d.hour ?? 0, d.minute ?? 0)
        if calendar.isDate(date, inSameDayAs: now) { return clock }
        return String(format: "%04d-%02d-%02d ", d.year ?? 0, d.month ?? 0, d.day ?? 0) + clock
    }

    /// `2026-11-27T10:42:05Z`, for evidence in MR descriptions.
    public static func timestamp(_ date: Date) -> String {
        let d = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ",
                      d.year ?? 0, d.month ?? 0, d.day ?? 0, d.hour ?? 0, d.minute ?? 0, d.second ?? 0)
    }

    static var utcCalendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }
}
