import Foundation
import Manifests
import Policies

/// What `promobot init` read from one deploy repository: its manifests at one branch, and the Argo CD
/// applications that deploy from it.
public struct DeployRepositorySnapshot: Sendable {
    /// The GitLab project path (`group/oms-deploy`).
    public var repository: String
    public var branch: String
    /// YAML files by repository path.
    public var files: [String: String]
    /// Argo CD applications whose source is this repository: name and source path.
    public var applications: [(name: String, path: String)]

    public init(repository: String, branch: String, files: [String: String], applications: [(name: String, path: String)] = []) {
        self.repository = repository
        self.branch = branch
        self.files = files
        self.applications = applications
    }
}

/// The environments and images found in deploy repositories: the first draft of a policy.
///
/// Pure: reads the snapshots it is given, nothing else. The rules, in order:
/// - **One repository**: an environment is a folder whose manifests hold the same images as its sibling
///   folders with different tags (`dev/`, `test/`, `prod/`, or `overlays/<env>/`). Of all folders with two
///   or more such children, the one with the most wins (the shallowest on a tie); folders named like a
///   shared base (`base`, `common`, `components`) are never environments.
/// - **Several repositories**, in the order given: a repository with environment folders (found as above)
///   gives those environments; any other repository is one environment, named after the environment word in
///   its name (`payments-prod` -> `prod`), with the deepest folder holding every file with an image as its path.
/// - **Images**: those that appear in at least two environments; the others are reported, not promoted.
/// - **Order**: known names first by their usual order (`dev` … `prod`), other names by their newest tag
///   first (CI writes the newest version into the first stage), which `notes` flags as a guess.
public enum DeployLayout {
    /// One environment found.
    public struct Environment: Sendable, Hashable {
        /// The stage name (a valid policy name, derived from the folder or repository).
        public var name: String
        public var repository: String
        public var branch: String
        /// Folders (ending in `/`) or `./` for the repository root.
        public var paths: [String]
        /// The version of each shared image it runs.
        public var versions: [String: String]
        /// The Argo CD application deploying it, when one matched.
        public var application: String?
    }

    /// The draft: environments in promotion order, shared images, and what the reader should check.
    public struct Discovery: Sendable, Hashable {
        public var environments: [Environment]
        public var images: [String]
        /// Things `init` had to guess or leave out, in words for the policy's comments and the terminal.
        public var notes: [String]
    }

    /// Why nothing could be proposed.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Names of folders that hold what every environment shares, never an environment themselves.
    static let sharedFolderNames: Set<String> = ["base", "bases", "common", "components", "shared", "templates", "charts", "crds"]

    /// The usual order of environment names, upstream first.
    static let knownOrder = [
        "local", "dev", "develop", "development", "sandbox", "int", "integration", "ci", "qa", "test", "testing",
        "stage", "staging", "uat", "acceptance", "preprod", "pre-prod", "preproduction", "canary", "prod", "production", "live",
    ]

