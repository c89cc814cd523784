import Foundation
import Testing
@testable import Manifests

/// Issue 13, section 4: every real-world shape of a manifest image, read and edited by the same rules
/// (``ImageLocator``). The golden before/after files are in `Fixtures/edits` (`helm-values-digest-*`,
/// `helm-values-null-tag-and-digest-set`, `kustomize-newname-*`, `block-scalar-*`); these are the rules'
/// edges and refusals.
@Suite struct ManifestShapeTests {
    static let api = "ghcr.io/acme/api"
    static let digest = "sha256:" + String(repeating: "c3", count: 32)
    static let newApp = "registry.example.com/new-app"

    static func helm(digest line: String) -> String {
        "image:\n  repository: \(api)\n  tag: 2.9.0\n  \(line)\n"
    }

    // MARK: - Helm: only a real digest pins

    @Test(arguments: ["digest: null", "digest: Null", "digest: NULL", "digest: ~", "digest:", "digest: \"\"",
                      "digest: ''", "digest: !!null", "digest: !!null ''", "digest:  # none yet"])
    func aNullOrEmptyDigestDoesNotPin(_ line: String) throws {
        let text = Self.helm(digest: line)
        #expect(try ManifestEditor.images(in: text, path: "values.yaml").map(\.reference.description) == ["\(Self.api):2.9.0"])
        let result = try ManifestEditor.edit(text, path: "values.yaml", updates: [ImageUpdate(image: Self.api, tag: "3.0.0")])
        #expect(result.text == text.replacingOccurrences(of: "2.9.0", with: "3.0.0"))
        #expect(result.changes.map(\.description) == ["values.yaml:3: \(Self.api) 2.9.0 -> 3.0.0"])
    }

