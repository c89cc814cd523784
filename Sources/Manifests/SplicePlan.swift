/// The byte edits for one file, and what the re-parsed result must look like. Built by
/// ``ManifestEditor``, checked by ``EditVerifier``. Pure.
struct SplicePlan {
    struct Splice {
        var start: Int
        var end: Int
        var bytes: [UInt8]
        /// Newlines added minus newlines removed (for line numbers after insertions).
        var addedLines: Int
    }

    struct Record {
        var offset: Int
        var line: Int
        var image: String
        var old: String
        var new: String
    }

    struct ScalarEdit {
        var value: String
        var style: YAMLEvent.Style
    }

    private(set) var splices: [Splice] = []
    /// Old event index -> the value (and style) the re-parsed scalar must have.
    private(set) var scalarEdits: [Int: ScalarEdit] = [:]
    /// Old event index -> key/value pairs that must follow it in the re-parsed stream.
    private(set) var insertions: [Int: [(key: String, value: String)]] = [:]
    private(set) var records: [Record] = []
    /// Node through which a version is reached (alias event or the scalar itself) -> the value it must
    /// read after the edit. A scalar edited at ``scalarEdits`` may appear only at these uses.
    private(set) var intendedUses: [Int: String] = [:]

    // MARK: - Building

    mutating func add(_ site: ImageSite, _ wanted: ManifestEditor.Wanted, _ tree: YAMLTree, _ bytes: [UInt8],
                      _ path: String) throws(ManifestError) {
        let oldTag = site.reference.tag
        let oldDigest = site.reference.digest
        switch site.layout {
        case .scalar(let index):
            let newTag = wanted.tag ?? oldTag
            // A new tag without a digest drops the old digest: it pins the old image and would win.
            let newDigest = wanted.digest ?? (wanted.tag != nil ? nil : oldDigest)
            guard newTag != oldTag || newDigest != oldDigest else { return }
            let value = site.writtenName + (newTag.map { ":\($0)" } ?? "") + (newDigest.map { "@\($0)" } ?? "")
            guard try setScalar(index, use: site.uses[index] ?? index, to: value, tree, bytes, path) else { return }
            let event = tree.events[index]
            records.append(Record(offset: event.start, line: event.line, image: site.writtenName,
                                  old: ImageReference.versionText(tag: oldTag, digest: oldDigest),
                                  new: ImageReference.versionText(tag: newTag, digest: newDigest)))
        case .unsupported(let index):
            throw Self.blockRefusal(tree.events[index], bytes, path)
        case .split(let layout):
            // Only a real digest pins: a null or empty `digest` (the locator's `oldDigest == nil`) does not.
            if wanted.tag != nil, wanted.digest == nil, oldDigest != nil, let digestEvent = layout.digestEvent,
               wanted.tag != oldTag {
                let event = tree.events[digestEvent]
                throw ManifestError.digestPinned(path: path, line: event.line, column: event.column, image: site.writtenName)
            }
            let newTag = wanted.tag ?? oldTag
            let newDigest = wanted.digest ?? oldDigest
            guard newTag != oldTag || newDigest != oldDigest else { return }
            var missing: [(key: String, value: String)] = []
            var recordAt: (offset: Int, line: Int)?
            // Reached again (an aliased entry): the same scalars, already planned; nothing new to record.
            var isNew = false
            if let tag = wanted.tag, tag != oldTag {
                if let tagEvent = layout.tagEvent {
                    isNew = try setScalar(tagEvent, use: site.uses[tagEvent] ?? tagEvent, to: tag, tree, bytes, path) || isNew
                    recordAt = (tree.events[tagEvent].start, tree.events[tagEvent].line)
                } else {
                    missing.append((layout.tagKey, tag))
                }
            }
            if let digest = wanted.digest, digest != oldDigest {
                if let digestEvent = layout.digestEvent {
                    isNew = try setScalar(digestEvent, use: site.uses[digestEvent] ?? digestEvent, to: digest, tree, bytes, path) || isNew
                    recordAt = recordAt ?? (tree.events[digestEvent].start, tree.events[digestEvent].line)
                } else {
                    missing.append(("digest", digest))
                }
            }
            if !missing.isEmpty, insertions[layout.insertAfter] == nil {
                if layout.insertAfterAlias {
                    let event = tree.events[layout.insertKey]
                    throw ManifestError.unsupportedValue(path: path, line: event.line, column: event.column,
                                                         reason: "the image name is an alias, so '\(layout.tagKey)' cannot be added next to it")
                }
                if ImageLocator.isBlock(tree.events[layout.insertAfter]) {
                    // Its end lies past its trailing breaks: "after the name line" is not where it ends.
                    let event = tree.events[layout.insertKey]
                    throw ManifestError.unsupportedValue(path: path, line: event.line, column: event.column,
                                                         reason: "the image name is a block scalar, so '\(layout.tagKey)' cannot be added next to it")
                }
                let inserted = insert(missing, layout, tree, bytes)
                recordAt = recordAt ?? inserted
                isNew = true
            }
            guard isNew else { return }
            let at = recordAt ?? (tree.events[site.reportEvent].start, tree.events[site.reportEvent].line)
            records.append(Record(offset: at.offset, line: at.line, image: site.writtenName,
                                  old: ImageReference.versionText(tag: oldTag, digest: oldDigest),
                                  new: ImageReference.versionText(tag: newTag, digest: newDigest)))
        }
    }