    /// Finds environments and images in `snapshots` (one per `--repository`).
    public static func discover(_ snapshots: [DeployRepositorySnapshot]) throws(Failure) -> Discovery {
        guard !snapshots.isEmpty else { throw Failure(description: "no repository to read") }
        let found = snapshots.map { snapshot in (snapshot, images(in: snapshot)) }
        var environments: [Environment]
        var notes: [String] = []
        // Whether some order below comes from tags rather than names (said in the notes).
        var guessed = false
        if snapshots.count == 1, let (snapshot, images) = found.first {
            environments = try folderEnvironments(snapshot, images: images)
        } else {
            environments = []
            for (snapshot, images) in found {
                if let folders = try? folderEnvironments(snapshot, images: images) {
                    let (ordered, guessedHere) = promotionOrder(folders)
                    environments += ordered
                    guessed = guessed || guessedHere
                } else {
                    environments.append(Environment(
                        name: environmentName(ofRepository: snapshot.repository), repository: snapshot.repository, branch: snapshot.branch,
                        paths: [deepestCommonFolder(of: Array(images.values.joined().map(\.path)))],
                        versions: images.mapValues { $0.first?.version ?? "" }))
                }
            }
            notes.append("stages follow the order --repository named the repositories")
        }
        // Images shared by at least two environments are promoted; the rest stay out.
        var seenIn: [String: Int] = [:]
        for environment in environments { for image in environment.versions.keys { seenIn[image, default: 0] += 1 } }
        let shared = seenIn.filter { $0.value >= 2 }.keys.sorted()
        let single = seenIn.filter { $0.value < 2 }.keys.sorted()
        guard !shared.isEmpty else {
            throw Failure(description: "no image appears in two environments: promobot promotes an image from one environment to the next, so it needs the same image in at least two (found \(seenIn.keys.sorted().joined(separator: ", ")))")
        }
        if !single.isEmpty { notes.append("left out, found in one environment only: \(single.joined(separator: ", "))") }
        for index in environments.indices { environments[index].versions = environments[index].versions.filter { shared.contains($0.key) } }
        environments = environments.filter { !$0.versions.isEmpty }
        // One repository: the usual order of environment names. Several: the order the user gave (each
        // repository's own folders ordered above).
        var ordered = environments
        if snapshots.count == 1 { (ordered, guessed) = promotionOrder(environments) }
        if guessed { notes.append("the stage order is a guess (newest tags first, as CI writes the first stage): check it") }
        // Names must be unique: a second `prod` (two repositories named alike) gets a suffix.
        var used: [String: Int] = [:]
        var unique = ordered
        for index in unique.indices {
            let base = unique[index].name
            used[base, default: 0] += 1
            if used[base]! > 1 { unique[index].name = "\(base)-\(used[base]!)" }
        }
        for index in unique.indices {
            let environment = unique[index]
            if let app = snapshots.first(where: { $0.repository == environment.repository })?.applications
                .first(where: { app in environment.paths.contains { folder in sameFolder(app.path, folder) } }) {
                unique[index].application = app.name
            }
        }
        return Discovery(environments: unique, images: shared, notes: notes)
    }

    // MARK: - Images in files

    struct Sighting: Hashable { var path: String; var version: String }

    /// Every image of the snapshot's manifests: image name -> where it is and which version.
    static func images(in snapshot: DeployRepositorySnapshot) -> [String: [Sighting]] {
        var result: [String: [Sighting]] = [:]
        for path in snapshot.files.keys.sorted() {
            guard let text = snapshot.files[path], let found = try? ManifestEditor.images(in: text, path: path) else { continue }
            for image in found {
                result[image.reference.name, default: []].append(Sighting(path: path, version: ImageVersion(image.reference).description))
            }
        }
        return result
    }

    // MARK: - Folders as environments

    static func folderEnvironments(_ snapshot: DeployRepositorySnapshot, images: [String: [Sighting]]) throws(Failure) -> [Environment] {
        // For each folder, the images (with versions) under each of its child folders.
        var byParent: [String: [String: [String: String]]] = [:]   // parent -> child -> image -> version
        for (image, sightings) in images {
            for sighting in sightings {
                let parts = sighting.path.split(separator: "/").map(String.init).dropLast()
                for depth in parts.indices {
                    let parent = parts[..<depth].joined(separator: "/")
                    let child = parts[depth]
                    if byParent[parent, default: [:]][child, default: [:]][image] == nil {
                        byParent[parent, default: [:]][child, default: [:]][image] = sighting.version
                    }
                }
            }
        }
        // Shallowest first, so a tie keeps the shallower parent.
        let parents = byParent.keys.sorted { ($0.split(separator: "/").count, $0) < ($1.split(separator: "/").count, $1) }
        var best: (parent: String, children: [String: [String: String]])?
        for parent in parents {
            let children = byParent[parent]!.filter { !sharedFolderNames.contains($0.key.lowercased()) }
            // Children that share an image with a sibling, at a different version from at least one sibling.
            let environments = children.filter { child, versions in
                versions.contains { image, version in
                    children.contains { other, otherVersions in other != child && otherVersions[image] != nil && otherVersions[image] != version }
                }
            }
            if environments.count >= 2, environments.count > (best?.children.count ?? 0) { best = (parent, environments) }
        }
        // All environments at the same version (a quiet repository) still count when their names say so.
        if best == nil {
            for parent in parents {
                let children = byParent[parent]!.filter { knownOrder.contains($0.key.lowercased()) }
                if children.count >= 2, children.count > (best?.children.count ?? 0) { best = (parent, children) }
            }
        }
        guard let best else {
            throw Failure(description: "found no environment folders in \(snapshot.repository) (branch \(snapshot.branch)): promobot looks for sibling folders (dev/, test/, prod/ or overlays/<env>/) whose manifests hold the same images with different tags; for one repository per environment, give --repository once per environment")
        }
        let prefix = best.parent.isEmpty ? "" : best.parent + "/"
        return best.children.keys.sorted().map { child in
            Environment(name: stageName(child), repository: snapshot.repository, branch: snapshot.branch,
                        paths: ["\(prefix)\(child)/"], versions: best.children[child]!)
        }
    }