    /// Unchanged rule: a real digest wins over a tag, so a tag-only update is refused at the digest; an
    /// update that keeps the tag is a no-op, and one with a digest sets both (fixture
    /// `helm-values-digest-pinned-update-both`).
    @Test func aRealDigestStillPins() throws {
        let text = Self.helm(digest: "digest: \(Self.digest)")
        #expect(try ManifestEditor.images(in: text, path: "v.yaml").map(\.reference.version) == ["2.9.0@\(Self.digest)"])
        #expect {
            _ = try ManifestEditor.edit(text, path: "v.yaml", updates: [ImageUpdate(image: Self.api, tag: "3.0.0")])
        } throws: { error in
            guard case let ManifestError.digestPinned(path, line, column, image) = error else { return false }
            return path == "v.yaml" && line == 4 && column == 11 && image == Self.api
        }
        #expect(try ManifestEditor.edit(text, path: "v.yaml", updates: [ImageUpdate(image: Self.api, tag: "2.9.0")]).text == text)
        // A digest that is no valid digest is still a value the chart would use: it pins too.
        #expect(throws: ManifestError.self) {
            _ = try ManifestEditor.edit(Self.helm(digest: "digest: \"none\""), path: "v.yaml",
                                        updates: [ImageUpdate(image: Self.api, tag: "3.0.0")])
        }
    }

    @Test(arguments: [("tag:", "tag: 3.0.0"), ("tag:  # from CI", "tag: 3.0.0  # from CI"), ("tag: &t", "tag: &t 3.0.0"),
                      ("tag: null", "tag: 3.0.0"), ("tag: ~", "tag: 3.0.0")])
    func aNullTagTakesTheTagInPlace(_ before: String, _ after: String) throws {
        let text = "image:\n  repository: \(Self.api)\n  \(before)\n  pullPolicy: Always\n"
        #expect(try ManifestEditor.images(in: text, path: "v.yaml").map(\.reference.version) == [""])
        let result = try ManifestEditor.edit(text, path: "v.yaml", updates: [ImageUpdate(image: Self.api, tag: "3.0.0")])
        #expect(result.text == text.replacingOccurrences(of: before, with: after))
        #expect(result.changes.map(\.description) == ["v.yaml:3: \(Self.api) (none) -> 3.0.0"])
    }

    /// `!!null` cannot hold a string: writing a version there is refused up front, naming why.
    @Test func aTaggedNullIsNotOverwritten() {
        #expect {
            _ = try ManifestEditor.edit(Self.helm(digest: "digest: !!null"), path: "v.yaml",
                                        updates: [ImageUpdate(image: Self.api, tag: "3.0.0", digest: Self.digest)])
        } throws: { error in
            guard case let ManifestError.unsupportedValue(_, line, _, reason) = error else { return false }
            return line == 4 && reason.contains("tagged 'tag:yaml.org,2002:null'")
        }
    }

    // MARK: - Kustomize: the image that runs is newName

    static let renamed = """
        kind: Kustomization
        images:
          - name: app
            newName: registry.example.com/new-app
            newTag: "1.0"

        """

    @Test func anEntryIsReadAsItsNewNameImage() throws {
        let found = try ManifestEditor.images(in: Self.renamed, path: "kustomization.yaml")
        #expect(found.map(\.reference.description) == ["\(Self.newApp):1.0"])
        #expect(found.map(\.line) == [5])
    }

    @Test func anUpdateForNewNameEditsTheEntry() throws {
        let result = try ManifestEditor.apply(Self.renamed, path: "kustomization.yaml",
                                              updates: [ImageUpdate(image: Self.newApp, tag: "2.0")])
        #expect(result.text == Self.renamed.replacingOccurrences(of: "\"1.0\"", with: "\"2.0\""))
        #expect(result.notices.isEmpty)
    }

    /// The other direction: `app` no longer runs, so its update edits nothing here and says why.
    @Test func anUpdateForTheRenamedNameIsNotAppliedAndSaysWhy() throws {
        let result = try ManifestEditor.apply(Self.renamed, path: "kustomization.yaml",
                                              updates: [ImageUpdate(image: "app", tag: "2.0")])
        #expect(result.text == Self.renamed)
        #expect(result.changes.isEmpty)
        #expect(result.matched.isEmpty)
        #expect(result.notices == ["kustomization.yaml:3: not edited for app: this kustomize images entry renames it to \(Self.newApp) (newName), the image that runs; to change this entry, set \(Self.newApp)"])
    }

    /// `newName` set to the same image (in another spelling) is no rename: found by either name.
    @Test(arguments: ["newName: app", "newName: docker.io/library/app", "newName: null", "newName: \"\"", "newName:"])
    func aNewNameThatIsNoRenameIsFoundByName(_ line: String) throws {
        let text = "kind: Kustomization\nimages:\n  - name: app\n    \(line)\n    newTag: \"1.0\"\n"
        let result = try ManifestEditor.apply(text, path: "kustomization.yaml", updates: [ImageUpdate(image: "app", tag: "2.0")])
        #expect(result.changes.count == 1)
        #expect(result.notices.isEmpty)
    }

    /// A rename with no `newTag` gets one inserted after `newName`.
    @Test func aRenameWithoutATagGetsOneAfterNewName() throws {
        let text = "kind: Kustomization\nimages:\n  - name: app\n    newName: \(Self.newApp)\n  - name: other\n"
        let result = try ManifestEditor.edit(text, path: "kustomization.yaml", updates: [ImageUpdate(image: Self.newApp, tag: "2.0.1")])
        #expect(result.text == text.replacingOccurrences(of: "new-app\n", with: "new-app\n    newTag: 2.0.1\n"))
    }

    // MARK: - Block scalars

    @Test(arguments: ["|", "|-", "|+", ">", ">-", ">+", "|2", ">-  # pinned"])
    func aOneLineBlockScalarIsReadAndEditedOnItsLine(_ header: String) throws {
        let text = "containers:\n  - name: app\n    image: \(header)\n      \(Self.api):2.9.0\n    args: [run]\n"
        let found = try ManifestEditor.images(in: text, path: "p.yaml")
        #expect(found.map(\.reference.description) == ["\(Self.api):2.9.0"])
        let result = try ManifestEditor.edit(text, path: "p.yaml", updates: [ImageUpdate(image: Self.api, tag: "3.0.0")])
        #expect(result.text == text.replacingOccurrences(of: "2.9.0", with: "3.0.0"))
        #expect(result.changes.map(\.description) == ["p.yaml:3: \(Self.api) 2.9.0 -> 3.0.0"])
    }

    @Test(arguments: [
        ("|", "\(api):2.9.0\n      --pull", "over 2 lines"),
        (">-", "\(api):\n      2.9.0", "over 2 lines"),
        ("|-", "\(api):2.9.0\n\n      # more\n      text", "over 3 lines"),
        ("|", "\n      \(api):2.9.0", "whose content is not the value alone on one line"),
        (">", "\(api):2.9.0   ", "whose content is not the value alone on one line"),
    ])
    func aMultiLineBlockScalarIsRefusedNamingItsLine(_ header: String, _ body: String, _ why: String) throws {
        let text = "containers:\n  - name: app\n    image: \(header)\n      \(body)\n    args: [run]\n"
        #expect(try ManifestEditor.images(in: text, path: "p.yaml").isEmpty, "not read as a version")
        #expect(try ManifestEditor.imageNames(in: text, path: "p.yaml") == [Self.api], "but held")
        #expect {
            _ = try ManifestEditor.edit(text, path: "p.yaml", updates: [ImageUpdate(image: Self.api, tag: "3.0.0")])
        } throws: { error in
            "\(error)" == "p.yaml:3:12: the value is a block scalar ('\(header)') \(why); only a block scalar holding the value alone on one line is edited in place; rewrite the value as a plain or quoted scalar on one line"
        }
        // Another image's update does not trip over it.
        #expect(try ManifestEditor.edit(text, path: "p.yaml", updates: [ImageUpdate(image: "nginx", tag: "1")]).text == text)
    }

    @Test func aMultiLineBlockScalarVersionIsRefused() throws {
        let text = "image:\n  repository: \(Self.api)\n  tag: |\n    2.9.0\n    3.0.0\n"
        #expect(try ManifestEditor.images(in: text, path: "v.yaml").isEmpty)
        #expect {
            _ = try ManifestEditor.edit(text, path: "v.yaml", updates: [ImageUpdate(image: Self.api, tag: "3.1.0")])
        } throws: { error in
            guard case let ManifestError.unsupportedValue(_, line, _, reason) = error else { return false }
            return line == 3 && reason.contains("over 2 lines")
        }
    }
}

