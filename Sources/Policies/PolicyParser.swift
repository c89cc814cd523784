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

    static let policyKeys = ["version", "name", "repository", "branch", "images", "stages"]
    static let stageKeys = [
        "name", "from", "repository", "branch", "paths", "health", "soak", "merge", "approvals", "timezone",
        "windows", "freeze", "tags", "downgrade", "pick", "labels", "reviewers", "assignees",
    ]
    /// Keys that only matter when promobot promotes into a stage, i.e. not on the first stage.
    static let promotionOnlyKeys = [
        "soak", "merge", "approvals", "windows", "freeze", "tags", "downgrade", "pick", "labels", "reviewers",
        "assignees",
    ]

    /// Parses `yaml` (the contents of the file at `path`).
    ///
    /// - Returns: the policy when the file has no errors (warnings allowed), and every diagnostic,
    ///   sorted by position. `path` is only used in diagnostics and `Policy.sourcePath`.
    public static func parse(yaml: String, path: String) -> (policy: Policy?, diagnostics: [Diagnostic]) {
        let result = parseDetailed(yaml: yaml, path: path)
        return (result.policy, result.diagnostics)
    }

    /// What the loader needs for cross-file checks, even when the file has errors.
    struct Detailed {
        var policy: Policy?
        var name: String?
        var nameMark: Mark?
        var diagnostics: [Diagnostic]
    }

    static func parseDetailed(yaml: String, path: String) -> Detailed {
        let reader = YAMLReader(path: path)
        var parser = Parser(reader: reader, path: path)
        let policy = parser.run(yaml: yaml)
        return Detailed(policy: reader.hasErrors ? nil : policy, name: parser.policyName,
                        nameMark: parser.policyNameMark, diagnostics: Diagnostic.sortedByPosition(reader.diagnostics))
    }

    // MARK: - Shared rules

    /// Policy and stage names: they end up in branch names and MR titles.
    static func isValidName(_ name: String) -> Bool {
        guard (1...63).contains(name.count), let first = name.first, first != "-", name.last != "-" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }

    /// A GitLab project path (`group/sub/project`) or a numeric project id.
    static func isValidRepository(_ text: String) -> Bool {
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

    /// Strict `YYYY-MM-DD` that names a real calendar day.
    static func parseDate(_ text: String) -> LocalDate? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days ? LocalDate(year: year, month: month, day: day) : nil
    }

    /// `HH:MM-HH:MM` to minutes after midnight; `24:00` is allowed as an end.
    static func parseHours(_ text: String) -> (start: Int, end: Int)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2,
              let start = parseClock(parts[0].trimmingCharacters(in: .whitespaces), allow24: false),
              let end = parseClock(parts[1].trimmingCharacters(in: .whitespaces), allow24: true)
        else { return nil }
        return (start, end)
    }

    private static func parseClock(_ text: String, allow24: Bool) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let hour = Int(parts[0]), let minute = Int(parts[1]),
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              (0...59).contains(minute)
        else { return nil }
        if hour == 24, minute == 0, allow24 { return 1440 }
        guard (0...23).contains(hour) else { return nil }
        return hour * 60 + minute
    }

    /// Longest `tags` regular expression, in characters. Tags are at most 128 characters; a pattern longer
    /// than this is a mistake, and the bound keeps compiling it cheap (a 1 MB pattern took ~500 MB).
    public static let maxRegexLength = 256
    /// Deepest nesting of groups `(` and character classes `[` in a `tags` pattern. Swift's regex parser
    /// recurses per level and overflows the stack at a few thousand; real patterns nest two or three.
    public static let maxRegexNesting = 16

    /// Nil when `pattern` is within the limits and compiles both as a Swift `Regex` and as an
    /// `NSRegularExpression`, else why not. The limits are checked first: the compilers are never handed
    /// a pattern that could exhaust the stack or memory.
    static func regexProblem(_ pattern: String) -> String? {
        if pattern.count > maxRegexLength {
            return "it is \(pattern.count) characters long; a tag pattern may be at most \(maxRegexLength)"
        }
        if regexNesting(pattern) > maxRegexNesting {
            return "groups '(' and classes '[' nest more than \(maxRegexNesting) levels deep"
        }
        if let repeated = nestedRepetition(pattern) {
            return "the group '\(YAMLReader.excerpt(repeated, limit: 40))' repeats something that itself repeats, which can take exponential time to match (the regex engine has no time limit); repeat it a bounded number of times, e.g. {0,3}, or write the pattern without nesting '+' or '*'"
        }
        do {
            _ = try Regex(pattern)
        } catch {
            return String(describing: error)
        }
        do {
            _ = try NSRegularExpression(pattern: pattern)
        } catch {
            return "not accepted by NSRegularExpression"
        }
        return nil
    }

    /// The deepest nesting of unescaped `(` and `[` (an upper bound on what the regex parser recurses into:
    /// a `(` inside a class counts too, which only errs on the safe side).
    static func regexNesting(_ pattern: String) -> Int {
        var depth = 0, deepest = 0, escaped = false
        for character in pattern.unicodeScalars {
            if escaped { escaped = false; continue }
            switch character {
            case "\\": escaped = true
            case "(", "[":
                depth += 1
                deepest = max(deepest, depth)
            case ")", "]": depth = max(depth - 1, 0)
            default: break
            }
        }
        return deepest
    }

    /// The first group that an unbounded quantifier (`*`, `+`, `{n,}`, `{n,m}` with m > 10) repeats while
    /// the group itself holds an unbounded quantifier, e.g. `(a+)+`; nil when there is none.
    ///
    /// Swift's `Regex` backtracks without a step limit or cancellation, so `^(a+)+$` against a 30-character
    /// tag runs for hours inside the planner. Nested repetition is the usual cause; refusing it is the
    /// conservative check ("star height" at most 1) that safe-regex linters use. Alternation inside a
    /// repeated group (`(a|a)+`) can be slow too but is not detected.
    static func nestedRepetition(_ pattern: String) -> String? {
        let scalars = Array(pattern.unicodeScalars)
        // Per open group: where it starts and whether it holds an unbounded quantifier.
        var groups: [(start: Int, repeats: Bool)] = []
        var lastGroup: (start: Int, end: Int, repeats: Bool)?  // the atom just closed, if it was a group
        var index = 0
        func markRepeats() { if !groups.isEmpty { groups[groups.count - 1].repeats = true } }
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\\":
                index += 2
                lastGroup = nil
                continue
            case "[":
                // Skip the class (classes may nest in Swift's syntax); it is one atom.
                var depth = 0
                while index < scalars.count {
                    if scalars[index] == "\\" { index += 2; continue }
                    if scalars[index] == "[" { depth += 1 }
                    if scalars[index] == "]" { depth -= 1; if depth == 0 { break } }
                    index += 1
                }
                lastGroup = nil
            case "(":
                groups.append((index, false))
                lastGroup = nil
            case ")":
                if let group = groups.popLast() {
                    lastGroup = (group.start, index, group.repeats)
                    if group.repeats { markRepeats() }
                }
            case "*", "+", "{":
                var unbounded = scalar != "{"
                if scalar == "{" {
                    var end = index + 1
                    while end < scalars.count, scalars[end] != "}" { end += 1 }
                    let body = String(String.UnicodeScalarView(scalars[(index + 1)..<min(end, scalars.count)]))
                    let bounds = body.split(separator: ",", omittingEmptySubsequences: false)
                    guard bounds.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }), !(bounds.first ?? "").isEmpty
                    else { lastGroup = nil; break }  // a literal '{'
                    if bounds.count == 2 { unbounded = bounds[1].isEmpty || (Int(bounds[1]) ?? Int.max) > 10 }
                    index = end
                }
                if unbounded {
                    if let group = lastGroup, group.repeats {
                        return String(String.UnicodeScalarView(scalars[group.start...group.end]))
                    }
                    markRepeats()
                }
                lastGroup = nil
            default:
                lastGroup = nil
            }
            index += 1
        }
        return nil
    }

    /// ` (did you mean ...)` for an unknown time zone. IANA names are case-sensitive, so `utc` or
    /// `europe/berlin` get the exact spelling rather than an edit-distance guess.
    static func timeZoneSuggestion(_ value: String) -> String {
        let lowered = value.lowercased()
        if ["utc", "gmt", "z", "zulu", "etc/utc", "universal"].contains(lowered) {
            return " (did you mean 'UTC' or 'Etc/UTC'? time zone names are case-sensitive)"
        }
        if let exact = TimeZone.knownTimeZoneIdentifiers.first(where: { $0.lowercased() == lowered }) {
            return " (did you mean '\(exact)'? time zone names are case-sensitive)"
        }
        return Suggestion.didYouMean(value, in: TimeZone.knownTimeZoneIdentifiers)
    }

    /// Why a stage path is not acceptable, or nil.
    static func pathProblem(_ path: String) -> String? {
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
    /// (callers drop it when there are errors).
    fileprivate struct Parser {
        let reader: YAMLReader
        let path: String
        var policyName: String?
        var policyNameMark: Mark?

        init(reader: YAMLReader, path: String) {
            self.reader = reader
            self.path = path
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
            var context = "in the policy"
            if let nameNode = top["name"], case let .scalar(scalar) = nameNode, !scalar.string.isEmpty {
                context = "in policy '\(YAMLReader.excerpt(scalar.string))'"
            }
            let entries = reader.entries(top, allowed: PolicyParser.policyKeys, context: context)

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
                                                      policyHasBranch: entries["branch"] != nil) {
                                drafts.append(draft)
                            }
                        }
                    }
                }
            } else {
                reader.missing("stages", context, at: top.mark)
            }
            checkStages(&drafts, policyContext: context)
            return Policy(name: name, sourcePath: path, images: images, stages: drafts.map(\.stage))
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

        // MARK: Stage level

        /// `policyHas...`: the policy sets the key (even to an invalid value, already reported), so a
        /// stage without it is not reported again.
        func parseStage(_ node: Node, index: Int, defaultRepository: String?, defaultBranch: String?,
                        policyContext: String, policyHasRepository: Bool, policyHasBranch: Bool) -> StageDraft? {
            guard let mapping = reader.mapping(node, "stage \(index + 1) \(policyContext)") else { return nil }
            var label = "stage \(index + 1)"
            if let nameNode = mapping["name"], case let .scalar(scalar) = nameNode, !scalar.string.isEmpty {
                label = "stage '\(YAMLReader.excerpt(scalar.string))'"
            }
            let context = "in \(label)"
            let entries = reader.entries(mapping, allowed: PolicyParser.stageKeys, context: context)

            var stage = Stage(name: "", repository: defaultRepository ?? "", branch: defaultBranch ?? "", paths: [])
            var draft = StageDraft(stage: stage, mapping: mapping, nameNode: entries["name"]?.value,
                                   fromNode: entries["from"]?.value, pathNodes: [],
                                   keyNodes: entries.mapValues(\.key), label: label)

            if let entry = entries["name"] {
                if let value = reader.string(entry.value, "'name' \(context)") {
                    stage.name = value
                    if !PolicyParser.isValidName(value) {
                        reader.error("invalid stage name '\(value)': use 1-63 lowercase letters, digits and '-', not starting or ending with '-'",
                                     at: entry.value)
                    }
                }
            } else {
                reader.missing("name", "in stage \(index + 1) \(policyContext)", at: mapping.mark)
            }

            if let entry = entries["from"] {
                stage.from = reader.string(entry.value, "'from' \(context)")
            }

            if let entry = entries["repository"] {
                if let value = repository(entry.value, "'repository' \(context)") { stage.repository = value }
            } else if !policyHasRepository {
                reader.error("\(label) has no 'repository' and the policy sets no default: add 'repository: group/project' to the stage or the policy",
                             at: mapping.mark)
            }
            if let entry = entries["branch"] {
                if let value = branch(entry.value, "'branch' \(context)") { stage.branch = value }
            } else if !policyHasBranch {
                reader.error("\(label) has no 'branch' and the policy sets no default: add 'branch: main' to the stage or the policy",
                             at: mapping.mark)
            }

            if let entry = entries["paths"] {
                for (value, pathNode) in reader.stringList(entry.value, "'paths' \(context)") ?? [] {
                    if let problem = PolicyParser.pathProblem(value) {
                        reader.error("path '\(value)' \(context) \(problem)", at: pathNode)
                    } else {
                        stage.paths.append(value)
                        draft.pathNodes.append(pathNode)
                    }
                }
            } else {
                reader.missing("paths", context, at: mapping.mark)
            }

            if let entry = entries["health"], let items = reader.list(entry.value, "'health' \(context)", allowEmpty: true) {
                for (checkIndex, item) in items.enumerated() {
                    if let check = parseHealthCheck(item, label: "health check \(checkIndex + 1) of \(label)") {
                        stage.health.append(check)
                    }
                }
            }

            if let entry = entries["soak"] { stage.soak = duration(entry.value, "'soak' \(context)") }

            if let entry = entries["merge"], let value = reader.string(entry.value, "'merge' \(context)") {
                if let mode = MergeMode(rawValue: value) {
                    stage.merge = mode
                } else {
                    let names = MergeMode.allCases.map(\.rawValue)
                    reader.error("invalid merge mode '\(value)' \(context): use one of \(names.joined(separator: ", "))\(Suggestion.didYouMean(value, in: names))",
                                 at: entry.value)
                }
            }

            if let entry = entries["approvals"], let value = reader.int(entry.value, "'approvals' \(context)") {
                if stage.merge != .approved {
                    let mergeText = entries["merge"] == nil ? "the default 'manual'" : "'\(stage.merge.rawValue)'"
                    reader.error("'approvals' \(context) needs 'merge: approved' (merge is \(mergeText))", at: entry.key)
                } else if value < 1 {
                    reader.error("'approvals' \(context) must be at least 1 with 'merge: approved' (use 'merge: auto' to merge without approvals)",
                                 at: entry.value)
                } else {
                    stage.approvals = value
                }
            } else if stage.merge == .approved {
                stage.approvals = 1
            }

            if let entry = entries["timezone"], let value = reader.string(entry.value, "'timezone' \(context)") {
                if TimeZone(identifier: value) == nil {
                    let suggestion = PolicyParser.timeZoneSuggestion(value)
                    reader.error("unknown time zone '\(value)' \(context): use an IANA name like 'Europe/Berlin' or 'UTC'\(suggestion)",
                                 at: entry.value)
                } else {
                    stage.timezone = value
                }
            }

            if let entry = entries["windows"], let items = reader.list(entry.value, "'windows' \(context)", allowEmpty: true) {
                for (windowIndex, item) in items.enumerated() {
                    if let window = parseWindow(item, label: "window \(windowIndex + 1) of \(label)") {
                        stage.windows.append(window)
                    }
                }
            }

            if let entry = entries["freeze"], let items = reader.list(entry.value, "'freeze' \(context)", allowEmpty: true) {
                for (freezeIndex, item) in items.enumerated() {
                    if let freeze = parseFreeze(item, label: "freeze \(freezeIndex + 1) of \(label)") {
                        stage.freezes.append(freeze)
                    }
                }
            }

            if let entry = entries["tags"], let value = reader.string(entry.value, "'tags' \(context)") {
                if let problem = PolicyParser.regexProblem(value) {
                    let shown = value.count > PolicyParser.maxRegexLength ? String(value.prefix(40)) + "..." : value
                    reader.error("invalid regular expression '\(shown)' for 'tags' \(context): \(problem)", at: entry.value)
                } else {
                    stage.tagPattern = value
                }
            }

            if let entry = entries["downgrade"], let value = reader.bool(entry.value, "'downgrade' \(context)") {
                stage.allowDowngrade = value
            }

            if let entry = entries["pick"], let value = reader.string(entry.value, "'pick' \(context)") {
                if let pick = PickStrategy(rawValue: value) {
                    stage.pick = pick
                } else {
                    let names = PickStrategy.allCases.map(\.rawValue)
                    reader.error("invalid pick strategy '\(value)' \(context): use one of \(names.joined(separator: ", "))\(Suggestion.didYouMean(value, in: names))",
                                 at: entry.value)
                }
            }

            if let entry = entries["labels"] {
                for (value, labelNode) in reader.stringList(entry.value, "'labels' \(context)", allowEmpty: true) ?? [] {
                    if value.contains(",") {
                        reader.error("label '\(value)' \(context) must not contain ',' (GitLab splits labels on commas): list each label separately",
                                     at: labelNode)
                    } else {
                        stage.labels.append(value)
                    }
                }
            }
            stage.reviewers = users(entries["reviewers"]?.value, "'reviewers' \(context)")
            stage.assignees = users(entries["assignees"]?.value, "'assignees' \(context)")

            draft.stage = stage
            return draft
        }

        /// GitLab usernames; a leading `@` is accepted and dropped.
        func users(_ node: Node?, _ what: String) -> [String] {
            guard let node else { return [] }
            var users: [String] = []
            for (value, userNode) in reader.stringList(node, what, allowEmpty: true) ?? [] {
                let name = value.hasPrefix("@") ? String(value.dropFirst()) : value
                let valid = !name.isEmpty
                    && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
                if valid {
                    users.append(name)
                } else {
                    reader.error("invalid GitLab username '\(value)' in \(what)", at: userNode)
                }
            }
            return users
        }

        func duration(_ node: Node, _ what: String) -> PolicyDuration? {
            guard case let .scalar(scalar) = node, !YAMLReader.isNull(node) else {
                reader.error("\(what) must be a duration like 30m, found \(YAMLReader.describe(node))", at: node)
                return nil
            }
            switch PolicyDuration.parse(scalar.string) {
            case let .success(duration):
                return duration
            case .failure(.outOfRange):
                reader.error("duration '\(scalar.string)' for \(what) is out of range (at most \(PolicyDuration.maximum), one year)",
                             at: node)
            case .failure(.malformed):
                reader.error("invalid duration '\(scalar.string)' for \(what): use a number and a unit (d, h, m, s), e.g. 30m, 2h, 1d or 1h30m",
                             at: node)
            }
            return nil
        }

        // MARK: Health checks

        static let healthKinds = ["argocd", "http", "prometheus"]
        static let healthKeys: [String: [String]] = [
            "argocd": ["argocd", "settle"],
            "http": ["http", "status"],
            "prometheus": ["prometheus", "below", "above"],
        ]

        func parseHealthCheck(_ node: Node, label: String) -> HealthCheck? {
            guard let mapping = reader.mapping(node, label) else { return nil }
            let keys = mapping.keys.compactMap { $0.scalar?.string }
            let kinds = keys.filter { Self.healthKinds.contains($0) }
            guard kinds.count == 1, let kind = kinds.first else {
                if kinds.count > 1 {
                    reader.error("\(label) names \(kinds.map { "'\($0)'" }.joined(separator: " and ")): use one kind per list item",
                                 at: mapping.mark)
                } else {
                    let allOptions = Set(Self.healthKeys.values.joined())
                    let unknown = keys.first { !allOptions.contains($0) } ?? keys.first ?? ""
                    let suggestion = unknown.isEmpty ? "" : Suggestion.didYouMean(unknown, in: Self.healthKinds)
                    let found = unknown.isEmpty ? "" : " '\(unknown)'"
                    reader.error("unknown health check kind\(found) in \(label): use 'argocd', 'http' or 'prometheus'\(suggestion)",
                                 at: mapping.mark)
                }
                return nil
            }
            let entries = reader.entries(mapping, allowed: Self.healthKeys[kind]!, context: "in \(kind) \(label)")
            let context = "in \(label)"
            switch kind {
            case "argocd":
                guard let application = reader.string(entries["argocd"]!.value, "'argocd' (the application name) \(context)")
                else { return nil }
                let settle = entries["settle"].flatMap { duration($0.value, "'settle' \(context)") }
                if entries["settle"] != nil, settle == nil { return nil }
                return .argocd(application: application, settle: settle)
            case "http":
                guard let url = reader.string(entries["http"]!.value, "'http' (the URL) \(context)") else { return nil }
                guard let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
                      !(parsed.host ?? "").isEmpty
                else {
                    reader.error("invalid URL '\(url)' \(context): use an absolute http:// or https:// URL", at: entries["http"]!.value)
                    return nil
                }
                var status = 200
                if let entry = entries["status"] {
                    guard let value = reader.int(entry.value, "'status' \(context)") else { return nil }
                    guard (100...599).contains(value) else {
                        reader.error("'status' \(context) must be an HTTP status code between 100 and 599, found \(value)", at: entry.value)
                        return nil
                    }
                    status = value
                }
                return .http(url: url, status: status)
            default:
                guard let query = reader.string(entries["prometheus"]!.value, "'prometheus' (the PromQL query) \(context)")
                else { return nil }
                let below = entries["below"].flatMap { reader.number($0.value, "'below' \(context)") }
                let above = entries["above"].flatMap { reader.number($0.value, "'above' \(context)") }
                if (entries["below"] != nil && below == nil) || (entries["above"] != nil && above == nil) { return nil }
                if below == nil, above == nil {
                    reader.error("prometheus check \(context) needs 'below' and/or 'above': the bound(s) the query result must stay within",
                                 at: mapping.mark)
                    return nil
                }
                if let below, let above, above >= below {
                    reader.error("prometheus check \(context) can never pass: 'above' (\(above.formatted())) must be less than 'below' (\(below.formatted()))",
                                 at: entries["above"]!.value)
                    return nil
                }
                return .prometheus(query: query, below: below, above: above)
            }
        }

        // MARK: Windows and freezes

        func parseWindow(_ node: Node, label: String) -> MergeWindow? {
            guard let mapping = reader.mapping(node, label) else { return nil }
            let entries = reader.entries(mapping, allowed: ["days", "hours"], context: "in \(label)")
            var days = Set(Weekday.allCases)
            var ok = true
            if let entry = entries["days"] {
                if let values = reader.stringList(entry.value, "'days' in \(label)") {
                    days = []
                    for (value, dayNode) in values {
                        if let day = Weekday(rawValue: value.lowercased()) {
                            days.insert(day)
                        } else {
                            let names = Weekday.allCases.map(\.rawValue)
                            reader.error("unknown day '\(value)' in \(label): use \(names.joined(separator: ", "))\(Suggestion.didYouMean(value, in: names))",
                                         at: dayNode)
                            ok = false
                        }
                    }
                } else {
                    ok = false
                }
            }
            guard let entry = entries["hours"] else {
                reader.missing("hours", "in \(label) (e.g. hours: \"10:00-16:00\")", at: mapping.mark)
                return nil
            }
            guard let text = reader.string(entry.value, "'hours' in \(label)") else { return nil }
            guard let (start, end) = PolicyParser.parseHours(text) else {
                reader.error("invalid hours '\(text)' in \(label): use HH:MM-HH:MM on a 24-hour clock, e.g. \"10:00-16:00\" or \"22:00-02:00\"",
                             at: entry.value)
                return nil
            }
            guard start != end else {
                reader.error("hours '\(text)' in \(label) start and end at the same time: the window would be empty", at: entry.value)
                return nil
            }
            return ok ? MergeWindow(days: days, startMinute: start, endMinute: end) : nil
        }

        func parseFreeze(_ node: Node, label: String) -> Freeze? {
            guard let mapping = reader.mapping(node, label) else { return nil }
            let entries = reader.entries(mapping, allowed: ["from", "until", "reason"], context: "in \(label)")
            func date(_ key: String) -> LocalDate? {
                guard let entry = entries[key] else {
                    reader.missing(key, "in \(label)", at: mapping.mark)
                    return nil
                }
                guard let text = reader.string(entry.value, "'\(key)' in \(label)") else { return nil }
                guard let date = PolicyParser.parseDate(text) else {
                    reader.error("invalid date '\(text)' for '\(key)' in \(label): use YYYY-MM-DD (a real calendar day)", at: entry.value)
                    return nil
                }
                return date
            }
            let from = date("from"), until = date("until")
            let reason = entries["reason"].flatMap { reader.string($0.value, "'reason' in \(label)") }
            guard let from, let until else { return nil }
            guard from <= until else {
                reader.error("\(label) ends (\(until)) before it starts (\(from))", at: entries["until"]!.value)
                return nil
            }
            return Freeze(from: from, until: until, reason: reason)
        }

        // MARK: Across stages

        func checkStages(_ drafts: inout [StageDraft], policyContext: String) {
            // Duplicate names.
            var firstIndex: [String: Int] = [:]
            for (index, draft) in drafts.enumerated() where !draft.stage.name.isEmpty {
                if let first = firstIndex[draft.stage.name] {
                    let line = drafts[first].nameNode?.mark?.line ?? 0
                    reader.error("duplicate stage name '\(draft.stage.name)' \(policyContext) (first defined at line \(line))",
                                 at: draft.nameNode)
                } else {
                    firstIndex[draft.stage.name] = index
                }
            }
            let names = drafts.map(\.stage.name).filter { !$0.isEmpty }

            // `from`: default previous stage; must name an earlier stage.
            for index in drafts.indices {
                let name = drafts[index].stage.name
                guard let from = drafts[index].stage.from else {
                    drafts[index].stage.from = index > 0 ? drafts[index - 1].stage.name : nil
                    continue
                }
                let node = drafts[index].fromNode
                let label = drafts[index].label
                if from == name {
                    reader.error("\(label) cannot promote from itself: 'from' must name an earlier stage", at: node)
                } else if let target = firstIndex[from] {
                    if target > index {
                        reader.error("\(label) cannot promote from '\(from)', which comes later: list stages upstream first (no cycles)",
                                     at: node)
                    }
                } else {
                    reader.error("\(label) promotes from unknown stage '\(from)'\(Suggestion.didYouMean(from, in: names))",
                                 at: node)
                }
            }

            // First stage: CI writes it; promotion settings have no effect there.
            if let first = drafts.first {
                for key in PolicyParser.promotionOnlyKeys {
                    if let keyNode = first.keyNodes[key] {
                        reader.warning("'\(key)' has no effect on the first \(first.label): CI writes it and promobot never promotes into it",
                                       at: keyNode)
                    }
                }
            }
            // Health checks on a stage nobody promotes from are never run.
            let upstreams = Set(drafts.compactMap { draft in draft.stage.from.flatMap { $0 == draft.stage.name ? nil : $0 } })
            for draft in drafts where !draft.stage.health.isEmpty {
                if !upstreams.contains(draft.stage.name), let keyNode = draft.keyNodes["health"] {
                    reader.warning("health checks on \(draft.label) never run: they gate promotions out of a stage, and no stage promotes from it",
                                   at: keyNode)
                }
            }

            // Two stages must not write the same files in the same repository and branch.
            for overlap in PathOverlaps.find(drafts.map { ($0.stage.repository, $0.stage.branch, $0.stage.paths) }) {
                let later = drafts[overlap.stage], earlier = drafts[overlap.earlierStage]
                let laterPath = later.stage.paths[overlap.path]
                let other = YAMLReader.excerpt(earlier.stage.paths[overlap.earlierPath])
                reader.error("path '\(laterPath)' of \(later.label) overlaps path '\(other)' of \(earlier.label) in \(YAMLReader.excerpt(later.stage.repository)) (branch \(YAMLReader.excerpt(later.stage.branch))): stages must not share files",
                             at: later.pathNodes[overlap.path])
            }
        }
    }
}
