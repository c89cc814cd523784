import Foundation
import Manifests
import Planning

// The text and Markdown boards: a compact table (versions, drift, state, holds, MRs), then one line per
// stage with the decision and its reason, the open MRs with links and approvals, and the newest changes.

extension StatusBoard {
    /// One line of a table cell, with whether it signals drift (or trouble) and the MR it links to.
    struct Line: Equatable {
        var text: String
        var drift: Bool = false
        var link: String?
    }

    /// What a stage runs, one line per image in policy order, drift marked: `≠ <upstream>` per image that
    /// differs from the upstream stage, and `drift: mixed versions` when one policy's images (which move
    /// as a unit) hold different tags. The text, Markdown and HTML boards all show these lines.
    static func versionLines(_ row: StatusRow, _ stage: StatusStage) -> [Line] {
        var lines: [Line] = []
        let upstream = stage.upstream.flatMap(row.stage(named:))
        for (image, value) in stage.tags.ordered(by: row.images) {
            var text = "\(PlannerText.shortImage(image)) \(value.display)"
            var drift = false
            // A stage that pins (`pin: digest`) the tag its upstream runs is not drift.
            if let upstream, let other = upstream.tags[image], !other.matches(value) {
                text += " ≠ \(upstream.name)"
                drift = true
            }
            lines.append(Line(text: text, drift: drift))
        }
        if lines.isEmpty, stage.error == nil { lines.append(Line(text: "(no images)", drift: true)) }
        let tags = Set(stage.tags.ordered(by: row.images).map { $0.version.tag ?? $0.version.description })
        if stage.tags.count > 1, tags.count > 1 {
            lines.append(Line(text: "drift: mixed versions", drift: true))
        }
        return lines
    }

    /// The lines of one (policy, stage) table cell; nil when the policy has no such stage.
    static func cellLines(_ row: StatusRow, stage name: String) -> [Line]? {
        guard let stage = row.stage(named: name) else { return nil }
        var lines = versionLines(row, stage)
        if let error = stage.error { lines.append(Line(text: "error: \(error)", drift: true)) }
        let mergeRequests = row.mergeRequests.filter { $0.stage == name }
        if let block = stage.blocking, block.mergeRequest == nil {
            lines.append(Line(text: block.label, drift: true))
        } else if let decision = stage.plan?.decision, mergeRequests.isEmpty, decision != .upToDate {
            lines.append(Line(text: state(of: decision)))
        }
        for hold in stage.held {
            lines.append(Line(text: "held: \(PlannerText.shortImage(hold.image)) \(hold.version.display)", drift: true))
        }
        for mr in mergeRequests {
            lines.append(Line(text: "!\(mr.iid) \(mr.state)", link: mr.webURL))
        }
        return lines
    }

    /// The decision for one stage in a line (`blocked (soak): <reason> until 10:42Z`), then notes: the
    /// candidate, gates not checked, holds, a rollback on its way, an error. Nil for a stage with nothing
    /// to say (a first stage without errors).
    func stageSummary(_ row: StatusRow, _ stage: StatusStage) -> (headline: String, notes: [String])? {
        var notes: [String] = []
        if let candidate = stage.pendingCandidate { notes.append("candidate: " + PlannerText.list(candidate, order: row.images)) }
        for gate in stage.plan?.gates ?? [] where !gate.checked {
            notes.append("not checked: \(gate.gate.rawValue) (\(Self.notCheckedReason(gate)))")
        }
        for hold in stage.held {
            notes.append("held: \(PlannerText.shortImage(hold.image)) \(hold.version.display), rolled back in "
                + "\(PlannerText.shortSHA(hold.rollback.commit)) by \(hold.rollback.author), \(time(hold.rollback.time))")
        }
        if let rollback = stage.rollback, let record = rollback.rollback {
            notes.append("rollback\(record.automatic ? " (automatic)" : "") requested by \(record.requestedBy): "
                + "\(record.reason); \(rollback.decision.summary)")
        }
        guard let plan = stage.plan else {
            if let error = stage.error { return ("error: \(error)", notes) }
            if notes.isEmpty { return nil }
            return (stage.upstream == nil ? "written by CI" : "no promotion planned", notes)
        }
        if let error = stage.error { notes.append("error: \(error)") }
        let headline: String
        if let block = stage.blocking {
            let mr = block.mergeRequest.map { "MR !\($0) " } ?? ""
            headline = "\(mr)\(block.label): \(block.reason)\(untilSuffix(block))"
        } else {
            headline = plan.summary
        }
        return (headline, notes)
    }

