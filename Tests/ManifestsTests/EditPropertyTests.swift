import PropertyBased
import Testing
import Yams
@testable import Manifests

/// Generated manifests (random containers, comments, quote styles, images as one-line block scalars,
/// flow/block, block scalars mentioning the image, Helm values with null digests and kustomize documents, CRLF,
/// numeric-looking tags): the edit must equal an
/// independently rendered expectation byte for byte, and Yams must read old and new as the same documents
/// except for the image values.
@Suite struct EditPropertyTests {
    /// Tags, and whether a YAML 1.1/1.2 loader would read them as something other than a string when plain.
    static let tags: [(String, Bool)] = [
        ("1.4.2", false), ("1.10", true), ("1e3", true), ("on", true), ("yes", true), ("null", true),
        ("0x1F", true), ("2024-01-15", true), ("v1", false), ("latest", false), ("007", true), ("1.5.0-rc.1", false),
        ("True", true), ("off", true), ("12", true), ("build_42", false),
    ]
    static let images = ["registry.example.com/oms/app", "nginx", "docker.io/library/nginx", "localhost:5000/team/app",
                         "ghcr.io/acme/worker"]

    struct Container {
        var image: String
        var tag: Int
        var style: Int
        var commentAbove: Bool
        var trailingComment: Bool
        var blockScalar: Bool
        var flow: Bool
        /// For style 3 (the image as a block scalar on one line): its header.
        var blockHeader: String

        init(_ seed: Int) {
            var s = seed
            func take(_ n: Int) -> Int { defer { s /= n }; return s % n }
            image = EditPropertyTests.images[take(EditPropertyTests.images.count)]
            tag = take(EditPropertyTests.tags.count)
            style = take(4)
            commentAbove = take(2) == 1
            trailingComment = take(2) == 1
            blockScalar = take(2) == 1
            flow = take(4) == 0
            blockHeader = ["|", "|-", ">", ">-"][take(4)]
        }
    }

    /// Styles 0–2: plain, single- and double-quoted (3, a block scalar, is rendered by `render`).
    static func quoted(_ value: String, _ style: Int) -> String {
        style == 1 ? "'\(value)'" : style == 2 ? "\"\(value)\"" : value
    }

    /// Renders the file with `tagFor(container)` as each container's tag; `helmTag` and `kustomizeTag` for
    /// the extra documents. `quoteIfNeeded` turns a plain tag scalar that would not read as a string into
    /// a double-quoted one (what the editor must do).
    /// `helmDigest` is a `digest:` line that pins nothing (null or empty), or nothing.
    static func render(_ containers: [Container], tagFor: (Container) -> String, helm: (tag: String, style: Int)?,
                       helmDigest: String = "", kustomize: (tag: String, style: Int)?, crlf: Bool) -> String {
        var out = "# generated manifest\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: gen  # keep\nspec:\n  replicas: 2\n"
        out += "  template:\n    spec:\n      containers:\n"
        for (index, container) in containers.enumerated() {
            let reference = quoted("\(container.image):\(tagFor(container))", container.style)
            let comment = container.trailingComment ? "  # image of c\(index)" : ""
            if container.flow {
                out += "        - {name: c\(index), image: \(container.style == 3 ? "\(container.image):\(tagFor(container))" : reference)}\(comment)\n"
                continue
            }
            out += "        - name: c\(index)\n"
            if container.commentAbove { out += "          # image: \(container.image):\(tags[container.tag].0) (old)\n" }
            if container.style == 3 {
                out += "          image: \(container.blockHeader)\(comment)\n            \(container.image):\(tagFor(container))\n"
            } else {
                out += "          image: \(reference)\(comment)\n"
            }
            if container.blockScalar {
                out += "          args:\n            - |\n              echo image: \(container.image):\(tags[container.tag].0)\n\n"
                out += "              done\n"
            }
            out += "          env:\n            - name: TAG\n              value: \"\(tags[container.tag].0)\"\n"
        }
        if let helm {
            out += "---\nimage:\n  registry: registry.example.com\n  repository: oms/app\n  tag: \(quoted(helm.tag, helm.style))\n\(helmDigest)"
        }
        if let kustomize {
            out += "---\nkind: Kustomization\nimages:\n  - name: nginx\n    newTag: \(quoted(kustomize.tag, kustomize.style))\n"
        }
        return crlf ? out.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n") : out
    }