    /// Rewrites one scalar's value in place, keeping its quote style (plain becomes double-quoted only when
    /// the new value would otherwise read as a number, boolean, null or date). `use` is the node the value
    /// was reached through (see ``intendedUses``).
    ///
    /// A null written as nothing (`tag:`) gets the value after one space. A block scalar (`|-`, `>`) whose
    /// content is one line is rewritten on that line, keeping its indicator and chomping (the value read
    /// back keeps its trailing breaks); one over several lines is refused.
    /// - Returns: false when the scalar was already planned (reached again through an alias).
    /// - Throws: ``ManifestError/sharedValue(path:line:column:detail:)`` when two images want different
    ///   values in the same scalar; ``ManifestError/unsupportedValue(path:line:column:reason:)``.
    private mutating func setScalar(_ index: Int, use: Int, to text: String, _ tree: YAMLTree, _ bytes: [UInt8],
                                    _ path: String) throws(ManifestError) -> Bool {
        let event = tree.events[index]
        let isBlock = ImageLocator.isBlock(event)
        let value = isBlock ? text + String(event.value.reversed().prefix { $0 == "\n" }) : text
        guard event.value != value else { return false }
        if let planned = scalarEdits[index] {
            guard planned.value == value else {
                let at = tree.events[use]
                throw ManifestError.sharedValue(path: path, line: at.line, column: at.column,
                                                detail: "the value at line \(event.line) is shared through an alias and would need to be both '\(EchoText.escapingControls(planned.value))' and '\(EchoText.escapingControls(value))'")
            }
            intendedUses[use] = value
            return false
        }
        intendedUses[use] = value
        let tokenStart = event.anchor != nil || event.tag != nil ? Self.skipProperties(bytes, event.start, event.end) : event.start
        func unsupported(_ reason: String) -> ManifestError {
            .unsupportedValue(path: path, line: event.line, column: event.column, reason: reason)
        }
        if let tag = event.tag, tag != "tag:yaml.org,2002:str" {
            throw unsupported("the value is tagged '\(tag)', so a version written there would not read as a string")
        }
        var style = event.style
        switch event.style {
        case .plain:
            guard bytes[tokenStart..<event.end].elementsEqual(event.value.utf8) else {
                throw unsupported("the value '\(event.value)' spans several lines")
            }
            if event.value.isEmpty {
                // `tag:` (a null): libyaml puts the empty value right after the colon (block) or at the next
                // `,`/`}` (flow); one space keeps `key: value` apart.
                let blank = tokenStart > 0 && Self.isBlank(bytes[tokenStart - 1])
                if !ScalarText.isSafePlain(value) { style = .doubleQuoted }
                let written = (blank ? "" : " ") + (style == .plain ? value : ScalarText.doubleQuoted(value))
                add(Splice(start: tokenStart, end: tokenStart, bytes: Array(written.utf8), addedLines: 0))
            } else if ScalarText.isSafePlain(value) {
                replaceInner(tokenStart, event.end, old: Array(event.value.utf8), new: Array(value.utf8))
            } else {
                style = .doubleQuoted
                add(Splice(start: tokenStart, end: event.end, bytes: Array(ScalarText.doubleQuoted(value).utf8), addedLines: 0))
            }
        case .singleQuoted, .doubleQuoted:
            let quote = UInt8(ascii: event.style == .singleQuoted ? "'" : "\"")
            guard event.end - tokenStart >= 2, bytes[tokenStart] == quote, bytes[event.end - 1] == quote else {
                throw unsupported("cannot find the quotes around '\(event.value)'")
            }
            let escape = event.style == .singleQuoted ? ScalarText.escapeSingle : ScalarText.escapeDouble
            let innerStart = tokenStart + 1
            let innerEnd = event.end - 1
            let oldInner = Array(bytes[innerStart..<innerEnd])
            let newInner = Array(escape(value).utf8)
            if oldInner.elementsEqual(escape(event.value).utf8) {
                replaceInner(innerStart, innerEnd, old: oldInner, new: newInner)
            } else {
                // Folded or unusually escaped: rewrite the whole content, same quotes.
                let removed = oldInner.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                add(Splice(start: innerStart, end: innerEnd, bytes: newInner, addedLines: -removed))
            }
        case .literal, .folded:
            guard let line = Self.blockLine(event, from: tokenStart, bytes) else {
                throw Self.blockRefusal(event, bytes, path)
            }
            replaceInner(line.lowerBound, line.upperBound, old: Array(bytes[line]), new: Array(text.utf8))
        default:
            throw unsupported("the value has no style the editor knows")
        }
        scalarEdits[index] = ScalarEdit(value: value, style: style)
        return true
    }

