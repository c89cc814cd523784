import Foundation
import Manifests
import Testing
@testable import Promotion

/// What planning reads from a stage's files is what `set-image` and the engine would edit: the same
/// shapes, by the same rules (`Manifests.ImageLocator`).
@Suite struct StageReaderTests {
    static let digest = "sha256:" + String(repeating: "e5", count: 32)

    @Test func everyShapeIsReadAsTheEditorWouldSetIt() {
        let files: [String: Data] = [
            "overlay/kustomization.yaml": Data("""
                kind: Kustomization
                images:
                  - name: app
                    newName: registry.example.com/new-app
                    newTag: "2.0"

                """.utf8),
            "chart/values.yaml": Data("image:\n  repository: ghcr.io/acme/api\n  tag: 3.0.0\n  digest: null\n".utf8),
            "pods/pod.yaml": Data("containers:\n  - image: |-\n      registry.example.com/oms/worker:1.4.2\n".utf8),
            "pods/pinned.yaml": Data("image:\n  repository: ghcr.io/acme/pinned\n  tag: 1.0.0\n  digest: \(Self.digest)\n".utf8),
            "pods/multi.yaml": Data("containers:\n  - image: >\n      registry.example.com/oms/multi:1.0\n      --pull\n".utf8),
        ]
        let images = ["registry.example.com/new-app", "app", "ghcr.io/acme/api", "registry.example.com/oms/worker",
                      "ghcr.io/acme/pinned", "registry.example.com/oms/multi"]
        let tags = StageReader.tags(in: files, images: images)
        #expect(tags == [
            // The entry runs newName: it is new-app's version, and `app` is not held here.
            "registry.example.com/new-app": "2.0",
            // A null digest pins nothing: the tag alone.
            "ghcr.io/acme/api": "3.0.0",
            "registry.example.com/oms/worker": "1.4.2",
            "ghcr.io/acme/pinned": ImageVersion(tag: "1.0.0", digest: Self.digest),
            // A block scalar over several lines is no version (editing it is refused, naming its line).
        ])
    }
}
