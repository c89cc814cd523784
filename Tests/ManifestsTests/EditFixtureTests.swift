import Foundation
import Testing
import Yams
@testable import Manifests

/// Golden before/after files: `Fixtures/edits/<case>/{before.yaml,after.yaml,updates.json}`.
@Suite struct EditFixtureTests {
    struct Spec: Decodable {
        struct Update: Decodable { var image: String; var tag: String?; var digest: String? }
        struct Change: Decodable { var path: String; var line: Int; var image: String; var old: String; var new: String }
        var path: String
        var updates: [Update]
        var changes: [Change]
    }

    static let root = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/edits")

    static var cases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted()
    }

    static func load(_ name: String) throws -> (before: String, after: String, spec: Spec) {
        let folder = root.appendingPathComponent(name)
        let before = try String(decoding: Data(contentsOf: folder.appendingPathComponent("before.yaml")), as: UTF8.self)
        let after = try String(decoding: Data(contentsOf: folder.appendingPathComponent("after.yaml")), as: UTF8.self)
        let spec = try JSONDecoder().decode(Spec.self, from: Data(contentsOf: folder.appendingPathComponent("updates.json")))
        return (before, after, spec)
    }

    @Test func thereAreAtLeastThirtyCases() {
        #expect(Self.cases.count >= 30)
    }

    @Test(arguments: cases)
    func editMatchesGolden(_ name: String) throws {
        let (before, after, spec) = try Self.load(name)
        let updates = spec.updates.map { ImageUpdate(image: $0.image, tag: $0.tag, digest: $0.digest) }
        let result = try ManifestEditor.edit(before, path: spec.path, updates: updates)
        #expect(Array(result.text.utf8) == Array(after.utf8), "\(name): edited text differs from after.yaml")
        let expected = spec.changes.map { ImageChange(path: $0.path, line: $0.line, image: $0.image, old: $0.old, new: $0.new) }
        #expect(result.changes == expected)
        // Editing again is a no-op: the file is already at the requested versions.
        let again = try ManifestEditor.edit(result.text, path: spec.path, updates: updates)
        #expect(again.text == result.text)
        #expect(again.changes.isEmpty)
    }

    /// An independent check with Yams' own loader: the only values that differ are the version fields.
    @Test(arguments: cases)
    func otherValuesAreUnchanged(_ name: String) throws {
        let (before, after, _) = try Self.load(name)
        let old = try Array(Yams.compose_all(yaml: before))
        let new = try Array(Yams.compose_all(yaml: after))
        #expect(old.count == new.count)
        var differences: [(String, String)] = []
        for (a, b) in zip(old, new) { collectDifferences(a, b, &differences) }
        for (oldValue, changed) in differences {
            // Every changed scalar is an image reference, a tag or a digest, and the new one reads as a string
            // (a block scalar's kept trailing breaks aside).
            let newValue = VersionCheck.withoutTrailingBreaks(changed)
            let isVersion = (try? ImageReference.parse(newValue)) != nil || ImageReference.isValidTag(Substring(newValue))
                || ImageReference.isValidDigest(Substring(newValue))
            #expect(isVersion, "\(name): '\(oldValue)' -> '\(newValue)' is not a version change")
        }
    }

    /// On the bytes (line by line, then character by character) and on Yams' documents, with the fuzz test's
    /// own check: only the version text of the updated image changed. Cases with one update.
    @Test(arguments: cases)
    func onlyVersionBytesChanged(_ name: String) throws {
        let (before, after, spec) = try Self.load(name)
        guard spec.updates.count == 1, let update = spec.updates.first else { return }
        var check = VersionCheck(name: try ImageReference.parse(update.image).name, tag: update.tag,
                                 digest: update.digest, label: name)
        check.bytes(Array(before.utf8), Array(after.utf8))
        check.documents(Array(before.utf8), Array(after.utf8))
        #expect(check.problems.isEmpty, "\(check.problems)")
    }

    @Test(arguments: cases)
    func imagesAreReported(_ name: String) throws {
        let (before, after, spec) = try Self.load(name)
        let updated = Set(try spec.updates.map { try ImageReference.parse($0.image).name })
        for change in spec.changes {
            let found = try ManifestEditor.images(in: after, path: spec.path)
            #expect(found.contains { updated.contains($0.reference.name) && $0.reference.version == change.new },
                    "\(name): no image reported at \(change.new)")
        }
        _ = try ManifestEditor.images(in: before, path: spec.path)
    }
}

/// Pairs of scalars that differ between two trees of the same shape (records a shape change as a pair too).
func collectDifferences(_ a: Node, _ b: Node, _ out: inout [(String, String)]) {
    switch (a, b) {
    case let (.scalar(x), .scalar(y)):
        if x.string != y.string { out.append((x.string, y.string)) }
        else if x.string != "" && x.resolvedTagName != y.resolvedTagName && y.style == .plain { out.append((x.string, "<type changed>")) }
    case let (.mapping(x), .mapping(y)):
        guard x.count == y.count else {
            // Inserted keys (kustomize newTag/digest, Helm tag): compare the common keys, report the new values.
            for (key, value) in y where x[key] == nil { out.append(("", value.string ?? "<collection>")) }
            for (key, value) in x { if let other = y[key] { collectDifferences(value, other, &out) } else { out.append((key.string ?? "", "<removed>")) } }
            return
        }
        for (p, q) in zip(x, y) {
            collectDifferences(p.key, q.key, &out)
            collectDifferences(p.value, q.value, &out)
        }
    case let (.sequence(x), .sequence(y)):
        guard x.count == y.count else { out.append(("<sequence>", "<length changed>")); return }
        for (p, q) in zip(x, y) { collectDifferences(p, q, &out) }
    default:
        if a != b { out.append(("<node>", "<kind changed>")) }
    }
}

private extension Node.Scalar {
    var resolvedTagName: String { Node.scalar(self).tag.description }
}
