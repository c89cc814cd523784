import Foundation
import Testing
import TestSupport
import Yams
@testable import LocalFiles
@testable import Manifests

/// Issue 8's invariant for `set-image`, on mutated manifests: the golden fixtures, mutated structurally
/// (lines duplicated, dropped, swapped, re-indented; anchors and aliases added, one aimed at the version;
/// templates, documents, line endings, a byte-order mark) and byte by byte, written to real files (links and
/// paths named twice included) and run through set-image's own path: ``ManifestFiles/plan(updates:paths:)``,
/// ``EditPlan/refusesToWrite``, ``ManifestFiles/commit(_:)``.
///
/// - exit 0: only the version text of the named image changed (checked on the bytes, line by line), and the
///   documents read by Yams, aliases resolved, are equal except for that image's versions;
/// - exit 1: every file is byte-identical, and no temporary file is left.
///
/// 300 rounds in CI (a few seconds). `PROMOBOT_FUZZ_ROUNDS=100000` runs longer; the seed is printed, and
/// `PROMOBOT_FUZZ_SEED=<seed>` replays a run (a failure names its round).
@Suite struct SetImageFuzzTests {
    static let environment = ProcessInfo.processInfo.environment
    static let rounds = environmentInt("PROMOBOT_FUZZ_ROUNDS", default: 300)
    static let seed = SeededGenerator.fromEnvironment("PROMOBOT_FUZZ_SEED").seed
    static let tags = ["1.2.3", "1.10", "on", "v2", "2024-01-15", "latest", "0x1F", "build_42", "1.4.2", "007"]
    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    struct Fixture {
        var name: String
        var path: String
        var bytes: [UInt8]
        var images: [String]
    }

    static func fixtures() throws -> [Fixture] {
        try EditFixtureTests.cases.map { name in
            let (before, _, spec) = try EditFixtureTests.load(name)
            let folder = EditFixtureTests.root.appendingPathComponent(name)
            let bytes = Array(try Data(contentsOf: folder.appendingPathComponent("before.yaml")))
            _ = before
            return Fixture(name: name, path: spec.path, bytes: bytes, images: spec.updates.map(\.image))
        }
    }

    @Test func mutatedManifestsAreEditedExactlyOrLeftAlone() throws {
        print("set-image fuzz: seed \(Self.seed), \(Self.rounds) rounds; replay with PROMOBOT_FUZZ_SEED=\(Self.seed) PROMOBOT_FUZZ_ROUNDS=\(Self.rounds)")
        let fixtures = try Self.fixtures()
        var random = SeededGenerator(seed: Self.seed)
        var outcomes = [0, 0]
        for round in 0..<Self.rounds {
            let exit = try runRound(round, fixtures, &random)
            outcomes[exit == 0 ? 0 : 1] += 1
        }
        print("set-image fuzz: \(outcomes[0]) rounds edited, \(outcomes[1]) refused")
        // Both branches of the invariant were exercised.
        #expect(outcomes[0] > 0 && outcomes[1] > 0)
    }

