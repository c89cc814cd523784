import Foundation
import Yams

/// Parses and validates one policy file (policy language v1) into a `Policy`.
///
/// Pure: takes the file's text, never touches the disk. Reports every problem it finds, each
/// with `path:line:col`, rather than stopping at the first. Thread-safe (no shared state).
public enum PolicyParser {
    /// The only policy language version this build understands.
    public static let supportedVersion = 1

    /// Most stages in one policy. Real policies have a handful; the cap keeps a generated or pasted file
    /// from turning per-stage suggestions and checks into minutes of work.
    public static let maxStages = 100
    /// Most images in one policy (they are promoted together, all in one MR).
    public static let maxImages = 200

    static let policyKeys = ["version", "name", "repository", "branch", "images", "stages", "rollback", "defaults"]
    /// Top-level keys starting with this are ignored: they hold anchors for `<<` merges (`x-prod: &prod`).
    static let extensionPrefix = "x-"
    static let stageKeys = [
        "name", "from", "repository", "branch", "paths", "health", "soak", "merge", "approvals", "timezone",
        "windows", "freeze", "tags", "downgrade", "pick", "labels", "reviewers", "assignees", "rollback",
        "imageExists", "pin",
    ]
    /// Keys of a `rollback` block, in the policy or in a stage.
    static let rollbackKeys = ["merge", "approvals", "auto", "within"]
    /// Keys that only matter when promobot promotes into a stage, i.e. not on the first stage.
    static let promotionOnlyKeys = [
        "soak", "merge", "approvals", "windows", "freeze", "tags", "downgrade", "pick", "labels", "reviewers",
        "assignees", "imageExists", "pin",
    ]

    /// Parses `yaml` (the contents of the file at `path`).
    ///
    /// - Parameter shared: the config file's `stageDefaults:` and company-wide `freezes:`, applied to the
    ///   policy's stages (see `StageDefaults` for the precedence).
    /// - Returns: the policy when the file has no errors (warnings allowed), and every diagnostic,
    ///   sorted by position. `path` is only used in diagnostics and `Policy.sourcePath`.
    public static func parse(yaml: String, path: String,
                             shared: SharedSettings = .none) -> (policy: Policy?, diagnostics: [Diagnostic]) {
        let result = parseDetailed(yaml: yaml, path: path, shared: shared)
        return (result.policy, result.diagnostics)
    }

    /// What the loader needs for cross-file checks, even when the file has errors.
    struct Detailed {
        var policy: Policy?
        var name: String?
        var nameMark: Mark?
        var diagnostics: [Diagnostic]
    }

    static func parseDetailed(yaml: String, path: String, shared: SharedSettings = .none) -> Detailed {
        let reader = YAMLReader(path: path)
        var parser = Parser(reader: reader, path: path, shared: shared)
        let policy = parser.run(yaml: yaml)
        return Detailed(policy: reader.hasErrors ? nil : policy, name: parser.policyName,
                        nameMark: parser.policyNameMark, diagnostics: Diagnostic.sortedByPosition(reader.diagnostics))
    }

    // MARK: - Names, repositories, branches and paths

    /// Policy and stage names: they end up in branch names and MR titles.
    public static func isValidName(_ name: String) -> Bool {
        guard (1...63).contains(name.count), let first = name.first, first != "-", name.last != "-" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }

    /// A GitLab project path (`group/sub/project`) or a numeric project id.
    public static func isValidRepository(_ text: String) -> Bool {
        if text.allSatisfy({ $0.isASCII && $0.isNumber }) { return !text.hasPrefix("0") }
        let segments = text.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 2 else { return false }
        return segments.allSatisfy { segment in
            guard let first = segment.first, let last = segment.last else { return false }
            return segment.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
                && first != "-" && first != "." && last != "." && !segment.hasSuffix(".git")
        }
    }

