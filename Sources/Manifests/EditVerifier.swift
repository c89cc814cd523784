/// The safety check: the edited text must parse to exactly the old documents with the planned values
/// changed and the planned keys inserted — nothing else. Pure.
enum EditVerifier {
    static func verify(old: [YAMLEvent], newBytes: [UInt8], plan: SplicePlan, path: String) throws(ManifestError) {
        let new: [YAMLEvent]
        do {
            new = try YAMLEventParser.parse(newBytes)
        } catch {
            throw ManifestError.safetyCheckFailed(path: path, line: error.line, column: error.column,
                                                  detail: "the edited text is not valid YAML: \(error.problem)")
        }
        func fail(_ event: YAMLEvent, _ detail: String) -> ManifestError {
            .safetyCheckFailed(path: path, line: event.line, column: event.column, detail: detail)
        }
        var cursor = 0
        for (index, before) in old.enumerated() {
            guard cursor < new.count else { throw fail(before, "the edited file ends early") }
            let after = new[cursor]
            if let edit = plan.scalarEdits[index] {
                guard after.kind == .scalar, after.value == edit.value, after.style == edit.style,
                      after.anchor == before.anchor, after.tag == before.tag, readsAsString(after) else {
                    throw fail(after, "expected \(describe(before)) to become '\(edit.value)' but found \(describe(after))")
                }
            } else if !before.sameContent(as: after) {
                throw fail(after, "expected \(describe(before)) but found \(describe(after))")
            }
            cursor += 1
            for pair in plan.insertions[index] ?? [] {
                guard cursor + 1 < new.count, new[cursor].kind == .scalar, new[cursor].value == pair.key,
                      new[cursor].style == .plain, new[cursor + 1].kind == .scalar, new[cursor + 1].value == pair.value,
                      readsAsString(new[cursor + 1]) else {
                    throw fail(new[min(cursor, new.count - 1)], "expected the inserted '\(pair.key): \(pair.value)'")
                }
                cursor += 2
            }
        }
        guard cursor == new.count else { throw fail(new[cursor], "unexpected extra content \(describe(new[cursor]))") }
    }

    /// Whether a scalar will be read as a string (not a number, boolean, null or date).
    static func readsAsString(_ event: YAMLEvent) -> Bool {
        if let tag = event.tag { return tag == "tag:yaml.org,2002:str" }
        return event.style != .plain || ScalarText.isSafePlain(event.value)
    }

    private static func describe(_ event: YAMLEvent) -> String {
        switch event.kind {
        case .scalar: return "the value '\(event.value)' (line \(event.line))"
        case .alias: return "the alias *\(event.value) (line \(event.line))"
        case .mappingStart: return "a mapping (line \(event.line))"
        case .sequenceStart: return "a sequence (line \(event.line))"
        case .mappingEnd, .sequenceEnd: return "the end of a collection (line \(event.line))"
        case .documentStart, .documentEnd: return "a document boundary (line \(event.line))"
        case .streamStart, .streamEnd: return "the end of the file"
        }
    }
}
