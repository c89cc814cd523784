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
        try old.withUnsafeBufferPointer { (old) throws(ManifestError) in
            try new.withUnsafeBufferPointer { (new) throws(ManifestError) in
                try compare(old, new, plan, fail)
            }
        }
    }

    /// Walks both event streams in step; `old` and `new` are borrowed, so no event is copied.
    private static func compare(_ old: UnsafeBufferPointer<YAMLEvent>, _ new: UnsafeBufferPointer<YAMLEvent>,
                                _ plan: SplicePlan, _ fail: (YAMLEvent, String) -> ManifestError) throws(ManifestError) {
        var cursor = 0
        for index in old.indices {
            guard cursor < new.count else { throw fail(old[index], "the edited file ends early") }
            if let edit = plan.scalarEdits[index] {
                guard new[cursor].kind == .scalar, new[cursor].value == edit.value, new[cursor].style == edit.style,
                      new[cursor].anchor == old[index].anchor, new[cursor].tag == old[index].tag,
                      readsAsString(new[cursor]) else {
                    throw fail(new[cursor], "expected \(describe(old[index])) to become '\(edit.value)' but found \(describe(new[cursor]))")
                }
            } else if !old[index].sameContent(as: new[cursor]) {
                throw fail(new[cursor], "expected \(describe(old[index])) but found \(describe(new[cursor]))")
            }
            cursor += 1
            if let inserted = plan.insertions[index] {
                for pair in inserted {
                    guard cursor + 1 < new.count, new[cursor].kind == .scalar, new[cursor].value == pair.key,
                          new[cursor].style == .plain, new[cursor + 1].kind == .scalar, new[cursor + 1].value == pair.value,
                          readsAsString(new[cursor + 1]) else {
                        throw fail(new[min(cursor, new.count - 1)], "expected the inserted '\(pair.key): \(pair.value)'")
                    }
                    cursor += 2
                }
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
