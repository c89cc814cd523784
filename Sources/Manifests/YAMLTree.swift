/// A node of a composed YAML document; every case keeps the index of its (start) event so the editor
/// can find the bytes it came from. Aliases keep the node they point at.
indirect enum YAMLNode {
    case scalar(Int)
    case mapping(Int, [(key: YAMLNode, value: YAMLNode)])
    case sequence(Int, [YAMLNode])
    case alias(Int, YAMLNode?)

    /// The node an alias points at (itself for everything else).
    var resolved: YAMLNode? {
        if case .alias(_, let target) = self { return target?.resolved }
        return self
    }
}

/// The documents of one file, composed from libyaml events, plus which scalars sit inside flow collections.
struct YAMLTree {
    let events: [YAMLEvent]
    private(set) var documents: [YAMLNode] = []
    /// `inFlow[i]` is true when event `i` is inside a flow collection (`{...}`/`[...]`).
    private(set) var inFlow: [Bool]

    init(events: [YAMLEvent]) {
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
            return .alias(index, anchors[events[index].value])
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