    @Test func editedManifestsDifferOnlyInImageValues() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...1_000_000).array(of: 1...6), Gen.int(in: 0...10_000),
                            Gen.int(in: 0...63)) { seeds, choice, flags in
            let containers = seeds.map(Container.init)
            let target = choice % 2 == 0 ? "registry.example.com/oms/app" : "docker.io/library/nginx"
            let newTagIndex = (choice / 2) % Self.tags.count
            let (newTag, newTagNeedsQuotes) = Self.tags[newTagIndex]
            let helmOld = (flags & 1 == 1) ? (tag: Self.tags[(choice / 7) % Self.tags.count].0, style: (choice / 3) % 3) : nil
            let kustomizeOld = (flags & 2 == 2) ? (tag: Self.tags[(choice / 11) % Self.tags.count].0, style: (choice / 5) % 3) : nil
            let crlf = flags & 4 == 4
            let helmDigest = ["", "  digest: null\n", "  digest: ~\n", "  digest:  # unpinned\n"][(flags >> 3) & 3]
            let isTarget = { (c: Container) in (try? ImageReference.parse(c.image).name) == target }

            let before = Self.render(containers, tagFor: { Self.tags[$0.tag].0 }, helm: helmOld, helmDigest: helmDigest,
                                     kustomize: kustomizeOld, crlf: crlf)
            func after(_ old: (tag: String, style: Int)?, matches: Bool) -> (tag: String, style: Int)? {
                guard let old, matches, old.tag != newTag else { return old }
                let style = old.style == 0 && newTagNeedsQuotes ? 2 : old.style
                return (newTag, style)
            }
            let expected = Self.render(containers, tagFor: { isTarget($0) ? newTag : Self.tags[$0.tag].0 },
                                       helm: after(helmOld, matches: target.hasSuffix("oms/app")), helmDigest: helmDigest,
                                       kustomize: after(kustomizeOld, matches: target.hasSuffix("nginx")), crlf: crlf)
            do {
                let result = try ManifestEditor.edit(before, path: "gen.yaml", updates: [ImageUpdate(image: target, tag: newTag)])
                #expect(Array(result.text.utf8) == Array(expected.utf8))

                // Yams, independently: same documents, differing only in image values, all still strings.
                let old = try Array(Yams.compose_all(yaml: before))
                let new = try Array(Yams.compose_all(yaml: result.text))
                var differences: [(String, String)] = []
                for (a, b) in zip(old, new) { collectDifferences(a, b, &differences) }
                #expect(old.count == new.count)
                for (_, changed) in differences {
                    let value = VersionCheck.withoutTrailingBreaks(changed)  // a block scalar's kept break
                    #expect(value == newTag || value.hasSuffix(":" + newTag), "unexpected change to '\(value)'")
                }
                #expect(differences.count == result.changes.count)
                for change in result.changes { #expect(change.new == newTag) }
                try checkTagsAreStrings(old, new, newTag)
            } catch {
                Issue.record("edit failed: \(error)\n\(before)")
            }
        }
    }

    /// A tag the editor wrote (the old one differed) must read back as a string.
    func checkTagsAreStrings(_ old: [Node], _ new: [Node], _ tag: String) throws {
        for (before, document) in zip(old, new) {
            if let value = document["image"]?["tag"], value.string == tag, before["image"]?["tag"]?.string != tag {
                #expect(Resolver.default.resolveTag(of: value) == .str)
            }
            if let entries = document["images"]?.array(), let oldEntries = before["images"]?.array() {
                for (entry, oldEntry) in zip(entries, oldEntries)
                where entry["newTag"]?.string == tag && oldEntry["newTag"]?.string != tag {
                    #expect(entry["newTag"].map { Resolver.default.resolveTag(of: $0) } == .str)
                }
            }
        }
    }
}
