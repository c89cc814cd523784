import Foundation
import LocalFiles
import Manifests
import Policies
import Yams

/// Reads a sandbox seed file (docs/sandbox.md "Seed files") into a ``SandboxSeed``.
///
/// Uses the policy files' `YAMLReader`, so a seed file gets their limits and their diagnostics: every problem
/// as `path:line:col`, unknown keys with a did-you-mean. Secrets never come from the file: a `token:` (or any
/// key naming a password or secret) is an error pointing at `tokenEnv`, and a `tokenEnv` value that is not a
/// variable name is never echoed. `tokenEnv` variables are looked up in the environment handed in, and
/// `import:` folders are read (relative to the seed file) while parsing, so a seed that parses can be applied
/// without another check. Thread-safe; ``load(path:environment:)`` and ``parse(yaml:path:environment:)`` do
/// blocking file I/O for `import:`.
public enum SandboxSeedParser {
    static let topKeys = ["users", "projects", "generate", "argocd", "prometheus", "registry"]
    static let registryKeys = ["tokenAuth", "images"]
    static let registryImageKeys = ["repository", "tags"]
    static let userKeys = ["username", "name", "role", "tokenEnv"]
    static let projectKeys = ["path", "defaultBranch", "files", "import", "protectedBranches", "approvalsRequired", "mergeMethod",
                              "resetApprovalsOnPush", "pipelineMustSucceed"]
    static let generatorKeys = ["count"] + projectKeys
    static let protectedBranchKeys = ["name", "push"]
    static let argoKeys = ["name", "health", "sync", "images", "syncedAgo", "project", "path"]

    /// Most projects one seed may create, generated ones included (the sandbox keeps them all in memory).
    public static let maxProjects = 10_000
    /// Most files one project's first commit may hold (inline and imported together).
    public static let maxFilesPerProject = 10_000
    /// Largest file an `import:` folder may hold.
    public static let maxImportFileBytes = 8 * 1024 * 1024
    /// The placeholder a generator replaces with each project's number (1...count).
    public static let numberPlaceholder = "{n}"

    /// What the reader calls the file in whole-file messages.
    static let fileKind = "a sandbox seed file"

    /// Reads the seed file at `path` (size-limited, saying why it cannot be read) and parses it.
    public static func load(path: String, environment: [String: String]) -> (seed: SandboxSeed?, diagnostics: [Diagnostic]) {
        switch SourceFile.read(path) {
        case let .success(text):
            return parse(yaml: text, path: path, environment: environment)
        case let .failure(problem):
            return (nil, [Diagnostic(path: path, line: 0, column: 0, message: problem.description)])
        }
    }

    /// Parses `yaml`, the text of the seed file at `path` (`import:` folders are relative to its folder).
    /// `environment` holds the `tokenEnv` variables.
    ///
    /// - Returns: the seed when there are no errors, and every diagnostic sorted by position.
    public static func parse(yaml: String, path: String, environment: [String: String]) -> (seed: SandboxSeed?, diagnostics: [Diagnostic]) {
        let reader = YAMLReader(path: path, fileKind: fileKind)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var parser = Parser(reader: reader, environment: environment, baseFolder: base)
        let seed = parser.read(yaml)
        return (reader.hasErrors ? nil : seed, Diagnostic.sortedByPosition(reader.diagnostics))
    }

    // MARK: - Rules shared with the sandbox

    /// Why `path` is not a GitLab project path (`group/name`, subgroups allowed), or nil.
    static func projectPathProblem(_ path: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 2 else { return "is not 'group/name': every project belongs to a group" }
        for segment in segments {
            guard let first = segment.first else { return "has an empty segment" }
            guard segment.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) else {
                return "may hold only letters, digits, '_', '-' and '.' between its slashes"
            }
            guard first != "-", first != "." else { return "has a segment starting with '\(first)'" }
            guard !segment.hasSuffix(".git"), !segment.hasSuffix(".atom") else { return "has a segment ending in '.git' or '.atom'" }
        }
        return nil
    }

    /// Why `name` is not a branch name git accepts (`git check-ref-format --branch`, simplified), or nil.
    static func branchProblem(_ name: String) -> String? {
        let forbidden = " ~^:?*[\\"
        if name.contains(where: { forbidden.contains($0) || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? false }) {
            return "holds a space, a control character or one of ~^:?*[\\"
        }
        if name.hasPrefix("-") || name.hasSuffix("/") || name.hasSuffix(".") || name.contains("..") || name.contains("@{") || name == "@" {
            return "is not a valid git branch name"
        }
        for part in name.split(separator: "/", omittingEmptySubsequences: false) {
            if part.isEmpty || part.hasPrefix(".") || part.hasSuffix(".lock") { return "is not a valid git branch name" }
        }
        return nil
    }

    /// Why `path` cannot name a file in a repository (relative, no `.`/`..`/`.git` segments), or nil.
    static func filePathProblem(_ path: String) -> String? {
        if path.contains(where: { $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? false }) { return "holds a control character" }
        if path.hasPrefix("/") { return "is absolute: write it relative to the repository root" }
        for part in path.split(separator: "/", omittingEmptySubsequences: false) {
            if part.isEmpty { return "has an empty segment" }
            if part == "." || part == ".." { return "has a '.' or '..' segment" }
            if part == ".git" { return "is inside '.git'" }
        }
        return nil
    }

    /// Who may push to a protected branch, as the seed file writes it.
    enum PushAccess: String, CaseIterable {
        case noOne = "no_one", developer, maintainer, admin

        var role: SandboxRole? {
            switch self {
            case .noOne: nil
            case .developer: .developer
            case .maintainer: .maintainer
            case .admin: .admin
            }
        }
    }

    /// Argo CD's health statuses.
    enum ArgoHealth: String, CaseIterable { case Healthy, Progressing, Degraded, Suspended, Missing, Unknown }

    /// Argo CD's sync statuses.
    enum ArgoSync: String, CaseIterable { case Synced, OutOfSync, Unknown }
}

