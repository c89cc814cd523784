/// Renders `diff -u` style text for `--dry-run` output. Pure; thread-safe.
public enum UnifiedDiff {
    /// A unified diff of `old` -> `new` with `context` lines around each change, headed `--- a/path` and
    /// `+++ b/path` (so `git apply` accepts it). Empty when the texts are equal. Lines keep their `\r`.
    public static func render(path: String, old: String, new: String, context: Int = 3) -> String {
        guard old != new else { return "" }
        let (oldLines, oldFinalNewline) = lines(old)
        let (newLines, newFinalNewline) = lines(new)
        let script = diff(oldLines, newLines)
        // Group operations into hunks.
        // The path is echoed escaped: a newline in a file name must not start a diff line of its own.
        let shown = EchoText.escapingControls(path)
        var output = "--- a/\(shown)\n+++ b/\(shown)\n"
        var index = 0
        while index < script.count {
            guard let firstChange = script[index...].firstIndex(where: { $0.kind != .equal }) else { break }
            var hunkStart = max(index, firstChange - context)
            // Extend until a run of more than 2*context equal lines.
            var hunkEnd = firstChange
            var scan = firstChange
            while scan < script.count {
                if script[scan].kind != .equal { hunkEnd = scan; scan += 1; continue }
                var run = scan
                while run < script.count, script[run].kind == .equal { run += 1 }
                if run == script.count || run - scan > 2 * context { break }
                scan = run
            }
            let stop = min(script.count, hunkEnd + 1 + context)
            if hunkStart < index { hunkStart = index }
            let slice = script[hunkStart..<stop]
            let oldStart = slice.first?.oldIndex ?? 0
            let newStart = slice.first?.newIndex ?? 0
            let oldCount = slice.filter { $0.kind != .insert }.count
            let newCount = slice.filter { $0.kind != .delete }.count
            output += "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n"
            for operation in slice {
                switch operation.kind {
                case .equal:
                    output += " " + oldLines[operation.oldIndex] + "\n"
                    if operation.oldIndex == oldLines.count - 1 && !oldFinalNewline { output += "\\ No newline at end of file\n" }
                case .delete:
                    output += "-" + oldLines[operation.oldIndex] + "\n"
                    if operation.oldIndex == oldLines.count - 1 && !oldFinalNewline { output += "\\ No newline at end of file\n" }
                case .insert:
                    output += "+" + newLines[operation.newIndex] + "\n"
                    if operation.newIndex == newLines.count - 1 && !newFinalNewline { output += "\\ No newline at end of file\n" }
                }
            }
            index = stop
        }
        return output
    }

    private static func range(_ start: Int, _ count: Int) -> String {
        // `start` is 0-based; an empty range names the line before it.
        count == 0 ? "\(start),0" : count == 1 ? "\(start + 1)" : "\(start + 1),\(count)"
    }

    /// Lines as `patch` and `git apply` see them: split at LF bytes only, a CR kept as part of its line.
    /// (Not `String.split`: Swift reads CRLF as one Character, so a CRLF file would be one line.)
    private static func lines(_ text: String) -> ([String], Bool) {
        guard !text.isEmpty else { return ([], true) }
        let utf8 = text.utf8
        var parts = utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        let finalNewline = utf8.last == UInt8(ascii: "\n")
        if finalNewline { parts.removeLast() }
        return (parts, finalNewline)
    }

    struct Operation {
        enum Kind { case equal, delete, insert }
        var kind: Kind
        var oldIndex: Int
        var newIndex: Int
    }

    /// Above this many lines between the common prefix and suffix, ``resync(_:_:)`` replaces Myers, whose
    /// trace grows with D² (a manifest with thousands of edited images would need gigabytes).
    static let myersLimit = 2_000