    /// One round: 1–3 mutated files, one update, set-image's path; returns the exit status.
    func runRound(_ round: Int, _ fixtures: [Fixture], _ random: inout SeededGenerator) throws -> Int {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let label = "seed \(Self.seed) round \(round)"

        var files: [(path: String, fixture: Fixture)] = []
        for index in 0..<(1 + random.below(3)) {
            let fixture = fixtures[random.below(fixtures.count)]
            var bytes = fixture.bytes
            for _ in 0..<random.below(4) { Mutation.apply(&bytes, &random) }
            let path = root + "/tree/f\(index)/" + fixture.path
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            files.append((path, fixture))
        }
        var paths = [root + "/tree"]
        if random.chance(20, in: 100) { paths.append(files[0].path) }  // named twice
        if random.chance(15, in: 100) {  // a link inside the tree
            try FileManager.default.createSymbolicLink(atPath: root + "/tree/link.yaml", withDestinationPath: "f0/" + files[0].fixture.path)
        }
        if random.chance(10, in: 100) {  // a link out of the tree
            let outside = root + "/outside/" + files[0].fixture.path
            try FileManager.default.createDirectory(atPath: (outside as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(files[0].fixture.bytes).write(to: URL(fileURLWithPath: outside))
            try FileManager.default.createSymbolicLink(atPath: root + "/tree/out.yaml", withDestinationPath: outside)
        }

        let image = files[0].fixture.images[random.below(files[0].fixture.images.count)]
        let tag = random.chance(85, in: 100) ? Self.tags[random.below(Self.tags.count)] : nil
        let update = ImageUpdate(image: image, tag: tag, digest: tag == nil || random.chance(15, in: 100) ? Self.digest : nil)
        let before = try snapshot(root)

        // set-image's path.
        let plan = try ManifestFiles.plan(updates: [update], paths: paths)
        var exit = plan.refusesToWrite ? 1 : 0
        if exit == 0 {
            do { try ManifestFiles.commit(plan) } catch { exit = 1 }
        }

        let after = try snapshot(root)
        #expect(after.keys == before.keys, "\(label): files appeared or vanished: \(Set(after.keys).symmetricDifference(before.keys))")
        for link in ["/tree/link.yaml", "/tree/out.yaml"] where before[link] != nil {
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: root + link)) != nil, "\(label): \(link) is no longer a link")
        }
        if exit != 0 {
            for (path, old) in before where after[path] != old {
                Issue.record("\(label): refused (\(plan.failures.map(\.description))) but \(path) changed")
            }
            return exit
        }
        let name = try ImageReference.parse(image).name
        for (path, old) in before {
            guard let new = after[path], new != old else { continue }
            var check = VersionCheck(name: name, tag: tag, digest: update.digest, label: "\(label) \(path)")
            check.bytes(old, new)
            check.documents(old, new)
            for problem in check.problems { Issue.record(Comment(rawValue: problem)) }
            if !check.problems.isEmpty, Self.environment["PROMOBOT_FUZZ_DUMP"] != nil {
                print("--- old\n\(String(decoding: old, as: UTF8.self).debugDescription)\n--- new\n\(String(decoding: new, as: UTF8.self).debugDescription)")
            }
        }
        return exit
    }

    func snapshot(_ root: String) throws -> [String: [UInt8]] { try fileBytes(under: root) }
}

// MARK: - Mutations

/// Structural and byte-level changes to a manifest's bytes.
enum Mutation {
    static let bytesToInsert: [UInt8] = Array("{}[]\"'#:-\t\n\r*&!|>%@`,?".utf8) + [0x00, 0x1B, 0xFF, 0xC3, 0x85]