    // MARK: - Block scalars

    /// The bytes of a block scalar's one content line: the header (`|-`, `>2`, a comment) ends its own line
    /// and the value is alone on the next line that is not blank. Nil when the content is anything else
    /// (several lines, leading blank lines, blanks around the value).
    static func blockLine(_ event: YAMLEvent, from tokenStart: Int, _ bytes: [UInt8]) -> Range<Int>? {
        let content = ImageLocator.trailingBreaksRemoved(event.value)
        guard !content.isEmpty, ImageLocator.isOneLine(content) else { return nil }
        var index = LineBreaks.lineEnd(from: tokenStart, in: bytes) + 1
        while index < bytes.count {
            let end = LineBreaks.lineEnd(from: index, in: bytes)
            var start = index
            while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
            let contentEnd = end > start && bytes[end - 1] == UInt8(ascii: "\r") ? end - 1 : end
            if start < contentEnd {
                return bytes[start..<contentEnd].elementsEqual(content.utf8) ? start..<contentEnd : nil
            }
            index = end + 1
        }
        return nil
    }

    /// Why a block scalar is not rewritten: how many lines its content spans, at its header's position.
    static func blockRefusal(_ event: YAMLEvent, _ bytes: [UInt8], _ path: String) -> ManifestError {
        let tokenStart = event.anchor != nil || event.tag != nil ? skipProperties(bytes, event.start, event.end) : event.start
        let headerEnd = LineBreaks.lineEnd(from: tokenStart, in: bytes)
        var indicatorEnd = tokenStart
        while indicatorEnd < headerEnd, !isBlank(bytes[indicatorEnd]), bytes[indicatorEnd] != UInt8(ascii: "#") { indicatorEnd += 1 }
        let indicator = String(decoding: bytes[tokenStart..<indicatorEnd], as: UTF8.self)
        // Content lines: those after the header, up to the scalar's end, holding more than blanks.
        var lines = 0
        var index = headerEnd + 1
        while index < min(event.end, bytes.count) {
            let end = LineBreaks.lineEnd(from: index, in: bytes)
            if bytes[index..<end].contains(where: { !isBlank($0) }) { lines += 1 }
            index = end + 1
        }
        let shape = lines > 1 ? "over \(lines) lines" : "whose content is not the value alone on one line"
        return .unsupportedValue(path: path, line: event.line, column: event.column,
                                 reason: "the value is a block scalar ('\(EchoText.escapingControls(indicator))') \(shape); only a block scalar holding the value alone on one line is edited in place")
    }

    /// Refuses a planned scalar that also appears somewhere that is not a version being set: an anchored
    /// value with an alias elsewhere (`kind: &k ...` + `newTag: *k`), in either direction.
    /// - Throws: ``ManifestError/sharedValue(path:line:column:detail:)`` at the version being set.
    func checkSharedValues(_ tree: YAMLTree, _ path: String) throws(ManifestError) {
        for index in scalarEdits.keys.sorted() {
            let value = scalarEdits[index]!.value
            let uses = [index] + (tree.aliases[index] ?? [])
            guard let stray = uses.first(where: { intendedUses[$0] != value }) else { continue }
            let anchored = tree.events[index]
            let setAt = tree.events[uses.first { intendedUses[$0] == value } ?? index]
            let anchor = EchoText.escapingControls(anchored.anchor ?? "")
            let shown = EchoText.escapingControls(anchored.value)
            let detail = stray == index
                ? "the version at line \(setAt.line) is the alias *\(anchor) of '\(shown)' at line \(anchored.line), which is not a version being set; setting it would change line \(anchored.line) too"
                : "the version at line \(setAt.line) is anchored as &\(anchor) and also used at line \(tree.events[stray].line) through *\(anchor), where it is not a version being set; setting it would change line \(tree.events[stray].line) too"
            throw ManifestError.sharedValue(path: path, line: setAt.line, column: setAt.column, detail: detail)
        }
    }

