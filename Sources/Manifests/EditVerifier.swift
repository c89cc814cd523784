/// The safety check: the edited text must parse to exactly the old documents with the planned values
/// changed and the planned keys inserted — nothing else. Checked twice: event by event as written (styles,
/// anchors, tags, key order), then document by document with aliases resolved, so a value that is also
/// reached through an alias somewhere else can never change there unnoticed. Pure.
enum EditVerifier {
    static func verify(old: YAMLTree, newBytes: [UInt8], plan: SplicePlan, path: String) throws(ManifestError) {
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
        try old.events.withUnsafeBufferPointer { (old) throws(ManifestError) in
            try new.withUnsafeBufferPointer { (new) throws(ManifestError) in
                try compare(old, new, plan, fail)
            }
        }
        let newTree: YAMLTree
        do {
            newTree = try YAMLTree(events: new)
        } catch {
            throw ManifestError.safetyCheckFailed(path: path, line: error.line, column: error.column,
                                                  detail: "the edited text does not compose: \(error.problem)")
        }
        guard old.documents.count == newTree.documents.count else {
            throw fail(new[new.count - 1], "the number of documents changed")
        }
        let resolved = ResolvedComparison(old: old, new: newTree, plan: plan, fail: fail)
        for (a, b) in zip(old.documents, newTree.documents) {
            try resolved.compare(a, b, use: a.eventIndex, inKey: false)
        }
    }

    /// Walks an old and a new document with every alias expanded (bounded by ``ManifestLimits``, checked
    /// when the trees were composed): every scalar must read as before, except at the uses the plan meant
    /// to set, never inside a mapping key.
    private struct ResolvedComparison {
        let old: YAMLTree
        let new: YAMLTree
        let plan: SplicePlan
        let fail: (YAMLEvent, String) -> ManifestError

        func compare(_ a: YAMLNode, _ b: YAMLNode, use: Int, inKey: Bool) throws(ManifestError) {
            switch (a, b) {
            case let (.alias(aliasIndex, target?), .alias(_, newTarget?)):
                // A scalar reached through an alias is used *here*: the alias is the use.
                try compare(target, newTarget, use: aliasIndex, inKey: inKey)
            case let (.scalar(i), .scalar(j)):
                let before = old.events[i], after = new.events[j]
                guard before.value != after.value else { return }
                guard !inKey, plan.intendedUses[use] == after.value else {
                    let at = old.events[use]
                    throw fail(after, "the value '\(EchoText.escapingControls(before.value))' used at line \(at.line) would become '\(EchoText.escapingControls(after.value))' (through an anchor or alias)")
                }
            case let (.sequence(_, items), .sequence(_, newItems)):
                guard items.count == newItems.count else { throw fail(new.events[b.eventIndex], "a sequence changed length") }
                for (x, y) in zip(items, newItems) { try compare(x, y, use: x.eventIndex, inKey: inKey) }
            case let (.mapping(_, pairs), .mapping(_, newPairs)):
                var cursor = 0
                for pair in pairs {
                    guard cursor < newPairs.count else { throw fail(new.events[b.eventIndex], "a mapping lost a key") }
                    try compare(pair.key, newPairs[cursor].key, use: pair.key.eventIndex, inKey: true)
                    try compare(pair.value, newPairs[cursor].value, use: pair.value.eventIndex, inKey: inKey)
                    cursor += 1
                    // Keys the plan inserts after this value (checked as written by the event pass).
                    if let inserted = plan.insertions[pair.value.eventIndex] {
                        guard !inKey else { throw fail(new.events[b.eventIndex], "a key was inserted inside a mapping key") }
                        cursor += inserted.count
                    }
                }
                guard cursor == newPairs.count else { throw fail(new.events[b.eventIndex], "a mapping gained or lost keys") }
            default:
                throw fail(new.events[b.eventIndex], "expected \(EditVerifier.describe(old.events[a.eventIndex])) but found \(EditVerifier.describe(new.events[b.eventIndex]))")
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

    fileprivate static func describe(_ event: YAMLEvent) -> String {
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