// MARK: - Parsing

extension SandboxSeedParser {
    /// One pass over one file. Single-use, not thread-safe.
    struct Parser {
        let reader: YAMLReader
        let environment: [String: String]
        let baseFolder: String
        /// Lowercased project path -> the line that defined it (GitLab paths ignore case).
        var projectLines: [String: Int] = [:]
        /// Token value -> the user who has it, so two users never share one.
        var tokenOwners: [String: String] = [:]

        init(reader: YAMLReader, environment: [String: String], baseFolder: String) {
            self.reader = reader
            self.environment = environment
            self.baseFolder = baseFolder
        }

        mutating func read(_ yaml: String) -> SandboxSeed {
            var seed = SandboxSeed()
            guard let root = reader.compose(yaml) else { return seed }  // An empty file seeds nothing.
            guard let top = reader.mapping(root, "the seed file") else { return seed }
            let context = "in the seed file"
            let entries = reader.entries(top, allowed: topKeys, context: context) { Self.secretKeyMessage($0, context) }
            if let node = entries["users"]?.value { seed.users = users(node) }
            // `projects:` and `generate:` in file order, so the projects come out in the order they were written.
            for key in top.keys.compactMap(\.scalar?.string) where key == "projects" || key == "generate" {
                guard let node = entries[key]?.value else { continue }
                seed.projects += key == "projects" ? projects(node) : generated(node, planned: seed.projects.count)
            }
            if let node = entries["argocd"]?.value { seed.argoApplications = argoApplications(node, projects: seed.projects) }
            if let node = entries["prometheus"]?.value { seed.prometheus = prometheus(node) }
            if let node = entries["registry"]?.value { registry(node, into: &seed) }
            return seed
        }

        /// `registry:` — `tokenAuth` and `images` (repository and tags), checked like image names and tags.
        func registry(_ node: Node, into seed: inout SandboxSeed) {
            guard let mapping = reader.mapping(node, "'registry'") else { return }
            let entries = reader.entries(mapping, allowed: registryKeys, context: "in 'registry'")
            if let entry = entries["tokenAuth"], let value = reader.bool(entry.value, "'registry.tokenAuth'") { seed.registryTokenAuth = value }
            guard let imagesNode = entries["images"]?.value else { return }
            for (itemMapping, itemEntries, index) in items(imagesNode, "registry.images", itemName: "image", allowed: registryImageKeys) {
                let context = "in image \(index + 1) of 'registry.images'"
                guard let (repository, repositoryNode) = required("repository", itemEntries, itemMapping, context) else { continue }
                guard (try? ImageReference.parse("registry.invalid/" + repository))?.repository == repository else {
                    reader.error("'\(YAMLReader.excerpt(repository))' \(context) is not a repository path like oms/app (lowercase, no host, no tag)", at: repositoryNode)
                    continue
                }
                var tags: [String] = []
                for (tag, tagNode) in itemEntries["tags"].flatMap({ reader.stringList($0.value, "'tags' \(context)") }) ?? [] {
                    if (try? ImageReference.parse("registry.invalid/\(repository):\(tag)"))?.tag == tag {
                        tags.append(tag)
                    } else {
                        reader.error("'\(YAMLReader.excerpt(tag))' \(context) is not a valid tag (letters, digits, '_', '.', '-'; at most 128)", at: tagNode)
                    }
                }
                seed.registryImages.append(SandboxSeed.RegistryImage(repository: repository, tags: tags))
            }
        }

        /// The message for a key that would hold a secret; nil for other unknown keys.
        static func secretKeyMessage(_ key: String, _ context: String, user: String? = nil) -> String? {
            guard ConfigParser.isSecretKeyName(key) else { return nil }
            let advice = user.map {
                "use 'tokenEnv' (the name of an environment variable), or leave it out to have a token generated into DATA/tokens/\($0)"
            } ?? "a user's token comes from 'tokenEnv' or is generated when the sandbox starts"
            return "'\(key)' \(context) would put a secret in the seed file: \(advice)"
        }

