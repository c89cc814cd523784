import Foundation
import Planning
import Git
import Manifests
import Policies

/// Reads which tags a stage's manifests hold, from git objects (no work tree).
///
/// The parsing half (`tags(in:images:)`) is pure; the reading half walks the stage's paths at a commit.
enum StageReader {
    /// The tags `files` hold for `images`, keyed by the image name as the policy writes it.
    /// An image found with several different tags keeps the first one in path order (files are sorted),
    /// which is what a reviewer reading the folder top to bottom would see first.
    static func tags(in files: [String: Data], images: [String]) -> ImageVersions {
        let wanted: [(policyName: String, normalized: String)] = images.map { ($0, normalizedName($0)) }
        var result: ImageVersions = [:]
        for path in files.keys.sorted() where isManifest(path) {
            guard let data = files[path], let text = String(data: data, encoding: .utf8),
                  let found = try? ManifestEditor.images(in: text, path: path) else { continue }
            for image in found {
                guard let match = wanted.first(where: { $0.normalized == image.reference.name }),
                      result[match.policyName] == nil else { continue }
                result[match.policyName] = ImageVersion(image.reference)
            }
        }
        return result
    }

    /// Reads every manifest under `paths` at `commit`.
    static func files(in repository: CachedRepository, paths: [String], at commit: ObjectID) async throws -> [String: Data] {
        let trimmed = paths.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        return try await repository.files(under: trimmed, at: commit).filter { isManifest($0.key) }
    }

    static func isManifest(_ path: String) -> Bool { path.hasSuffix(".yaml") || path.hasSuffix(".yml") }

    static func normalizedName(_ image: String) -> String {
        (try? ImageReference.parse(image))?.name ?? image
    }
}
