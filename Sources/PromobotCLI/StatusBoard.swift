import Foundation
import Manifests
import Planning

/// One policy's line on the status board: what each stage runs and the bot's open MRs.
struct StatusRow: Sendable, Hashable {
    /// The policy name (row header).
    var policy: String
    /// Image names in policy order (for stable text).
    var images: [String]
    /// In policy order, the first (CI-written) stage included.
    var stages: [StatusStage]
    /// The bot's open MRs for this policy, any stage.
    var mergeRequests: [StatusMergeRequest] = []
}

/// What one stage runs.
struct StatusStage: Sendable, Hashable {
    /// The stage name (column).
    var name: String
    /// The stage it promotes from; nil for the first stage.
    var upstream: String?
    /// What the stage's paths hold, per image.
    var tags: ImageVersions
    /// Set when the stage could not be read; shown instead of versions.
    var error: String?
    /// Versions held for this stage because a person rolled them back (`app 1.5.0`), shown as a line each.
    var held: [String] = []
}

/// An open promotion MR as the board shows it.
struct StatusMergeRequest: Sendable, Hashable {
    /// The stage the MR promotes into.
    var stage: String
    /// The MR number (`!12`).
    var iid: Int
    /// Linked only when it is an http(s) URL.
    var webURL: String
    /// Short state, e.g. `waiting (approvals)`, `merging`, `left alone`.
    var state: String
    /// The plan's one-line summary.
    var summary: String
}

extension StatusMergeRequest {
    /// Derives `state` and `summary` from the plan's decision.
    init(stage: String, iid: Int, webURL: String, decision: Decision) {
        let state: String
        switch decision {
        case .upToDate, .openMR: state = "open"
        case let .blocked(gate, _, _): state = "blocked (\(gate.rawValue))"
        case .updateMR: state = "updating"
        case .closeMR: state = "closing"
        case let .mergeMR(_, _, autoMerge): state = autoMerge ? "auto-merge" : "merging"
        case let .waiting(_, gate, _, _): state = "waiting (\(gate.rawValue))"
        case .leaveAlone: state = "left alone"
        }
        self.init(stage: stage, iid: iid, webURL: webURL, state: state, summary: decision.summary)
    }
}

/// Output format of the status board.
enum StatusFormat: String, Sendable, CaseIterable {
    case text, markdown, html
}

/// The environment × application board: one row per policy, one column per stage name.
///
/// Cells list every image's version. A cell is marked as drift when its paths disagree about an
/// image, when its images hold mixed tags (images of one policy move as a unit, so this usually
/// means a hand edit or a half-applied promotion), or, per image, `≠ <upstream>` when it differs from
/// the upstream stage (normal while a promotion is pending). Open bot MRs are shown in their
/// stage's cell and listed under the table with links. Pure; thread-safe.
enum StatusBoard {
    /// Renders the board. `generatedAt` (the caller's clock) is printed when given.
    static func render(_ rows: [StatusRow], format: StatusFormat, generatedAt: Date? = nil) -> String {
        let columns = stageColumns(rows)
        switch format {
        case .text: return renderText(rows, columns: columns, generatedAt: generatedAt)
        case .markdown: return renderMarkdown(rows, columns: columns, generatedAt: generatedAt)
        case .html: return renderHTML(rows, columns: columns, generatedAt: generatedAt)
        }
    }

    /// Stage names across all rows, in first-seen order.
    static func stageColumns(_ rows: [StatusRow]) -> [String] {
        var seen: [String] = []
        for row in rows { for stage in row.stages where !seen.contains(stage.name) { seen.append(stage.name) } }
        return seen
    }

    /// One line of a cell, with whether it signals drift.
    struct Line: Equatable {
        var text: String
        var drift: Bool = false
        var link: String?
    }