        typealias Entries = [String: (key: Node, value: Node)]

        /// The string value of the required `key` of a list item, with its node; nil (reported) when it is
        /// missing or not a string.
        func required(_ key: String, _ entries: Entries, _ mapping: Node.Mapping, _ context: String) -> (value: String, node: Node)? {
            guard let entry = entries[key] else {
                reader.missing(key, context, at: mapping.mark)
                return nil
            }
            return reader.string(entry.value, "'\(key)' \(context)").map { ($0, entry.value) }
        }

        /// Each item of the list at `node` as a mapping with its entries (items that are not mappings are reported).
        func items(_ node: Node, _ what: String, itemName: String, allowed: [String],
                   secretUser: (Node.Mapping) -> String? = { _ in nil }) -> [(mapping: Node.Mapping, entries: Entries, index: Int)] {
            guard let list = reader.list(node, "'\(what)'", allowEmpty: true) else { return [] }
            return list.enumerated().compactMap { index, item in
                guard let mapping = reader.mapping(item, "each \(itemName) in '\(what)'") else { return nil }
                let context = "in \(itemName) \(index + 1) of '\(what)'"
                let user = secretUser(mapping)
                let entries = reader.entries(mapping, allowed: allowed, context: context) { Self.secretKeyMessage($0, context, user: user) }
                return (mapping, entries, index)
            }
        }

        // MARK: Users

        mutating func users(_ node: Node) -> [SandboxSeed.User] {
            var users: [SandboxSeed.User] = []
            var lines: [String: Int] = [:]
            let rows = items(node, "users", itemName: "user", allowed: userKeys) { mapping in
                mapping["username"]?.scalar?.string ?? "<username>"
            }
            for (mapping, entries, index) in rows {
                guard let (username, usernameNode) = required("username", entries, mapping, "in user \(index + 1) of 'users'") else { continue }
                let context = "in user '\(YAMLReader.excerpt(username, limit: 40))'"
                var ok = true
                if let problem = Self.usernameProblem(username) {
                    reader.error("invalid username '\(YAMLReader.excerpt(username))': \(problem)", at: usernameNode)
                    ok = false
                } else if let line = lines[username.lowercased()] {
                    reader.error("user '\(username)' is already defined at line \(line)", at: usernameNode)
                    ok = false
                } else {
                    lines[username.lowercased()] = usernameNode.mark?.line ?? 0
                }
                let name = entries["name"].flatMap { reader.string($0.value, "'name' \(context)") }
                var role: SandboxRole?
                if let entry = entries["role"] {
                    role = reader.string(entry.value, "'role' \(context)").flatMap { reader.choice($0, "role", context, at: entry.value) }
                } else {
                    reader.missing("role", "\(context) (one of \(SandboxRole.allCases.map(\.rawValue).joined(separator: ", ")))", at: mapping.mark)
                }
                var token = SandboxSeed.TokenSource.generated
                if let entry = entries["tokenEnv"] {
                    if let variable = tokenVariable(entry.value, username: username, context: context) {
                        token = .environment(variable)
                    } else {
                        ok = false
                    }
                }
                if ok, let role { users.append(SandboxSeed.User(username: username, name: name, role: role, token: token)) }
            }
            return users
        }

        /// GitLab's rule for usernames, minus the reserved words; `root` is the sandbox's own administrator.
        static func usernameProblem(_ name: String) -> String? {
            if name == "root" { return "'root' is the sandbox's built-in administrator: its token comes from SANDBOX_TOKEN or DATA/token" }
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) else {
                return "use letters, digits, '_', '-' and '.'"
            }
            guard let first = name.first, first != "-", first != "." else { return "it must start with a letter, a digit or '_'" }
            guard !name.hasSuffix(".git"), !name.hasSuffix(".atom") else { return "it must not end in '.git' or '.atom'" }
            return nil
        }

        /// The variable `tokenEnv` names, checked to be set, non-empty and not another user's token. The value
        /// is never echoed: a wrong `tokenEnv` is often the token itself.
        mutating func tokenVariable(_ node: Node, username: String, context: String) -> String? {
            guard case let .scalar(scalar) = node, ConfigParser.isEnvironmentName(scalar.string) else {
                reader.error("'tokenEnv' \(context) must be the name of an environment variable (letters, digits and '_', like ALICE_TOKEN), not the token itself",
                             at: node)
                return nil
            }
            let variable = scalar.string
            guard let value = environment[variable]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                let state = environment[variable] == nil ? "is not set" : "is empty"
                reader.error("the environment variable \(variable) ('tokenEnv' \(context)) \(state): export it with the user's token, or remove 'tokenEnv' to have a token generated",
                             at: node)
                return nil
            }
            if let owner = tokenOwners[value] {
                reader.error("the environment variable \(variable) ('tokenEnv' \(context)) holds the same token as user '\(owner)': each user needs a token of its own",
                             at: node)
                return nil
            }
            tokenOwners[value] = username
            return variable
        }
    }
}