    // MARK: - Order and names

    /// Known names by their usual order, then the rest by newest version first; `guessed` when any name was unknown.
    static func promotionOrder(_ environments: [Environment]) -> (ordered: [Environment], guessed: Bool) {
        func rank(_ environment: Environment) -> Int? { knownOrder.firstIndex(of: environment.name) }
        let known = environments.filter { rank($0) != nil }.sorted { rank($0)! < rank($1)! }
        let unknown = environments.filter { rank($0) == nil }.sorted { newest($0) > newest($1) }
        return (known + unknown, !unknown.isEmpty)
    }

    /// The highest semantic version an environment runs (zero when none is one), for ordering unknown names.
    static func newest(_ environment: Environment) -> SemanticVersion {
        environment.versions.values.compactMap { ImageVersion($0).semanticVersion }.max() ?? SemanticVersion(major: 0, minor: 0, patch: 0)
    }

    /// A folder or repository name as a stage name: lowercase letters, digits and `-`.
    static func stageName(_ text: String) -> String {
        var name = String(text.lowercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "-" })
        while name.contains("--") { name = name.replacingOccurrences(of: "--", with: "-") }
        name = name.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return name.isEmpty ? "stage" : String(name.prefix(63))
    }

    /// The policy name for a deploy repository: its last path component without `deploy`/`gitops` affixes.
    public static func policyName(for repository: String) -> String {
        var name = stageName(lastComponent(repository))
        for affix in ["-deployment", "-deploy", "-gitops", "-manifests", "-k8s", "-config"] where name.hasSuffix(affix) && name.count > affix.count {
            name.removeLast(affix.count)
        }
        for affix in ["deploy-", "gitops-"] where name.hasPrefix(affix) && name.count > affix.count { name.removeFirst(affix.count) }
        return name
    }

    static func lastComponent(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }

    /// The stage name for a repository that is one environment: the last environment word in its name
    /// (`group/payments-prod` -> `prod`, `pay/api-dev` -> `dev`), else the whole name.
    static func environmentName(ofRepository repository: String) -> String {
        let name = stageName(lastComponent(repository))
        return name.split(separator: "-").map(String.init).last(where: knownOrder.contains) ?? name
    }

    /// The deepest folder holding every path (`a/b/x.yaml`, `a/c/y.yaml` -> `a/`); `./` for the root.
    static func deepestCommonFolder(of paths: [String]) -> String {
        let folders = paths.map { $0.split(separator: "/").dropLast().map(String.init) }
        guard var common = folders.first else { return "./" }
        for folder in folders.dropFirst() {
            common = Array(zip(common, folder).prefix { $0 == $1 }.map(\.0))
        }
        return common.isEmpty ? "./" : common.joined(separator: "/") + "/"
    }

    /// Whether an Argo CD source path (`overlays/dev`, `./dev/`) names the folder `folder` (`overlays/dev/`).
    static func sameFolder(_ path: String, _ folder: String) -> Bool {
        func clean(_ text: String) -> String {
            text.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        }
        return clean(path) == clean(folder)
    }
}
