/// Finds stage paths that overlap a path of an earlier stage in the same repository and branch.
///
/// Two paths overlap when one is a folder prefix of the other (`dev/` and `dev/app`), compared by
/// components without `.` and empty parts. Comparing every pair of stages was quadratic (10,000 stages did
/// not finish in 20 s); sorting the paths puts every path right after its prefixes, so one sweep with a
/// stack of prefixes finds, for each path, the first earlier stage it overlaps in O(n log n). Pure.
enum PathOverlaps {
    /// A path of `stage` (index `path` in its list) that overlaps path `earlierPath` of `earlierStage`.
    struct Overlap: Equatable {
        var stage: Int
        var path: Int
        var earlierStage: Int
        var earlierPath: Int
    }

    /// For each path of each stage, the first (lowest stage, then lowest path index) overlapping path of an
    /// earlier stage with the same repository and branch, if any; ordered by stage, then path.
    ///
    /// Stages without a repository (already reported) are skipped.
    static func find(_ stages: [(repository: String, branch: String, paths: [String])]) -> [Overlap] {
        struct Entry {
            var components: [Substring]
            var stage: Int
            var path: Int
        }
        var groups: [String: [Entry]] = [:]
        for (stage, item) in stages.enumerated() where !item.repository.isEmpty {
            // "\u{0}" cannot appear in a valid repository or branch, so the key is unambiguous.
            let key = item.repository + "\u{0}" + item.branch
            for (path, text) in item.paths.enumerated() {
                groups[key, default: []].append(Entry(components: PolicyParser.components(of: text), stage: stage, path: path))
            }
        }
        var overlaps: [Overlap] = []
        for entries in groups.values {
            overlaps += find(in: entries.map { ($0.components, ($0.stage, $0.path)) })
        }
        return overlaps.sorted { ($0.stage, $0.path) < ($1.stage, $1.path) }
    }

    private typealias Position = (stage: Int, path: Int)

    private static func earliest(_ a: Position?, _ b: Position?) -> Position? {
        guard let a else { return b }
        guard let b else { return a }
        return a < b ? a : b
    }

    /// The overlaps inside one repository and branch.
    private static func find(in entries: [(components: [Substring], position: Position)]) -> [Overlap] {
        let sorted = entries.sorted { a, b in
            if a.components.elementsEqual(b.components) { return a.position < b.position }
            return a.components.lexicographicallyPrecedes(b.components)
        }
        // Distinct paths in order; `first` is the earliest entry with that path.
        var keys: [[Substring]] = []
        var first: [Position] = []
        var keyOf: [Int] = []  // per sorted entry
        for entry in sorted {
            if let last = keys.last, last.elementsEqual(entry.components) {
                keyOf.append(keys.count - 1)
            } else {
                keys.append(entry.components)
                first.append(entry.position)
                keyOf.append(keys.count - 1)
            }
        }
        // Sweep: the stack holds the prefixes of the current path. A path's prefixes all come before it,
        // and its extensions follow it contiguously, so the prefix tree is read off in one pass.
        var parent = [Int?](repeating: nil, count: keys.count)
        var aboveEarliest = [Position?](repeating: nil, count: keys.count)  // earliest among strict prefixes
        var chainEarliest = [Position?](repeating: nil, count: keys.count)  // the same, including the path itself
        var stack: [Int] = []
        for index in keys.indices {
            while let top = stack.last, !keys[index].starts(with: keys[top]) { stack.removeLast() }
            parent[index] = stack.last
            aboveEarliest[index] = stack.last.flatMap { chainEarliest[$0] }
            chainEarliest[index] = earliest(aboveEarliest[index], first[index])
            stack.append(index)
        }
        // Earliest entry among each path and its extensions: children come after parents, so go backwards.
        var belowEarliest = first.map { Optional($0) }
        for index in keys.indices.reversed() {
            if let up = parent[index] { belowEarliest[up] = earliest(belowEarliest[up], belowEarliest[index]) }
        }
        var overlaps: [Overlap] = []
        for (entry, key) in zip(sorted, keyOf) {
            guard let other = earliest(aboveEarliest[key], belowEarliest[key]), other.stage < entry.position.stage
            else { continue }
            overlaps.append(Overlap(stage: entry.position.stage, path: entry.position.path,
                                    earlierStage: other.stage, earlierPath: other.path))
        }
        return overlaps
    }
}