    /// The lines of one (policy, stage) cell; nil when the policy has no such stage.
    static func cellLines(_ row: StatusRow, stage name: String) -> [Line]? {
        guard let stage = row.stages.first(where: { $0.name == name }) else { return nil }
        if let error = stage.error { return [Line(text: "error: \(error)", drift: true)] }
        let upstream = stage.upstream.flatMap { up in row.stages.first { $0.name == up } }
        var lines: [Line] = []
        for (image, value) in stage.tags.ordered(by: row.images) {
            var text = "\(PlannerText.shortImage(image)) \(value.display)"
            var drift = false
            if let upstream, let other = upstream.tags[image], other != value {
                text += " ≠ \(upstream.name)"
                drift = true
            }
            lines.append(Line(text: text, drift: drift))
        }
        if lines.isEmpty { lines.append(Line(text: "(no images)", drift: true)) }
        let tags = Set(stage.tags.ordered(by: row.images).map { $0.version.tag ?? $0.version.description })
        if stage.tags.count > 1, tags.count > 1 {
            lines.append(Line(text: "drift: mixed versions", drift: true))
        }
        for held in stage.held {
            lines.append(Line(text: "held: \(held)", drift: true))
        }
        for mr in row.mergeRequests where mr.stage == name {
            lines.append(Line(text: "!\(mr.iid) \(mr.state)", link: mr.webURL))
        }
        return lines
    }

    static func allMergeRequests(_ rows: [StatusRow]) -> [(policy: String, mr: StatusMergeRequest)] {
        rows.flatMap { row in row.mergeRequests.map { (row.policy, $0) } }
    }

    // MARK: - Text

