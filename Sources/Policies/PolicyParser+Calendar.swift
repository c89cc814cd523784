import Foundation
import Yams

// MARK: - Calendar keys: `timezone`, `windows`, `freeze`

extension PolicyParser {
    /// Strict `YYYY-MM-DD` that names a real calendar day.
    static func parseDate(_ text: String) -> LocalDate? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days ? LocalDate(year: year, month: month, day: day) : nil
    }

    /// `HH:MM-HH:MM` to minutes after midnight; `24:00` is allowed as an end.
    static func parseHours(_ text: String) -> (start: Int, end: Int)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2,
              let start = parseClock(parts[0].trimmingCharacters(in: .whitespaces), allow24: false),
              let end = parseClock(parts[1].trimmingCharacters(in: .whitespaces), allow24: true)
        else { return nil }
        return (start, end)
    }

    private static func parseClock(_ text: String, allow24: Bool) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let hour = Int(parts[0]), let minute = Int(parts[1]),
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              (0...59).contains(minute)
        else { return nil }
        if hour == 24, minute == 0, allow24 { return 1440 }
        guard (0...23).contains(hour) else { return nil }
        return hour * 60 + minute
    }

    /// ` (did you mean ...)` for an unknown time zone. IANA names are case-sensitive, so `utc` or
    /// `europe/berlin` get the exact spelling rather than an edit-distance guess.
    static func timeZoneSuggestion(_ value: String) -> String {
        let lowered = value.lowercased()
        if ["utc", "gmt", "z", "zulu", "etc/utc", "universal"].contains(lowered) {
            return " (did you mean 'UTC' or 'Etc/UTC'? time zone names are case-sensitive)"
        }
        if let exact = TimeZone.knownTimeZoneIdentifiers.first(where: { $0.lowercased() == lowered }) {
            return " (did you mean '\(exact)'? time zone names are case-sensitive)"
        }
        return Suggestion.didYouMean(value, in: TimeZone.knownTimeZoneIdentifiers)
    }
}

extension PolicyParser.Parser {
    /// `timezone`, `windows` and `freeze`: when promobot may merge into this stage.
    func parseCalendarKeys(_ keys: StageKeys, into stage: inout Stage) {
        if let entry = keys.entries["timezone"], let value = reader.string(entry.value, "'timezone' \(keys.context)") {
            if TimeZone(identifier: value) == nil {
                let suggestion = PolicyParser.timeZoneSuggestion(value)
                reader.error("unknown time zone '\(value)' \(keys.context): use an IANA name like 'Europe/Berlin' or 'UTC'\(suggestion)",
                             at: entry.value)
            } else {
                stage.timezone = value
            }
        }

        if let entry = keys.entries["windows"], let items = reader.list(entry.value, "'windows' \(keys.context)", allowEmpty: true) {
            stage.windows = []  // replaces the defaults' windows
            for (windowIndex, item) in items.enumerated() {
                if let window = parseWindow(item, label: "window \(windowIndex + 1) of \(keys.label)") {
                    stage.windows.append(window)
                }
            }
        }

        if let entry = keys.entries["freeze"], let items = reader.list(entry.value, "'freeze' \(keys.context)", allowEmpty: true) {
            stage.freezes = []  // replaces the defaults' freezes (company-wide ones are added later)
            for (freezeIndex, item) in items.enumerated() {
                if let freeze = parseFreeze(item, label: "freeze \(freezeIndex + 1) of \(keys.label)") {
                    stage.freezes.append(freeze)
                }
            }
        }
    }

    /// One item of `windows`: `days` (default every day) and `hours` (`HH:MM-HH:MM`, may wrap midnight).
    func parseWindow(_ node: Node, label: String) -> MergeWindow? {
        guard let mapping = reader.mapping(node, label) else { return nil }
        let entries = reader.entries(mapping, allowed: ["days", "hours"], context: "in \(label)")
        var days = Set(Weekday.allCases)
        var ok = true
        if let entry = entries["days"] {
            if let values = reader.stringList(entry.value, "'days' in \(label)") {
                days = []
                for (value, dayNode) in values {
                    if let day = Weekday(rawValue: value.lowercased()) {
                        days.insert(day)
                    } else {
                        let names = Weekday.allCases.map(\.rawValue)
                        reader.error("unknown day '\(value)' in \(label): use \(names.joined(separator: ", "))\(Suggestion.didYouMean(value, in: names))",
                                     at: dayNode)
                        ok = false
                    }
                }
            } else {
                ok = false
            }
        }
        guard let entry = entries["hours"] else {
            reader.missing("hours", "in \(label) (e.g. hours: \"10:00-16:00\")", at: mapping.mark)
            return nil
        }
        guard let text = reader.string(entry.value, "'hours' in \(label)") else { return nil }
        guard let (start, end) = PolicyParser.parseHours(text) else {
            reader.error("invalid hours '\(text)' in \(label): use HH:MM-HH:MM on a 24-hour clock, e.g. \"10:00-16:00\" or \"22:00-02:00\"",
                         at: entry.value)
            return nil
        }
        guard start != end else {
            reader.error("hours '\(text)' in \(label) start and end at the same time: the window would be empty", at: entry.value)
            return nil
        }
        return ok ? MergeWindow(days: days, startMinute: start, endMinute: end) : nil
    }

    /// One item of `freeze`: `from` and `until` (`YYYY-MM-DD`, inclusive) and an optional `reason`.
    func parseFreeze(_ node: Node, label: String) -> Freeze? {
        parseFreeze(node, label: label, scopeKeys: []).freeze
    }

    /// A freeze whose mapping may also hold `scopeKeys` (the config's company-wide freezes say which stages
    /// and policies they cover); those entries are returned unread, even when the freeze itself is invalid.
    func parseFreeze(_ node: Node, label: String, scopeKeys: [String]) -> (freeze: Freeze?, scope: Entries) {
        guard let mapping = reader.mapping(node, label) else { return (nil, [:]) }
        let entries = reader.entries(mapping, allowed: ["from", "until", "reason"] + scopeKeys, context: "in \(label)")
        return (freeze(entries, mapping: mapping, label: label), entries.filter { scopeKeys.contains($0.key) })
    }

    private func freeze(_ entries: Entries, mapping: Node.Mapping, label: String) -> Freeze? {
        func date(_ key: String) -> LocalDate? {
            guard let entry = entries[key] else {
                reader.missing(key, "in \(label)", at: mapping.mark)
                return nil
            }
            guard let text = reader.string(entry.value, "'\(key)' in \(label)") else { return nil }
            guard let date = PolicyParser.parseDate(text) else {
                reader.error("invalid date '\(text)' for '\(key)' in \(label): use YYYY-MM-DD (a real calendar day)", at: entry.value)
                return nil
            }
            return date
        }
        let from = date("from"), until = date("until")
        let reason = entries["reason"].flatMap { reader.string($0.value, "'reason' in \(label)") }
        guard let from, let until else { return nil }
        guard from <= until else {
            reader.error("\(label) ends (\(until)) before it starts (\(from))", at: entries["until"]?.value)
            return nil
        }
        return Freeze(from: from, until: until, reason: reason)
    }
}