    /// Splices only the bytes after the common prefix (so `app:1.4.2` -> `app:1.5.0` touches `4.2`).
    private mutating func replaceInner(_ start: Int, _ end: Int, old: [UInt8], new: [UInt8]) {
        var prefix = 0
        while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
        add(Splice(start: start + prefix, end: end, bytes: Array(new[prefix...]), addedLines: 0))
    }

    /// Inserts missing keys after the name line (block) or after the name value (flow).
    /// Returns where the first inserted value is, in old-file terms.
    private mutating func insert(_ pairs: [(key: String, value: String)], _ layout: ImageSite.SplitLayout,
                                 _ tree: YAMLTree, _ bytes: [UInt8]) -> (offset: Int, line: Int) {
        let anchorEvent = tree.events[layout.insertAfter]
        insertions[layout.insertAfter] = pairs
        if layout.flow {
            let text = pairs.map { ", \($0.key): \(ScalarText.fresh($0.value))" }.joined()
            add(Splice(start: anchorEvent.end, end: anchorEvent.end, bytes: Array(text.utf8), addedLines: 0))
            return (anchorEvent.end, anchorEvent.line)
        }
        let lineEnd = LineBreaks.lineEnd(from: anchorEvent.end, in: bytes)
        let newline = LineBreaks.terminator(at: lineEnd, in: bytes)
        let indent = String(repeating: " ", count: max(0, tree.events[layout.insertKey].column - 1))
        let lines = pairs.map { indent + $0.key + ": " + ScalarText.fresh($0.value) }
        // libyaml's line of the name, plus any breaks inside a multi-line name (counted locally: O(line)).
        let line = anchorEvent.line + LineBreaks.count(in: bytes, from: anchorEvent.start, to: lineEnd)
        if lineEnd < bytes.count {
            let text = lines.map { $0 + newline }.joined()
            add(Splice(start: lineEnd + 1, end: lineEnd + 1, bytes: Array(text.utf8), addedLines: pairs.count))
            return (lineEnd + 1, line + 1)
        }
        let text = lines.map { newline + $0 }.joined()
        add(Splice(start: bytes.count, end: bytes.count, bytes: Array(text.utf8), addedLines: pairs.count))
        return (bytes.count, line + 1)
    }

    private mutating func add(_ splice: Splice) {
        splices.append(splice)
    }

    /// Skips `&anchor` / `!tag` properties (and the blanks and comments after them) before a scalar token.
    static func skipProperties(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Int {
        var index = start
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "&") || byte == UInt8(ascii: "!") {
                while index < end, !Self.isBlank(bytes[index]) { index += 1 }
            } else if Self.isBlank(byte) {
                index += 1
            } else if byte == UInt8(ascii: "#") {
                while index < end, bytes[index] != UInt8(ascii: "\n") { index += 1 }
            } else {
                break
            }
        }
        return index
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    // MARK: - Applying

    /// The edited bytes: splices applied back to front.
    func applied(to bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + 64)
        var cursor = 0
        for splice in splices.sorted(by: { ($0.start, $0.end) < ($1.start, $1.end) }) {
            result.append(contentsOf: bytes[cursor..<splice.start])
            result.append(contentsOf: splice.bytes)
            cursor = splice.end
        }
        result.append(contentsOf: bytes[cursor...])
        return result
    }

    /// New-file line numbers for the records: one sort of the splices and running sums of the lines each
    /// adds, then a binary search per record (a file with thousands of edits stays O(k log k)).
    func newLines() -> [Int] {
        let sorted = splices.sorted { $0.start < $1.start }
        var added = [0]
        added.reserveCapacity(sorted.count + 1)
        for splice in sorted { added.append(added[added.count - 1] + splice.addedLines) }
        return records.map { record in
            var low = 0, high = sorted.count  // the number of splices that start before the record
            while low < high {
                let middle = (low + high) / 2
                if sorted[middle].start < record.offset { low = middle + 1 } else { high = middle }
            }
            return record.line + added[low]
        }
    }
}
