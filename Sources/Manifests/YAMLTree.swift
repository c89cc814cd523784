/// A node of a composed YAML document; every case keeps the index of its (start) event so the editor
/// can find the bytes it came from. Aliases keep the node they point at.
indirect enum YAMLNode {
    case scalar(Int)
    case mapping(Int, [(key: YAMLNode, value: YAMLNode)])
    case sequence(Int, [YAMLNode])
    case alias(Int, YAMLNode?)

    /// The index of the node's (start) event.
    var eventIndex: Int {
        switch self {
        case .scalar(let index), .mapping(let index, _), .sequence(let index, _), .alias(let index, _): index
        }
    }

    /// The node an alias points at (itself for everything else).
    var resolved: YAMLNode? {
        if case .alias(_, let target) = self { return target?.resolved }
        return self
    }
}

/// Why a parsed file is not composed: an alias to nothing, or sizes beyond ``ManifestLimits``.
struct YAMLCompositionError: Error, Sendable {
    var line: Int
    var column: Int
    var problem: String
    /// True for a limit (nesting, alias expansion), false for invalid YAML (an undefined alias).
    var isLimit: Bool
}

/// The documents of one file, composed from libyaml events, plus which scalars sit inside flow collections.
struct YAMLTree {
    let events: [YAMLEvent]
    private(set) var documents: [YAMLNode] = []
    /// `inFlow[i]` is true when event `i` is inside a flow collection (`{...}`/`[...]`).
    private(set) var inFlow: [Bool]
    /// Anchored node (start event index) -> the alias events that refer to it, in file order. The editor
    /// needs every place a value appears, not only the one it was found through.
    private(set) var aliases: [Int: [Int]] = [:]

    /// Composes `events`.
    /// - Throws: ``YAMLCompositionError`` for an alias to an undefined anchor, nesting deeper than
    ///   ``ManifestLimits/maxNesting`` or aliases expanding to more than ``ManifestLimits/maxAliasExpansion``
    ///   nodes; checked in one flat pass first, so neither recursion nor expansion can run away.
    init(events: [YAMLEvent]) throws(YAMLCompositionError) {
        try Self.checkLimits(events)
        self.events = events
        inFlow = Array(repeating: false, count: events.count)
        var cursor = 0
        var anchors: [String: YAMLNode] = [:]
        while cursor < events.count {
            if events[cursor].kind == .documentStart {
                cursor += 1
                if let node = compose(&cursor, &anchors, flowDepth: 0) { documents.append(node) }
                anchors.removeAll(keepingCapacity: true)
            } else {
                cursor += 1
            }
        }
    }

    /// One pass over the events with a stack of open collections: raw depth, and each node's size and
    /// depth with aliases expanded (an alias counts as its anchored node). No recursion, no expansion.
    static func checkLimits(_ events: [YAMLEvent]) throws(YAMLCompositionError) {
        struct Open { var size = 1; var depth = 0; var anchor: String? }
        var stack: [Open] = []
        var anchored: [String: (size: Int, depth: Int)] = [:]
        var added = 0  // nodes added by expanding aliases, over the whole file
        func fail(_ event: YAMLEvent, _ problem: String) -> YAMLCompositionError {
            YAMLCompositionError(line: event.line, column: event.column, problem: problem, isLimit: true)
        }
        for event in events {
            var finished: (size: Int, depth: Int, anchor: String?)?
            switch event.kind {
            case .documentStart:
                anchored.removeAll(keepingCapacity: true)
            case .sequenceStart, .mappingStart:
                stack.append(Open(anchor: event.anchor))
                guard stack.count <= ManifestLimits.maxNesting else {
                    throw fail(event, "collections nest deeper than \(ManifestLimits.maxNesting) levels")
                }
            case .sequenceEnd, .mappingEnd:
                if let open = stack.popLast() { finished = (open.size, open.depth + 1, open.anchor) }
            case .scalar:
                finished = (1, 0, event.anchor)
            case .alias:
                guard let target = anchored[event.value] else {
                    throw YAMLCompositionError(line: event.line, column: event.column,
                                               problem: "the alias *\(EchoText.escapingControls(event.value)) refers to no anchor &\(EchoText.escapingControls(event.value)) before it in this document", isLimit: false)
                }
                added += target.size
                guard added <= ManifestLimits.maxAliasExpansion else {
                    throw fail(event, "aliases expand to more than \(ManifestLimits.maxAliasExpansion) nodes (an alias bomb?)")
                }
                finished = (target.size, target.depth, nil)
            case .streamStart, .streamEnd, .documentEnd:
                break
            }
            guard let node = finished else { continue }
            if let anchor = node.anchor { anchored[anchor] = (node.size, node.depth) }
            guard !stack.isEmpty else { continue }
            stack[stack.count - 1].size += node.size
            stack[stack.count - 1].depth = max(stack[stack.count - 1].depth, node.depth)
            guard stack.count + node.depth <= ManifestLimits.maxNesting else {
                throw fail(event, "collections nest deeper than \(ManifestLimits.maxNesting) levels once aliases are expanded")
            }
        }
    }