    /// ` until 10:42Z`, unless the reason already says so (the soak, window and freeze gates do).
    func untilSuffix(_ block: StatusBlock) -> String {
        guard let until = block.until else { return "" }
        let text = "until \(time(until))"
        return block.reason.contains(text) ? "" : " " + text
    }

    /// `!12 [waiting (approvals), 1 of 2 approvals]`-style state of an MR.
    static func mergeRequestState(_ mr: StatusMergeRequest) -> String {
        mr.state + (mr.approvals.map { ", \($0.given) of \($0.required) approvals" } ?? "")
    }

    /// Every stage's recent changes, newest first across the board, with the stage they belong to.
    var recentChanges: [(policy: String, stage: StatusStage, change: HistoryEntry)] {
        rows.flatMap { row in row.stages.flatMap { stage in stage.recentChanges.map { (row.policy, stage, $0) } } }
            .sorted { $0.change.time > $1.change.time }
    }

    /// `emergency stop: <reason>; promobot opens, updates and merges nothing until it is lifted`.
    func emergencyStopText(_ reason: String) -> String {
        "emergency stop: \(reason); promobot opens, updates and merges nothing until it is lifted"
    }

    // MARK: - Text

    func renderText() -> String {
        let columns = stageColumns
        let header = ["policy"] + columns
        var table: [[[String]]] = [header.map { [$0] }]
        for row in rows {
            var cells = [[row.policy]]
            for column in columns {
                cells.append(Self.cellLines(row, stage: column).map { $0.map { ($0.drift ? "* " : "") + $0.text } } ?? ["-"])
            }
            table.append(cells)
        }
        // Everything echoed from git, GitLab or files is printed with its control characters escaped, so a
        // value can neither break the table nor forge a line in a CI log.
        let clean = EchoText.escapingControls
        table = table.map { $0.map { $0.map(clean) } }
        var widths = Array(repeating: 0, count: header.count)
        for cells in table {
            for (index, cell) in cells.enumerated() { widths[index] = max(widths[index], cell.map(\.count).max() ?? 0) }
        }
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var out: [String] = []
        if let cycleTime { out.append("promobot status at \(PlannerText.timestamp(cycleTime))") }
        if let emergencyStop { out.append(clean(emergencyStopText(emergencyStop).uppercasedFirst)) }
        if !errors.isEmpty {
            out.append("Errors in the last cycle:")
            for error in errors { out.append("  " + clean(error.description)) }
        }
        if !out.isEmpty { out.append("") }
        for (number, cells) in table.enumerated() {
            let height = cells.map(\.count).max() ?? 1
            for lineIndex in 0..<height {
                let line = cells.enumerated().map { index, cell in pad(lineIndex < cell.count ? cell[lineIndex] : "", widths[index]) }
                out.append(line.joined(separator: " | ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
            }
            if number == 0 { out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "-+-")) }
        }
        if rows.isEmpty { out.append("(no policies)") }
        let summaries = rows.flatMap { row in row.stages.compactMap { stage in stageSummary(row, stage).map { (row.policy, stage.name, $0) } } }
        if !summaries.isEmpty {
            out.append("")
            out.append("Stages:")
            for (policy, stage, summary) in summaries {
                out.append(clean("  \(policy)/\(stage): \(summary.headline)"))
                for note in summary.notes { out.append(clean("    \(note)")) }
            }
        }
        let mrs = rows.flatMap { row in row.mergeRequests.map { (row.policy, $0) } }
        if !mrs.isEmpty {
            out.append("")
            out.append("Open promotion MRs:")
            for (policy, mr) in mrs {
                out.append(clean("  \(policy) -> \(mr.stage) !\(mr.iid) [\(Self.mergeRequestState(mr))] \(mr.summary) \(mr.webURL)"))
            }
        }
        let changes = recentChanges
        if !changes.isEmpty {
            out.append("")
            out.append("Recent changes:")
            for (policy, stage, change) in changes {
                out.append(clean("  \(time(change.time)) \(policy)/\(stage.name) \(Self.kind(of: change, in: stage)) by \(change.author): "
                    + "\(change.subject) (\(PlannerText.shortSHA(change.commit)))"))
            }
        }
        out.append("")
        out.append("* = drift or trouble; ≠ <stage> = differs from the upstream stage")
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: - Markdown

    /// Escapes Markdown's inline syntax and HTML, and folds line breaks, so a value stays one cell's text.
    static func markdown(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "|", "\\", "*", "_", "`", "[", "]", "<", ">", "&": escaped += "\\\(character)"
            case "\n", "\r", "\u{2028}", "\u{2029}": escaped += " "
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Percent-encodes the characters that would end a Markdown link target.
    static func markdownURL(_ url: String) -> String {
        url.replacingOccurrences(of: " ", with: "%20")
            .replacingOccurrences(of: "(", with: "%28")
            .replacingOccurrences(of: ")", with: "%29")
            .replacingOccurrences(of: "<", with: "%3C")
            .replacingOccurrences(of: ">", with: "%3E")
    }

    func renderMarkdown() -> String {
        let md = Self.markdown
        let columns = stageColumns
        var out: [String] = []
        if let cycleTime { out.append("promobot status at \(PlannerText.timestamp(cycleTime))"); out.append("") }
        if let emergencyStop { out.append("> **\(md(emergencyStopText(emergencyStop).uppercasedFirst))**"); out.append("") }
        if !errors.isEmpty {
            out.append("**Errors in the last cycle:**")
            out.append("")
            for error in errors { out.append("- \(md(error.description))") }
            out.append("")
        }
        out.append("| Policy | " + columns.map(md).joined(separator: " | ") + " |")
        out.append("|---|" + columns.map { _ in "---|" }.joined())
        for row in rows {
            var cells = ["**\(md(row.policy))**"]
            for column in columns {
                guard let lines = Self.cellLines(row, stage: column) else { cells.append("—"); continue }
                cells.append(lines.map { line in
                    if let link = line.link, Self.isWebLink(link) { return "[\(md(line.text))](\(Self.markdownURL(link)))" }
                    return line.drift ? "**\(md(line.text))**" : md(line.text)
                }.joined(separator: "<br>"))
            }
            out.append("| " + cells.joined(separator: " | ") + " |")
        }
        let summaries = rows.flatMap { row in row.stages.compactMap { stage in stageSummary(row, stage).map { (row.policy, stage.name, $0) } } }
        if !summaries.isEmpty {
            out.append("")
            out.append("### Stages")
            out.append("")
            for (policy, stage, summary) in summaries {
                out.append("- **\(md(policy))/\(md(stage))**: \(md(summary.headline))")
                for note in summary.notes { out.append("  - \(md(note))") }
            }
        }
        let mrs = rows.flatMap { row in row.mergeRequests.map { (row.policy, $0) } }
        if !mrs.isEmpty {
            out.append("")
            out.append("### Open promotion MRs")
            out.append("")
            for (policy, mr) in mrs {
                let ref = Self.isWebLink(mr.webURL) ? "[!\(mr.iid)](\(Self.markdownURL(mr.webURL)))" : "!\(mr.iid)"
                out.append("- \(md(policy)) → \(md(mr.stage)) \(ref) (\(md(Self.mergeRequestState(mr)))): \(md(mr.summary))")
            }
        }
        let changes = recentChanges
        if !changes.isEmpty {
            out.append("")
            out.append("### Recent changes")
            out.append("")
            for (policy, stage, change) in changes {
                out.append("- \(md(time(change.time))) \(md(policy))/\(md(stage.name)) \(Self.kind(of: change, in: stage)) by "
                    + "\(md(change.author)): \(md(change.subject)) (`\(PlannerText.shortSHA(change.commit).filter(\.isHexDigit))`)")
            }
        }
        out.append("")
        out.append("Bold = drift or trouble; ≠ stage = differs from the upstream stage.")
        return out.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// The text with its first character upper-cased (`Emergency stop: …` at the start of a line).
    var uppercasedFirst: String { prefix(1).uppercased() + dropFirst() }
}