    /// The parts of `git check-ref-format --branch` that matter for a target branch.
    static func isValidBranch(_ text: String) -> Bool {
        guard !text.isEmpty, !text.hasPrefix("-"), !text.hasPrefix("/"), !text.hasSuffix("/"), !text.hasSuffix("."),
              !text.hasSuffix(".lock"), !text.contains(".."), !text.contains("//"), !text.contains("@{"), text != "@"
        else { return false }
        return !text.contains { $0.isWhitespace || "~^:?*[\\".contains($0) || ($0.asciiValue.map { $0 < 32 || $0 == 127 } ?? false) }
    }

    /// Why a stage path is not acceptable, or nil.
    public static func pathProblem(_ path: String) -> String? {
        if path.hasPrefix("/") { return "must be relative to the repository root (remove the leading '/')" }
        if path.split(separator: "/").contains("..") { return "must not contain '..'" }
        if path.contains("\\") { return "must use '/' as separator" }
        if path.contains(where: { $0.asciiValue.map { $0 < 32 } ?? false }) { return "must not contain control characters" }
        return nil
    }

    /// Path components without `.` and empty parts; empty means the repository root.
    static func components(of path: String) -> [Substring] {
        path.split(separator: "/").filter { $0 != "." }
    }
}

// MARK: - The parser proper

extension PolicyParser {
    /// One parse: the reader collects diagnostics; `run` returns a policy built from whatever parsed
    /// (callers drop it when there are errors). The policy-level keys are read here; each concern has its
    /// own file: `PolicyParser+Stage.swift` (stage keys), `+Health.swift` (health checks), `+Calendar.swift`
    /// (`timezone`, `windows`, `freeze`), `+CrossStage.swift` (rules across stages), `+Regex.swift` (`tags`),
    /// `+Rollback.swift` (`rollback`, in the policy and in stages).
    struct Parser {
        let reader: YAMLReader
        let path: String
        /// The config's stage defaults and company-wide freezes.
        let shared: SharedSettings
        var policyName: String?
        var policyNameMark: Mark?
        /// The policy's `defaults:` block, once read.
        var policyDefaults: StageDefaults?

        /// A mapping's entries by key, as `YAMLReader.entries` returns them.
        typealias Entries = [String: (key: Node, value: Node)]

        init(reader: YAMLReader, path: String, shared: SharedSettings = .none) {
            self.reader = reader
            self.path = path
            self.shared = shared
        }

        /// A parsed stage plus the nodes later checks point at.
        struct StageDraft {
            var stage: Stage
            var mapping: Node.Mapping
            var nameNode: Node?
            var fromNode: Node?
            var pathNodes: [Node]
            var keyNodes: [String: Node]
            var label: String
            /// The stage's own `rollback` block, if it has one (its settings are already in `stage.rollback`).
            var rollback: RollbackBlock?
        }

