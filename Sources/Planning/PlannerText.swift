import Foundation
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

    /// A reference suffix for people: the tag, with a digest shortened to 12 hex digits.
    ///
    /// `1.5.0` -> `1.5.0`; `1.5.0@sha256:0123…` -> `1.5.0@sha256:0123456789ab`; `@sha256:0123…` -> `@sha256:0123456789ab`.
    public static func display(_ reference: String) -> String {
        let parsed = TagReference(reference)
        guard let digest = parsed.digest else { return reference }
        let short: String
        if let colon = digest.firstIndex(of: ":") {
            short = String(digest[...colon]) + digest[digest.index(after: colon)...].prefix(12)
        } else {
            short = String(digest.prefix(12))
        }
        return (parsed.tag ?? "") + "@" + short
    }

    /// Keys in policy order first, then any others sorted, so text is stable.
    public static func ordered(_ tags: ImageTags, order: [String]) -> [String] {
        let known = order.filter { tags[$0] != nil }
        let rest = tags.keys.filter { !order.contains($0) }.sorted()
        return known + rest
    }

    /// `app 1.5.0, web 1.5.0`.
    public static func list(_ tags: ImageTags, order: [String]) -> String {
        ordered(tags, order: order).map { "\(shortImage($0)) \(display(tags[$0]!))" }.joined(separator: ", ")
    }

    /// `app 1.4.2 -> 1.5.0, web 1.4.2 -> 1.5.0`: only images whose value changes; `(none)` when the stage lacks one.
    public static func changes(from current: ImageTags, to candidate: ImageTags, order: [String]) -> String {
        let changed = ordered(candidate, order: order).filter { current[$0] != candidate[$0] }
        let keys = changed.isEmpty ? ordered(candidate, order: order) : changed
        return keys.map { key in
            "\(shortImage(key)) \(current[key].map(display) ?? "(none)") -> \(display(candidate[key]!))"
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

/// A reference suffix split into tag and digest. `"1.5.0@sha256:ab"` -> tag `1.5.0`, digest `sha256:ab`.
public struct TagReference: Hashable {
    public var tag: String?
    public var digest: String?

    public init(_ suffix: String) {
        if let at = suffix.firstIndex(of: "@") {
            let tag = String(suffix[..<at])
            self.tag = tag.isEmpty ? nil : tag
            digest = String(suffix[suffix.index(after: at)...])
        } else {
            tag = suffix.isEmpty ? nil : suffix
            digest = nil
        }
    }

    /// The tag read as a version, when it is one.
    var version: SemanticVersion? { tag.flatMap { SemanticVersion(tag: $0) } }
}