    static func apply(_ bytes: inout [UInt8], _ random: inout SeededGenerator) {
        var lines = split(bytes)
        let pick = { (random: inout SeededGenerator) in random.below(max(lines.count, 1)) }
        switch random.below(16) {
        case 0 where !lines.isEmpty:  // duplicate a line
            let index = pick(&random)
            lines.insert(lines[index], at: index)
        case 1 where !lines.isEmpty:  // drop a line
            lines.remove(at: pick(&random))
        case 2 where lines.count > 1:  // swap neighbours
            let index = random.below(lines.count - 1)
            lines.swapAt(index, index + 1)
        case 3 where !lines.isEmpty:  // re-indent
            let index = pick(&random)
            if random.chance(50, in: 100) { lines[index].insert(contentsOf: Array("  ".prefix(1 + random.below(2)).utf8), at: 0) }
            else if lines[index].first == UInt8(ascii: " ") { lines[index].removeFirst() }
        case 4:  // an anchor on some value, and maybe an alias to it
            anchorAndAlias(&lines, &random)
        case 5:  // the version becomes an alias of another field (class 7)
            versionAliasesKind(&lines)
        case 6:  // a template action or a brace in a comment
            let text = ["{{- if .Values.x }}", "# {{ .Values.image }}", "{{ end }}", "image: {{ .Values.image }}"][random.below(4)]
            lines.insert(Array(text.utf8) + [UInt8(ascii: "\n")], at: pick(&random))
        case 7:  // line endings: CRLF, lone CR or mixed
            let style = random.below(3)
            for index in lines.indices where style != 2 || random.chance(50, in: 100) {
                var line = lines[index]
                while let last = line.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { line.removeLast() }
                guard line.count < lines[index].count else { continue }
                lines[index] = line + (style == 1 ? [0x0D] : [0x0D, 0x0A])
            }
        case 8:  // a byte-order mark added or removed
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) } else { bytes.insert(contentsOf: [0xEF, 0xBB, 0xBF], at: 0) }
            return
        case 9, 10:  // bytes inserted
            for _ in 0...random.below(2) {
                bytes.insert(bytesToInsert[random.below(bytesToInsert.count)], at: random.below(bytes.count + 1))
            }
            return
        case 11 where !bytes.isEmpty:  // a byte range deleted
            let start = random.below(bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + 1 + random.below(8)))
            return
        case 12 where !bytes.isEmpty:  // truncated
            bytes.removeSubrange(random.below(bytes.count)...)
            return
        case 13:  // the document twice
            bytes += Array("\n---\n".utf8) + bytes
            return
        case 14 where !lines.isEmpty:  // a document separator
            lines.insert(Array("---\n".utf8), at: pick(&random))
        case 15:  // quotes flipped
            if let index = bytes.firstIndex(of: UInt8(ascii: "\"")) { bytes[index] = UInt8(ascii: "'") }
            return
        default:
            return
        }
        bytes = lines.flatMap { $0 }
    }

    /// Lines with their terminators (LF, CRLF or a lone CR).
    static func split(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for (index, byte) in bytes.enumerated() {
            current.append(byte)
            let loneCR = byte == UInt8(ascii: "\r") && (index + 1 == bytes.count || bytes[index + 1] != UInt8(ascii: "\n"))
            if byte == UInt8(ascii: "\n") || loneCR { lines.append(current); current = [] }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// `key: value` -> `key: &m value` on one line, and some other value -> `*m`.
    static func anchorAndAlias(_ lines: inout [[UInt8]], _ random: inout SeededGenerator) {
        let candidates = lines.indices.filter { valueStart(lines[$0]) != nil }
        guard !candidates.isEmpty else { return }
        let anchored = candidates[random.below(candidates.count)]
        lines[anchored].insert(contentsOf: Array("&m ".utf8), at: valueStart(lines[anchored])!)
        guard random.chance(70, in: 100) else { return }
        let aliased = candidates[random.below(candidates.count)]
        guard aliased != anchored, let start = valueStart(lines[aliased]) else { return }
        var end = start
        while end < lines[aliased].count, lines[aliased][end] != UInt8(ascii: "\n"), lines[aliased][end] != UInt8(ascii: "\r") { end += 1 }
        lines[aliased].replaceSubrange(start..<end, with: Array("*m".utf8))
    }

    /// `kind: X` -> `kind: &k X`, and the first `newTag:`/`tag:`/`image:` value -> `*k`.
    static func versionAliasesKind(_ lines: inout [[UInt8]]) {
        guard let kind = lines.firstIndex(where: { String(decoding: $0, as: UTF8.self).hasPrefix("kind: ") }),
              let version = lines.firstIndex(where: {
                  let text = String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                  return ["newTag: ", "tag: ", "image: ", "- image: "].contains { text.hasPrefix($0) }
              }), let start = valueStart(lines[version]) else { return }
        var end = start
        while end < lines[version].count, lines[version][end] != UInt8(ascii: "\n"), lines[version][end] != UInt8(ascii: "\r") { end += 1 }
        lines[version].replaceSubrange(start..<end, with: Array("*k".utf8))
        lines[kind].insert(contentsOf: Array("&k ".utf8), at: 6)
    }

    /// Where the value starts in a `key: value` line (after `: `), when it has a plain one.
    static func valueStart(_ line: [UInt8]) -> Int? {
        guard let colon = line.firstRange(of: Array(": ".utf8))?.lowerBound else { return nil }
        let start = colon + 2
        guard start < line.count, ![UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "|"), UInt8(ascii: ">")].contains(line[start]) else { return nil }
        return start
    }
}

// MARK: - The invariant

/// Checks an accepted edit, independently of the editor: on the bytes, then on Yams' documents.
struct VersionCheck {
    var name: String
    var tag: String?
    var digest: String?
    var label: String
    var problems: [String] = []

    /// Every text the edit may write, end to end: tag and digest in each quoting, after `:`/`@`, and as
    /// inserted flow keys. An inserted region (blanks removed) must be part of it.
    var allowed: String {
        var values: [String] = []
        if let tag { values += [":" + tag, "\"\(tag)\"", "'\(tag)'"] }
        if let digest { values += ["@" + digest, "\"\(digest)\"", "'\(digest)'"] }
        if let tag, let digest { values += [":\(tag)@\(digest)"] }
        for key in ["newTag", "tag", "digest"] {
            for value in [tag, digest].compactMap({ $0 }) {
                for quoted in [value, "\"\(value)\""] { values += [",\(key):\(quoted)", "\(key):\(quoted),\(key):\(quoted)"] }
            }
        }
        return values.joined(separator: "|")
    }