        mutating func run(yaml: String) -> Policy? {
            guard let root = reader.compose(yaml) else {
                if !reader.hasErrors {
                    reader.error("the file is empty: a policy needs 'version', 'name', 'images' and 'stages'",
                                 line: 1, column: 1)
                }
                return nil
            }
            guard let top = reader.mapping(root, "a policy file") else { return nil }

            // Read the name first so every later message can say which policy it is about.
            var label = "the policy"
            if let nameNode = top["name"], case let .scalar(scalar) = nameNode, !scalar.string.isEmpty {
                label = "policy '\(YAMLReader.excerpt(scalar.string))'"
            }
            let context = "in \(label)"
            let entries = reader.entries(top, allowed: PolicyParser.policyKeys, context: context,
                                         extensionPrefix: PolicyParser.extensionPrefix)

            if let version = entries["version"] {
                if let value = reader.int(version.value, "'version'"), value != PolicyParser.supportedVersion {
                    reader.error("unsupported policy version \(value): this promobot understands version \(PolicyParser.supportedVersion)",
                                 at: version.value)
                }
            } else {
                reader.missing("version", "\(context) (add 'version: 1')", at: top.mark)
            }

            var name = ""
            if let entry = entries["name"] {
                if let value = reader.string(entry.value, "'name' \(context)") {
                    policyName = value
                    policyNameMark = entry.value.mark
                    name = value
                    if !PolicyParser.isValidName(value) {
                        reader.error("invalid policy name '\(value)': use 1-63 lowercase letters, digits and '-', not starting or ending with '-'",
                                     at: entry.value)
                    }
                }
            } else {
                reader.missing("name", context, at: top.mark)
            }

            let defaultRepository = entries["repository"].flatMap { repository($0.value, "'repository' \(context)") }
            let defaultBranch = entries["branch"].flatMap { branch($0.value, "'branch' \(context)") }

            var images: [String] = []
            if let entry = entries["images"] {
                images = parseImages(entry.value, context: context)
            } else {
                reader.missing("images", context, at: top.mark)
            }

            let policyRollback = entries["rollback"].flatMap { parseRollback($0.value, owner: label, inherited: nil) }
            policyDefaults = entries["defaults"].flatMap { entry in
                parseDefaults(entry.value, label: "'defaults' \(context)") { [path] key in
                    .policyDefaults(path: path, line: key.mark?.line ?? 0)
                }
            }

            var drafts: [StageDraft] = []
            if let entry = entries["stages"] {
                if let items = reader.list(entry.value, "'stages' \(context)") {
                    if items.count > PolicyParser.maxStages {
                        reader.error("'stages' \(context) lists \(items.count) stages; a policy may have at most \(PolicyParser.maxStages): split it into several policies",
                                     at: entry.value)
                    } else {
                        for (index, item) in items.enumerated() {
                            if let draft = parseStage(item, index: index, defaultRepository: defaultRepository,
                                                      defaultBranch: defaultBranch, policyContext: context,
                                                      policyHasRepository: entries["repository"] != nil,
                                                      policyHasBranch: entries["branch"] != nil,
                                                      policyRollback: policyRollback) {
                                drafts.append(draft)
                            }
                        }
                    }
                }
            } else {
                reader.missing("stages", context, at: top.mark)
            }
            checkStages(&drafts, policyContext: context)
            checkRollbacks(drafts, policyRollback: policyRollback)
            let stages = drafts.map { draft in withCompanyFreezes(draft.stage, policy: name) }
            return Policy(name: name, sourcePath: path, images: images, stages: stages)
        }

        // MARK: Policy level

        func parseImages(_ node: Node, context: String) -> [String] {
            if case let .sequence(sequence) = node, sequence.count > PolicyParser.maxImages {
                reader.error("'images' \(context) lists \(sequence.count) images; a policy may have at most \(PolicyParser.maxImages): split it into several policies",
                             at: node)
                return []
            }
            guard let entries = reader.stringList(node, "'images' \(context)") else { return [] }
            var seen: [String: Node] = [:]
            var images: [String] = []
            for (image, imageNode) in entries {
                if let problem = ImageName.problem(in: image) {
                    reader.error("invalid image name '\(image)': \(problem)", at: imageNode)
                    continue
                }
                if let first = seen[image] {
                    reader.error("duplicate image '\(image)' (already listed at line \(first.mark?.line ?? 0))", at: imageNode)
                    continue
                }
                seen[image] = imageNode
                images.append(image)
            }
            return images
        }

        func repository(_ node: Node, _ what: String) -> String? {
            guard let value = reader.string(node, what) else { return nil }
            guard PolicyParser.isValidRepository(value) else {
                reader.error("invalid repository '\(value)': use a GitLab project path like 'group/project' (no URL, no '.git') or a numeric project id",
                             at: node)
                return nil
            }
            return value
        }

        func branch(_ node: Node, _ what: String) -> String? {
            guard let value = reader.string(node, what) else { return nil }
            guard PolicyParser.isValidBranch(value) else {
                reader.error("invalid branch name '\(value)': not a valid git branch name", at: node)
                return nil
            }
            return value
        }
    }
}