    private mutating func compose(_ cursor: inout Int, _ anchors: inout [String: YAMLNode], flowDepth: Int) -> YAMLNode? {
        guard cursor < events.count else { return nil }
        let index = cursor
        inFlow[index] = flowDepth > 0
        cursor += 1
        // Fields are read in place: copying an event would retain and release its strings.
        switch events[index].kind {
        case .scalar:
            let node = YAMLNode.scalar(index)
            if let anchor = events[index].anchor { anchors[anchor] = node }
            return node
        case .alias:
            let target = anchors[events[index].value]
            if let start = target?.eventIndex { aliases[start, default: []].append(index) }
            return .alias(index, target)
        case .sequenceStart:
            let depth = flowDepth + (events[index].style == .flow ? 1 : 0)
            var items: [YAMLNode] = []
            while cursor < events.count, events[cursor].kind != .sequenceEnd {
                guard let item = compose(&cursor, &anchors, flowDepth: depth) else { break }
                items.append(item)
            }
            cursor += 1
            let node = YAMLNode.sequence(index, items)
            if let anchor = events[index].anchor { anchors[anchor] = node }
            return node
        case .mappingStart:
            let depth = flowDepth + (events[index].style == .flow ? 1 : 0)
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            while cursor < events.count, events[cursor].kind != .mappingEnd {
                guard let key = compose(&cursor, &anchors, flowDepth: depth),
                      let value = compose(&cursor, &anchors, flowDepth: depth) else { break }
                pairs.append((key, value))
            }
            cursor += 1
            let node = YAMLNode.mapping(index, pairs)
            if let anchor = events[index].anchor { anchors[anchor] = node }
            return node
        default:
            return nil
        }
    }

    /// The string of a scalar node (after resolving an alias), or nil.
    func string(_ node: YAMLNode?) -> String? {
        guard case .scalar(let index)? = node?.resolved else { return nil }
        return events[index].value
    }

    /// The scalar event index of a node (after resolving an alias), or nil.
    func scalarIndex(_ node: YAMLNode?) -> Int? {
        guard case .scalar(let index)? = node?.resolved else { return nil }
        return index
    }

    /// The value for a string key in a mapping node (the last one wins, as in YAML loaders).
    func value(_ key: String, in pairs: [(key: YAMLNode, value: YAMLNode)]) -> YAMLNode? {
        for pair in pairs.reversed() where string(pair.key) == key { return pair.value }
        return nil
    }

    /// The key node for a string key in a mapping.
    func keyNode(_ key: String, in pairs: [(key: YAMLNode, value: YAMLNode)]) -> YAMLNode? {
        for pair in pairs.reversed() where string(pair.key) == key { return pair.key }
        return nil
    }
}