    /// Line by line (Myers on lines): whole lines may only be added as `newTag:`/`tag:`/`digest:` keys with
    /// the new value; every other changed line pairs with an old one and differs from it (Myers on its
    /// characters) only in value position, outside comments, deleting no blanks, inserting version text.
    mutating func bytes(_ old: [UInt8], _ new: [UInt8]) {
        let a = Mutation.split(old).map { String(decoding: $0, as: UTF8.self) }
        let b = Mutation.split(new).map { String(decoding: $0, as: UTF8.self) }
        var deleted: [String] = [], inserted: [String] = []
        func flush() {
            // Which inserted lines are the added keys: try every choice (there are one or two) and keep
            // the first whose remaining lines pair up with the deleted ones.
            let extra = inserted.count - deleted.count
            let candidates = inserted.indices.filter { isInsertedKey(inserted[$0]) }
            var best: [String]?
            for choice in combinations(candidates, extra) {
                var trial = self
                trial.problems = []
                let kept = inserted.indices.filter { !choice.contains($0) }.map { inserted[$0] }
                for (x, y) in zip(deleted, kept) { trial.line(x, y) }
                if trial.problems.isEmpty { best = []; break }
                best = best ?? trial.problems
            }
            problems += best ?? ["\(label): lines \(deleted) became \(inserted)"]
            deleted = []; inserted = []
        }
        for operation in UnifiedDiff.diff(a, b) {
            switch operation.kind {
            case .equal:
                if !deleted.isEmpty || !inserted.isEmpty { flush() }
            case .delete: deleted.append(a[operation.oldIndex])
            case .insert: inserted.append(b[operation.newIndex])
            }
        }
        if !deleted.isEmpty || !inserted.isEmpty { flush() }
    }

    /// Every way to pick `count` of `items` (empty when count is negative or too large).
    func combinations(_ items: [Int], _ count: Int) -> [[Int]] {
        guard count >= 0, count <= items.count else { return [] }
        guard count > 0 else { return [[]] }
        var result: [[Int]] = []
        for (index, item) in items.enumerated() {
            for rest in combinations(Array(items[(index + 1)...]), count - 1) { result.append([item] + rest) }
        }
        return result
    }

    func isInsertedKey(_ line: String) -> Bool {
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        return ["newTag", "tag", "digest"].contains { key in
            [tag, digest].compactMap { $0 }.contains { text == "\(key): \($0)" || text == "\(key): \"\($0)\"" }
        }
    }

    mutating func line(_ old: String, _ new: String) {
        let x = old.unicodeScalars.map(String.init), y = new.unicodeScalars.map(String.init)
        // Where values may change: after the first `: ` or `- `, before a ` #` comment.
        func window(_ text: [String]) -> Range<Int> {
            var start = 0
            for index in 0..<max(0, text.count - 1) where (text[index] == ":" || text[index] == "-") && text[index + 1] == " " {
                start = index + 2
                break
            }
            var end = text.count
            for index in start..<text.count where text[index] == "#" && (index == 0 || [" ", "\t"].contains(text[index - 1])) {
                end = index
                break
            }
            return start..<max(start, end)
        }
        let oldWindow = window(x), newWindow = window(y)
        for operation in UnifiedDiff.diff(x, y) {
            switch operation.kind {
            case .equal: continue
            case .delete:
                let character = x[operation.oldIndex]
                let isBreak = character == "\n" || character == "\r"
                // A plain value may hold blanks (`2.3.1  ted by x` after a mutation): deleting them is
                // replacing the value; outside the value window nothing may go.
                if !(oldWindow.contains(operation.oldIndex) || isBreak) {
                    problems.append("\(label): '\(old.debugDescription)' lost '\(character)' outside its value")
                    return
                }
            case .insert:
                let character = y[operation.newIndex]
                let blank = [" ", "\t", "\n", "\r"].contains(character)
                let inValue = newWindow.contains(operation.newIndex) || operation.newIndex >= newWindow.upperBound && oldWindow.upperBound == x.count
                if !blank && !(inValue && allowed.contains(character)) {
                    problems.append("\(label): '\(old.debugDescription)' -> '\(new.debugDescription)' inserts '\(character)'")
                    return
                }
            }
        }
    }