    static func renderText(_ rows: [StatusRow], columns: [String], generatedAt: Date?) -> String {
        let header = ["policy"] + columns
        var table: [[[String]]] = [header.map { [$0] }]
        for row in rows {
            var cells = [[row.policy]]
            for column in columns {
                cells.append(cellLines(row, stage: column).map { $0.map { ($0.drift ? "* " : "") + $0.text } } ?? ["-"])
            }
            table.append(cells)
        }
        var widths = Array(repeating: 0, count: header.count)
        for cells in table {
            for (index, cell) in cells.enumerated() { widths[index] = max(widths[index], cell.map(\.count).max() ?? 0) }
        }
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var out: [String] = []
        if let generatedAt { out.append("promobot status at \(PlannerText.timestamp(generatedAt))"); out.append("") }
        for (number, cells) in table.enumerated() {
            let height = cells.map(\.count).max() ?? 1
            for lineIndex in 0..<height {
                let line = cells.enumerated().map { index, cell in pad(lineIndex < cell.count ? cell[lineIndex] : "", widths[index]) }
                out.append(line.joined(separator: " | ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
            }
            if number == 0 { out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "-+-")) }
        }
        if rows.isEmpty { out.append("(no policies)") }
        let mrs = allMergeRequests(rows)
        if !mrs.isEmpty {
            out.append("")
            out.append("Open promotion MRs:")
            for (policy, mr) in mrs {
                out.append("  \(policy) -> \(mr.stage) !\(mr.iid) [\(mr.state)] \(mr.summary) \(mr.webURL)")
            }
        }
        out.append("")
        out.append("* = drift; ≠ <stage> = differs from the upstream stage")
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: - Markdown

    static func renderMarkdown(_ rows: [StatusRow], columns: [String], generatedAt: Date?) -> String {
        func md(_ text: String) -> String {
            var escaped = ""
            for character in text {
                switch character {
                case "|", "\\", "*", "_", "`", "[", "]", "<", ">": escaped += "\\\(character)"
                case "\n", "\r": escaped += " "
                default: escaped.append(character)
                }
            }
            return escaped
        }
        var out: [String] = []
        if let generatedAt { out.append("promobot status at \(PlannerText.timestamp(generatedAt))"); out.append("") }
        out.append("| Policy | " + columns.map(md).joined(separator: " | ") + " |")
        out.append("|---|" + columns.map { _ in "---|" }.joined())
        for row in rows {
            var cells = ["**\(md(row.policy))**"]
            for column in columns {
                guard let lines = cellLines(row, stage: column) else { cells.append("—"); continue }
                cells.append(lines.map { line in
                    if let link = line.link, isWebLink(link) { return "[\(md(line.text))](\(markdownURL(link)))" }
                    return line.drift ? "**\(md(line.text))**" : md(line.text)
                }.joined(separator: "<br>"))
            }
            out.append("| " + cells.joined(separator: " | ") + " |")
        }
        let mrs = allMergeRequests(rows)
        if !mrs.isEmpty {
            out.append("")
            out.append("### Open promotion MRs")
            out.append("")
            for (policy, mr) in mrs {
                let ref = isWebLink(mr.webURL) ? "[!\(mr.iid)](\(markdownURL(mr.webURL)))" : "!\(mr.iid)"
                out.append("- \(md(policy)) → \(md(mr.stage)) \(ref) (\(md(mr.state))): \(md(mr.summary))")
            }
        }
        out.append("")
        out.append("Bold = drift; ≠ stage = differs from the upstream stage.")
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: - HTML

    /// Escapes text for HTML element content and quoted attribute values.
    static func escapeHTML(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func renderHTML(_ rows: [StatusRow], columns: [String], generatedAt: Date?) -> String {
        func anchor(_ text: String, _ url: String) -> String {
            isWebLink(url) ? "<a href=\"\(escapeHTML(url))\">\(escapeHTML(text))</a>" : escapeHTML(text)
        }
        var out: [String] = []
        out.append("<!DOCTYPE html>")
        out.append("<html lang=\"en\">")
        out.append("<head>")
        out.append("<meta charset=\"utf-8\">")
        out.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        out.append("<title>promobot status</title>")
        out.append("<style>")
        out.append("body{font-family:system-ui,sans-serif;margin:2em;color:#1f2328}")
        out.append("table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:.4em .7em;vertical-align:top;text-align:left}")
        out.append("th{background:#f6f8fa}.line{display:block;white-space:nowrap}.drift{color:#9a3412;font-weight:600}")
        out.append(".missing{color:#8c959f}.mr a{color:#0969da}footer{margin-top:1em;color:#57606a;font-size:.9em}")
        out.append("</style>")
        out.append("</head>")
        out.append("<body>")
        out.append("<h1>promobot status</h1>")
        if let generatedAt { out.append("<p>Generated at <time>\(PlannerText.timestamp(generatedAt))</time></p>") }
        out.append("<table>")
        out.append("<thead><tr><th>Policy</th>" + columns.map { "<th>\(escapeHTML($0))</th>" }.joined() + "</tr></thead>")
        out.append("<tbody>")
        for row in rows {
            var cells = "<tr><th scope=\"row\">\(escapeHTML(row.policy))</th>"
            for column in columns {
                guard let lines = cellLines(row, stage: column) else { cells += "<td class=\"missing\">—</td>"; continue }
                let body = lines.map { line -> String in
                    if let link = line.link { return "<span class=\"line mr\">\(anchor(line.text, link))</span>" }
                    return "<span class=\"line\(line.drift ? " drift" : "")\">\(escapeHTML(line.text))</span>"
                }.joined()
                cells += "<td>\(body)</td>"
            }
            out.append(cells + "</tr>")
        }
        out.append("</tbody>")
        out.append("</table>")
        let mrs = allMergeRequests(rows)
        if !mrs.isEmpty {
            out.append("<h2>Open promotion MRs</h2>")
            out.append("<ul>")
            for (policy, mr) in mrs {
                out.append("<li>\(escapeHTML(policy)) → \(escapeHTML(mr.stage)) \(anchor("!\(mr.iid)", mr.webURL)) (\(escapeHTML(mr.state))): \(escapeHTML(mr.summary))</li>")
            }
            out.append("</ul>")
        }
        out.append("<footer>Highlighted = drift; ≠ stage = differs from the upstream stage.</footer>")
        out.append("</body>")
        out.append("</html>")
        return out.joined(separator: "\n") + "\n"
    }

    /// Only http(s) URLs become links (no `javascript:` from a crafted MR URL).
    static func isWebLink(_ url: String) -> Bool {
        let lower = url.lowercased()
        return lower.hasPrefix("https://") || lower.hasPrefix("http://")
    }

    /// Percent-encodes the characters that would end a Markdown link target.
    static func markdownURL(_ url: String) -> String {
        url.replacingOccurrences(of: " ", with: "%20")
            .replacingOccurrences(of: "(", with: "%28")
            .replacingOccurrences(of: ")", with: "%29")
            .replacingOccurrences(of: "<", with: "%3C")
            .replacingOccurrences(of: ">", with: "%3E")
    }
}
