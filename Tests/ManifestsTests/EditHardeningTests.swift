import Foundation
import Testing
@testable import Manifests

/// Issue 8, the editor's side: values shared through anchors (class 7), limits on nesting, aliases and size
/// (class 5), templates recognised only when they break the parse, and line numbers in CR-only files (12).
@Suite struct EditHardeningTests {
    static let app = "registry.example.com/oms/app"
    static let update = [ImageUpdate(image: app, tag: "1.2.3")]

    // MARK: - Anchors and aliases (class 7)

    @Test func aTagThatIsAnAliasOfAnotherFieldIsRefused() {
        let text = """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: &k Kustomization
            images:
              - name: registry.example.com/oms/app
                newTag: *k

            """
        #expect {
            _ = try ManifestEditor.edit(text, path: "kustomization.yaml", updates: Self.update)
        } throws: { error in
            guard case let ManifestError.sharedValue(path, line, _, detail) = error else { return false }
            return path == "kustomization.yaml" && line == 5 && detail.contains("*k") && detail.contains("line 2")
                && "\(error)".contains("nothing was changed")
        }
    }

    @Test func anAnchoredImageAlsoUsedElsewhereIsRefused() {
        let text = """
            containers:
              - image: &i registry.example.com/oms/app:1.0.0
            metadata:
              labels:
                version: *i

            """
        #expect {
            _ = try ManifestEditor.edit(text, path: "d.yaml", updates: Self.update)
        } throws: { error in
            guard case let ManifestError.sharedValue(_, line, _, detail) = error else { return false }
            return line == 2 && detail.contains("line 5")
        }
    }

    @Test func aTagSharedByTwoImagesMovesOnlyWhenBothAreSetAlike() throws {
        let text = """
            kind: Kustomization
            images:
              - name: registry.example.com/oms/app
                newTag: &t 1.0.0
              - name: registry.example.com/oms/web
                newTag: *t

            """
        #expect(throws: ManifestError.self) {
            _ = try ManifestEditor.edit(text, path: "k.yaml", updates: Self.update)
        }
        #expect(throws: ManifestError.self) {
            _ = try ManifestEditor.edit(text, path: "k.yaml", updates: [
                ImageUpdate(image: Self.app, tag: "1.2.3"), ImageUpdate(image: "registry.example.com/oms/web", tag: "9.9.9"),
            ])
        }
        let both = try ManifestEditor.edit(text, path: "k.yaml", updates: [
            ImageUpdate(image: Self.app, tag: "1.2.3"), ImageUpdate(image: "registry.example.com/oms/web", tag: "1.2.3"),
        ])
        #expect(both.text == text.replacingOccurrences(of: "&t 1.0.0", with: "&t 1.2.3"))
        #expect(both.changes.map(\.line) == [4])
    }

    @Test func aNameWrittenAsAnAliasGetsNoInsertedTag() {
        let text = "names:\n  app: &n registry.example.com/oms/app\nkind: Kustomization\nimages:\n  - name: *n\n"
        #expect {
            _ = try ManifestEditor.edit(text, path: "kustomization.yaml", updates: Self.update)
        } throws: { error in
            guard case ManifestError.unsupportedValue(_, let line, _, _) = error else { return false }
            return line == 5
        }
    }

    /// The re-parse check on its own (the planner's refusal bypassed): it compares documents with aliases
    /// resolved, so the anchored `kind` changing through `newTag: *k` is caught there too.
    @Test func theResolvedComparisonCatchesAChangeThroughAnAlias() throws {
        let bytes = Array("kind: &k Kustomization\nimages:\n  - name: registry.example.com/oms/app\n    newTag: *k\n".utf8)
        guard case .yaml(let tree) = try ManifestEditor.parse(bytes, path: "k.yaml") else {
            Issue.record("not parsed as YAML")
            return
        }
        var plan = SplicePlan()
        for site in ImageLocator.sites(in: tree, path: "k.yaml") {
            try plan.add(site, ManifestEditor.Wanted(tag: "1.2.3"), tree, bytes, "k.yaml")
        }
        #expect {
            try EditVerifier.verify(old: tree, newBytes: plan.applied(to: bytes), plan: plan, path: "k.yaml")
        } throws: { error in
            guard case let ManifestError.safetyCheckFailed(_, line, _, detail) = error else { return false }
            return line == 1 && detail.contains("'Kustomization' used at line 1")
        }
    }

    // MARK: - Limits (class 5)

    @Test func anAliasBombIsRefusedQuicklyWithItsLocation() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        text += "image: registry.example.com/oms/app:1.0.0\n"
        let started = Date()
        #expect {
            _ = try ManifestEditor.edit(text, path: "bomb.yaml", updates: Self.update)
        } throws: { error in
            guard case let ManifestError.tooComplex(path, line, _, reason) = error else { return false }
            return path == "bomb.yaml" && (6...10).contains(line) && reason.contains("\(ManifestLimits.maxAliasExpansion)")
        }
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test(arguments: [300, 3_000])
    func deepNestingIsRefusedInOurWords(_ depth: Int) {
        let text = "image: registry.example.com/oms/app:1.0.0\nx: " + String(repeating: "[", count: depth)
            + String(repeating: "]", count: depth) + "\n"
        #expect {
            _ = try ManifestEditor.edit(text, path: "deep.yaml", updates: Self.update)
        } throws: { error in
            guard case let ManifestError.tooComplex(_, line, _, reason) = error else { return false }
            return line == 2 && reason == "collections nest deeper than \(ManifestLimits.maxNesting) levels"
        }
    }

    @Test func aTextOverTheSizeLimitIsRefusedBeforeParsing() {
        let text = "image: registry.example.com/oms/app:1.0.0\n" + String(repeating: "#", count: ManifestLimits.maxFileBytes)
        #expect {
            _ = try ManifestEditor.edit(text, path: "big.yaml", updates: Self.update)
        } throws: { error in
            guard case let ManifestError.tooLarge(path, bytes, limit) = error else { return false }
            return path == "big.yaml" && bytes == text.utf8.count && limit == ManifestLimits.maxFileBytes
                && "\(error)".contains("over the 4 MiB limit")
        }
    }

    /// Messages are one line wherever they are printed: a path or value with a newline or an escape is echoed escaped.
    @Test func messagesEscapeWhatTheyEcho() {
        let error = ManifestError.invalidYAML(path: "evil\nfake.yaml:1:1: error: x\u{1B}[31m", line: 1, column: 1, problem: "p")
        #expect("\(error)" == "evil\\nfake.yaml:1:1: error: x\\e[31m:1:1: not valid YAML: p; fix the file (nothing was changed)")
        let change = ImageChange(path: "a\rb.yaml", line: 2, image: "nginx", old: "1", new: "2")
        #expect("\(change)" == "a\\rb.yaml:2: nginx 1 -> 2")
    }

    @Test func anUndefinedAliasIsNamed() {
        #expect {
            _ = try ManifestEditor.edit("image: *nope\n", path: "a.yaml", updates: Self.update)
        } throws: { error in
            guard case let ManifestError.invalidYAML(_, line, column, problem) = error else { return false }
            return line == 1 && column == 8 && problem.contains("*nope")
        }
    }

    /// Many edits in one file at the limit's scale stay fast (line numbers were O(edits²)).
    @Test func thousandsOfEditsInOneFileAreLinear() throws {
        let container = "  - name: c\n    image: registry.example.com/oms/app:1.0.0\n"
        let text = "containers:\n" + String(repeating: container, count: 20_000)
        let started = Date()
        let result = try ManifestEditor.edit(text, path: "many.yaml", updates: Self.update)
        #expect(result.changes.count == 20_000)
        #expect(result.changes.last?.line == 40_001)
        #expect(Date().timeIntervalSince(started) < 20)
    }

    // MARK: - Templates and line breaks (class 12)

    @Test func aBrokenFileIsNotSkippedForABraceInAComment() {
        let text = "# see {{ .Values.image }} in the chart\nimage: [registry.example.com/oms/app:1.0.0\n"
        #expect {
            _ = try ManifestEditor.edit(text, path: "broken.yaml", updates: Self.update)
        } throws: { error in
            guard case ManifestError.invalidYAML(let path, _, _, _) = error else { return false }
            return path == "broken.yaml"
        }
    }

    @Test func aTemplateIsSkippedNamingTheLineOfItsFirstAction() throws {
        let text = "# {{ a comment }}\nkind: Deployment\nimage: registry.example.com/oms/app:1.0.0\n{{- if .Values.x }}\n{{ .Values.key }}: {{ .Values.value }}\n{{- end }}\n"
        let result = try ManifestEditor.apply(text, path: "t.yaml", updates: Self.update)
        #expect(result.text == text)
        #expect(result.notices == ["t.yaml: skipped: not YAML (a template: the '{{ }}' actions from line 4 are what the YAML parser rejects); not changed"])
    }

    @Test func crOnlyFilesGetTheRightLinesAndInsertions() throws {
        let text = "kind: Kustomization\rimages:\r  - name: nginx\r  - name: registry.example.com/oms/app\r    newTag: 1.0.0\r"
        let result = try ManifestEditor.edit(text, path: "kustomization.yaml", updates: [
            ImageUpdate(image: "nginx", tag: "1.25"), ImageUpdate(image: Self.app, tag: "1.2.3"),
        ])
        #expect(result.text == "kind: Kustomization\rimages:\r  - name: nginx\r    newTag: \"1.25\"\r  - name: registry.example.com/oms/app\r    newTag: 1.2.3\r")
        #expect(result.changes.map(\.line) == [4, 6])
    }
}