    /// Yams, aliases resolved: same documents, except the named image's versions (and inserted version keys).
    mutating func documents(_ old: [UInt8], _ new: [UInt8]) {
        let oldNodes: [Node], newNodes: [Node]
        do {
            oldNodes = Array(try Yams.compose_all(yaml: String(decoding: old, as: UTF8.self)))
            newNodes = Array(try Yams.compose_all(yaml: String(decoding: new, as: UTF8.self)))
        } catch {
            problems.append("\(label): accepted, but Yams cannot read the old or new file: \(error)")
            return
        }
        guard oldNodes.count == newNodes.count else {
            problems.append("\(label): \(oldNodes.count) documents became \(newNodes.count)")
            return
        }
        for (a, b) in zip(oldNodes, newNodes) { compare(a, b, key: nil, parent: nil) }
    }

    /// Whether a mapping names the image: kustomize `newName` (when set) else `name`, Helm `registry` +
    /// `repository`. A null or empty value is not set.
    func names(_ mapping: Node.Mapping?) -> Bool {
        guard let mapping else { return false }
        func text(_ key: String) -> String? {
            guard let node = mapping[key], let string = node.string, !string.isEmpty,
                  Resolver.default.resolveTag(of: node) != .null else { return nil }
            return Self.withoutTrailingBreaks(string)
        }
        var written = text("newName") ?? text("name")
        if written == nil, let repository = text("repository") {
            let registry = text("registry") ?? ""
            written = registry.isEmpty ? repository : registry + "/" + repository
        }
        return written.flatMap { try? ImageReference.parse($0).name } == name
    }

    /// A block scalar's value without the breaks its chomping keeps (`|` keeps one).
    static func withoutTrailingBreaks(_ value: String) -> String {
        var text = Substring(value)
        while text.last == "\n" { text = text.dropLast() }
        return String(text)
    }

    mutating func compare(_ a: Node, _ b: Node, key: String?, parent: Node.Mapping?) {
        switch (a, b) {
        case let (.scalar(x), .scalar(y)):
            if x.string == y.string {
                if Node.scalar(x).tag != Node.scalar(y).tag { problems.append("\(label): '\(x.string)' changed type") }
                return
            }
            let isString = Resolver.default.resolveTag(of: b) == .str
            switch key {
            case "image"?:
                // A block scalar keeps its trailing breaks: only the reference on its line may change.
                let (oldText, newText) = (Self.withoutTrailingBreaks(x.string), Self.withoutTrailingBreaks(y.string))
                guard x.string.dropFirst(oldText.count) == y.string.dropFirst(newText.count),
                      let before = try? ImageReference.split(oldText), before.reference.name == name,
                      let after = try? ImageReference.split(newText), after.writtenName == before.writtenName,
                      after.reference.tag == (tag ?? before.reference.tag),
                      after.reference.digest == (digest ?? (tag != nil ? nil : before.reference.digest)), isString else {
                    problems.append("\(label): image '\(x.string)' -> '\(y.string)' is not this image's version change")
                    return
                }
            case "newTag"?, "tag"?:
                if !(y.string == tag && names(parent) && isString) { problems.append("\(label): \(key!) '\(x.string)' -> '\(y.string)'") }
            case "digest"?:
                if !(y.string == digest && names(parent)) { problems.append("\(label): digest '\(x.string)' -> '\(y.string)'") }
            default:
                problems.append("\(label): '\(x.string)' -> '\(y.string)' under '\(key ?? "-")' is not a version")
            }
        case let (.mapping(x), .mapping(y)):
            var oldPairs = Array(x).makeIterator()
            var pending = oldPairs.next()
            for pair in y {
                if let old = pending, old.key == pair.key {
                    compare(old.value, pair.value, key: old.key.string, parent: x)
                    pending = oldPairs.next()
                    continue
                }
                // A key the edit inserted.
                let insertedKey = pair.key.string ?? ""
                let expected = insertedKey == "digest" ? digest : tag
                if !(["newTag", "tag", "digest"].contains(insertedKey) && pair.value.string == expected && names(y)) {
                    problems.append("\(label): unexpected key '\(insertedKey)' in a mapping")
                }
            }
            if pending != nil { problems.append("\(label): a mapping lost keys") }
        case let (.sequence(x), .sequence(y)):
            guard x.count == y.count else { problems.append("\(label): a sequence changed length"); return }
            for (p, q) in zip(x, y) { compare(p, q, key: key, parent: parent) }
        default:
            if a != b { problems.append("\(label): a node changed kind") }
        }
    }
}
