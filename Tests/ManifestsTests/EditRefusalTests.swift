import Testing
@testable import Manifests

@Suite struct EditRefusalTests {
    static let app = "registry.example.com/oms/app"
    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        spec:
          replicas: 2
          template:
            spec:
              containers:
                - name: app
                  image: registry.example.com/oms/app:1.4.2
                  env:
                    - {name: MODE, value: "fast"}

        """

    @Test func aResultThatChangesAnotherScalarIsRefused() throws {
        let replicas = Array("replicas: 2".utf8), three = Array("replicas: 3".utf8)
        #expect {
            _ = try ManifestEditor.apply(Self.deployment, path: "deploy.yaml",
                                         updates: [ImageUpdate(image: Self.app, tag: "1.5.0")]) { bytes in
                let start = bytes.firstRange(of: replicas)!.lowerBound
                bytes.replaceSubrange(start..<(start + replicas.count), with: three)
            }
        } throws: { error in
            guard case let ManifestError.safetyCheckFailed(path, line, _, detail) = error else { return false }
            return path == "deploy.yaml" && line == 4 && detail.contains("'2'") && "\(error)".contains("nothing was written")
        }
    }

    @Test func aResultThatChangesStructureOrQuotingIsRefused() throws {
        let update = [ImageUpdate(image: Self.app, tag: "1.5.0")]
        // The image value changed, but also its type: an unquoted "fast" -> plain `yes` would be a boolean.
        #expect(throws: ManifestError.self) {
            _ = try ManifestEditor.apply(Self.deployment, path: "d.yaml", updates: update) { bytes in
                let needle = Array("\"fast\"".utf8)
                let start = bytes.firstRange(of: needle)!.lowerBound
                bytes.replaceSubrange(start..<(start + needle.count), with: Array("yes".utf8))
            }
        }
        // Broken YAML after the edit.
        #expect(throws: ManifestError.self) {
            _ = try ManifestEditor.apply(Self.deployment, path: "d.yaml", updates: update) { bytes in
                bytes.append(contentsOf: Array("  - [unclosed\n".utf8))
            }
        }
        // An extra key.
        #expect(throws: ManifestError.self) {
            _ = try ManifestEditor.apply(Self.deployment, path: "d.yaml", updates: update) { bytes in
                bytes.append(contentsOf: Array("extra: 1\n".utf8))
            }
        }
        // Untampered, the same edit passes the check.
        let result = try ManifestEditor.apply(Self.deployment, path: "d.yaml", updates: update) { _ in }
        #expect(result.changes.count == 1)
    }

    @Test func helmTemplatesAreSkippedWithANotice() throws {
        let template = """
            apiVersion: apps/v1
            kind: Deployment
            spec:
              template:
                spec:
                  containers:
                    - name: app
                      image: registry.example.com/oms/app:1.4.2
                      {{- if .Values.resources }}
                      resources: {{ toYaml .Values.resources | nindent 12 }}
                      {{- end }}

            """
        let result = try ManifestEditor.apply(template, path: "templates/deployment.yaml",
                                              updates: [ImageUpdate(image: Self.app, tag: "1.5.0")])
        #expect(result.text == template)
        #expect(result.changes.isEmpty)
        #expect(result.notices.count == 1)
        #expect(result.notices.first?.contains("templates/deployment.yaml: skipped: not YAML") == true)
        #expect(try ManifestEditor.images(in: template, path: "t.yaml").isEmpty)
    }

    @Test func unknownImageChangesNothing() throws {
        let result = try ManifestEditor.apply(Self.deployment, path: "d.yaml",
                                              updates: [ImageUpdate(image: "registry.example.com/oms/other", tag: "2.0.0")])
        #expect(result.text == Self.deployment)
        #expect(result.changes.isEmpty)
        #expect(result.matched.isEmpty)
    }

    @Test func alreadyCurrentIsMatchedButUnchanged() throws {
        let result = try ManifestEditor.apply(Self.deployment, path: "d.yaml",
                                              updates: [ImageUpdate(image: Self.app, tag: "1.4.2")])
        #expect(result.text == Self.deployment)
        #expect(result.changes.isEmpty)
        #expect(result.matched.map(\.line) == [9])
    }

    @Test func invalidYAMLNamesTheLocation() {
        #expect {
            _ = try ManifestEditor.edit("a: 1\nb: [2\nc: 3\n", path: "bad.yaml", updates: [])
        } throws: { error in
            guard case let ManifestError.invalidYAML(path, line, _, _) = error else { return false }
            return path == "bad.yaml" && line >= 2 && "\(error)".hasPrefix("bad.yaml:\(line):")
        }
    }

    @Test func pinnedDigestKeyRefusesATagOnlyUpdate() {
        let kustomization = """
            images:
              - name: registry.example.com/oms/app
                newTag: 1.4.2
                digest: sha256:\(String(repeating: "c3", count: 32))

            """
        #expect {
            _ = try ManifestEditor.edit(kustomization, path: "kustomization.yaml",
                                        updates: [ImageUpdate(image: Self.app, tag: "1.5.0")])
        } throws: { error in
            guard case let ManifestError.digestPinned(_, line, _, _) = error else { return false }
            return line == 4 && "\(error)".contains("IMAGE:TAG@DIGEST")
        }
    }

    /// A block scalar on one line is edited (see the `block-scalar-*` fixtures); over several it is refused.
    @Test func multiLineBlockScalarImageIsUnsupported() {
        let text = "containers:\n  - image: |-\n      registry.example.com/oms/app:1.4.2\n      --pull\n"
        #expect {
            _ = try ManifestEditor.edit(text, path: "p.yaml", updates: [ImageUpdate(image: Self.app, tag: "1.5.0")])
        } throws: { error in
            guard case let ManifestError.unsupportedValue(_, line, _, _) = error else { return false }
            return line == 2
        }
    }

    @Test(arguments: [
        [ImageUpdate(image: "Bad Image", tag: "1")],
        [ImageUpdate(image: "app", tag: "-x")],
        [ImageUpdate(image: "app", digest: "sha256:short")],
        [ImageUpdate(image: "app")],
        [ImageUpdate(image: "nginx", tag: "1"), ImageUpdate(image: "docker.io/library/nginx", tag: "2")],
    ])
    func malformedUpdatesAreRejected(_ updates: [ImageUpdate]) {
        #expect {
            _ = try ManifestEditor.edit(Self.deployment, path: "d.yaml", updates: updates)
        } throws: { error in
            guard case ManifestError.invalidUpdate = error else { return false }
            return true
        }
    }

    @Test func imagesReportsEveryForm() throws {
        let text = """
            kind: Kustomization
            images:
              - name: registry.example.com/payments/api
                newTag: "2.3.1"
            ---
            image:
              registry: ghcr.io
              repository: acme/api
              tag: 1.0.0
            sidecar:
              image: nginx:1.25
            containers:
              - image: &x busybox@sha256:\(String(repeating: "d4", count: 32))
              - image: *x
              - image: "{{ not an image }}"

            """
        let found = try ManifestEditor.images(in: text, path: "mixed.yaml")
        #expect(found.map(\.reference.description) == [
            "registry.example.com/payments/api:2.3.1",
            "ghcr.io/acme/api:1.0.0",
            "docker.io/library/nginx:1.25",
            "docker.io/library/busybox@sha256:\(String(repeating: "d4", count: 32))",
        ])
        #expect(found.map(\.line) == [4, 9, 11, 13])
        #expect(found[0].column == 13)
    }
}