    /// A line diff: Myers' O(ND) minimal diff on small inputs, with common prefix and suffix trimmed first
    /// (edits are usually a line or two); a linear resynchronising diff on large ones.
    static func diff(_ a: [String], _ b: [String]) -> [Operation] {
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
            suffix += 1
        }
        var operations: [Operation] = (0..<prefix).map { Operation(kind: .equal, oldIndex: $0, newIndex: $0) }
        let midA = Array(a[prefix..<(a.count - suffix)])
        let midB = Array(b[prefix..<(b.count - suffix)])
        let middle = midA.count + midB.count <= myersLimit ? myers(midA, midB) : resync(midA, midB)
        operations += middle.map {
            Operation(kind: $0.kind, oldIndex: $0.oldIndex + prefix, newIndex: $0.newIndex + prefix)
        }
        operations += (0..<suffix).map {
            Operation(kind: .equal, oldIndex: a.count - suffix + $0, newIndex: b.count - suffix + $0)
        }
        return operations
    }

    /// How far ``resync(_:_:)`` looks (deleted plus inserted lines) for the next equal pair of lines.
    static let resyncWindow = 16

    /// A valid, not always minimal, diff in O((N+M)·W²): at a difference, the nearest pair of equal lines
    /// within `resyncWindow` (fewest lines skipped, balanced first) resynchronises; with none, the two
    /// lines are replaced. Image edits change lines in place or insert one or two, which this finds exactly.
    static func resync(_ a: [String], _ b: [String]) -> [Operation] {
        var operations: [Operation] = []
        operations.reserveCapacity(max(a.count, b.count))
        var x = 0, y = 0
        while x < a.count || y < b.count {
            if x < a.count, y < b.count, a[x] == b[y] {
                operations.append(Operation(kind: .equal, oldIndex: x, newIndex: y))
                x += 1; y += 1
                continue
            }
            var skip: (deleted: Int, inserted: Int)?
            search: for total in 1...resyncWindow {
                for offset in 0...(2 * total + 1) {
                    // Balanced splits first: a replaced line is one deleted and one inserted.
                    let deleted = total / 2 + (offset % 2 == 0 ? offset / 2 : -(offset + 1) / 2)
                    guard deleted >= 0, deleted <= total else { continue }
                    let inserted = total - deleted
                    if x + deleted < a.count, y + inserted < b.count, a[x + deleted] == b[y + inserted] {
                        skip = (deleted, inserted)
                        break search
                    }
                }
            }
            let (deleted, inserted) = skip ?? (x < a.count ? 1 : 0, y < b.count ? 1 : 0)
            for _ in 0..<deleted { operations.append(Operation(kind: .delete, oldIndex: x, newIndex: y)); x += 1 }
            for _ in 0..<inserted { operations.append(Operation(kind: .insert, oldIndex: x, newIndex: y)); y += 1 }
        }
        return operations
    }

    private static func myers(_ a: [String], _ b: [String]) -> [Operation] {
        let n = a.count, m = b.count
        if n == 0 { return (0..<m).map { Operation(kind: .insert, oldIndex: 0, newIndex: $0) } }
        if m == 0 { return (0..<n).map { Operation(kind: .delete, oldIndex: $0, newIndex: 0) } }
        let max = n + m
        var v = [Int](repeating: 0, count: 2 * max + 2)
        var trace: [[Int]] = []
        outer: for d in 0...max {
            trace.append(v)
            for k in stride(from: -d, through: d, by: 2) {
                var x: Int
                if k == -d || (k != d && v[max + k - 1] < v[max + k + 1]) {
                    x = v[max + k + 1]
                } else {
                    x = v[max + k - 1] + 1
                }
                var y = x - k
                while x < n, y < m, a[x] == b[y] { x += 1; y += 1 }
                v[max + k] = x
                if x >= n && y >= m { trace.append(v); break outer }
            }
        }
        // Backtrack.
        var operations: [Operation] = []
        var x = n, y = m
        for d in stride(from: trace.count - 2, through: 0, by: -1) {
            let v = trace[d]
            let k = x - y
            let previousK = (k == -d || (k != d && v[max + k - 1] < v[max + k + 1])) ? k + 1 : k - 1
            let previousX = v[max + previousK]
            let previousY = previousX - previousK
            while x > previousX && y > previousY {
                x -= 1; y -= 1
                operations.append(Operation(kind: .equal, oldIndex: x, newIndex: y))
            }
            if d > 0 {
                if x == previousX {
                    y -= 1
                    operations.append(Operation(kind: .insert, oldIndex: x, newIndex: y))
                } else {
                    x -= 1
                    operations.append(Operation(kind: .delete, oldIndex: x, newIndex: y))
                }
            }
        }
        return operations.reversed()
    }
}
