import Foundation
import Yams

/// Reads a composed YAML tree while collecting diagnostics with file:line:col.
///
/// Every accessor reports what is wrong with a node and returns nil instead of throwing, so a
/// parser can keep going and report every problem in a file. Single-use, not thread-safe.
package final class YAMLReader {
    package let path: String
    /// What the file is, for messages about the whole file: "a policy file", "the config file".
    package let fileKind: String
    /// Most diagnostics kept for one file. A generated or pasted file can hold a problem per line; past
    /// this many, the rest are counted but neither worded (messages are built lazily) nor printed.
    static let maxDiagnostics = 1_000

    /// Longest message kept whole; longer ones keep their start and end (the advice is at the end).
    static let maxMessageBytes = 4_096

    private var kept: [Diagnostic] = []
    private var dropped = 0
    private var droppedErrors = 0
    private var errorCount = 0

    package init(path: String, fileKind: String = "a policy file") {
        self.path = path
        self.fileKind = fileKind
    }

    /// Every diagnostic kept, then (when some were dropped) one whole-file note saying how many.
    package var diagnostics: [Diagnostic] {
        guard dropped > 0 else { return kept }
        // An error when errors were dropped, so the file stays invalid in every report.
        return kept + [Diagnostic(path: path, line: 0, column: 0, severity: droppedErrors > 0 ? .error : .warning, message:
            "\(dropped) more problems not shown: only the first \(Self.maxDiagnostics) of a file are reported; fix those and run again")]
    }

    package var hasErrors: Bool { errorCount > 0 }

    // MARK: - Reporting

    package func error(_ message: @autoclosure () -> String, at mark: Mark?) {
        report(.error, message(), at: mark)
    }

    package func error(_ message: @autoclosure () -> String, at node: Node?) { report(.error, message(), at: node?.mark) }

    /// An error at an explicit 1-based position (Yams' `Mark` cannot be built outside Yams); 0, 0 for the whole file.
    package func error(_ message: @autoclosure () -> String, line: Int, column: Int) {
        record(.error, message(), line: line, column: column)
    }

    package func warning(_ message: @autoclosure () -> String, at node: Node?) { report(.warning, message(), at: node?.mark) }

    private func report(_ severity: Diagnostic.Severity, _ message: @autoclosure () -> String, at mark: Mark?) {
        record(severity, message(), line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// The one place a diagnostic is kept or counted; `message` is only built when it is kept.
    private func record(_ severity: Diagnostic.Severity, _ message: @autoclosure () -> String, line: Int, column: Int) {
        if severity == .error { errorCount += 1 }
        guard kept.count < Self.maxDiagnostics else {
            dropped += 1
            if severity == .error { droppedErrors += 1 }
            return
        }
        var text = message()
        if text.utf8.count > Self.maxMessageBytes {
            // A backstop: each echoed value is in the file, but one message should stay one readable line.
            text = String(text.prefix(Self.maxMessageBytes / 4)) + " ... " + String(text.suffix(200))
        }
        kept.append(Diagnostic(path: path, line: line, column: column, severity: severity, message: text))
    }

    // MARK: - Composing

    /// Composes `yaml` into a node tree; nil (with a diagnostic) on a syntax error or a broken limit, nil
    /// without one for an empty file.
    ///
    /// `YAMLLimits` checks size, nesting, aliases and the document count first, so Yams never composes a
    /// file that would take minutes or gigabytes; Yams' own errors are mapped to the same words as a fallback.
    package func compose(_ yaml: String) -> Node? {
        if let violation = YAMLLimits.check(yaml, fileKind: fileKind) {
            error(violation.message, line: violation.line, column: violation.column)
            return nil
        }
        do {
            return try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            switch error {
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
                 let .composer(context, problem, mark, _):
                let where_ = context.flatMap { $0.text.isEmpty ? nil : ($0.text, $0.mark.line, $0.mark.column) }
                self.error(Self.syntaxMessage(problem: problem, context: where_, fileKind: fileKind), at: mark)
            case let .duplicatedKeysInMapping(duplicates, context):
                let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
                self.error("duplicate key \(keys): a key may appear only once in the same mapping", at: context.mark)
            case let .reader(problem, offset, value, _):
                let (line, column) = offset.map { Self.position(ofByte: $0, in: yaml) } ?? (0, 0)
                self.error(Self.readerMessage(problem: problem, value: Int(value)), line: line, column: column)
            default:
                self.error("invalid YAML: \(error)", line: 0, column: 0)
            }
            return nil
        } catch {
            self.error("invalid YAML: \(error)", line: 0, column: 0)
            return nil
        }
    }

    /// libyaml's scanner, parser and composer problems in words a policy author can act on.
    ///
    /// `context` is what libyaml was reading and where it started (`while parsing a flow sequence`).
    static func syntaxMessage(problem: String, context: (text: String, line: Int, column: Int)?,
                              fileKind: String = "a YAML file") -> String {
        let whileText = context.map { " (\($0.text) at line \($0.line), column \($0.column))" } ?? ""
        switch problem {
        case "found unknown escape character":
            return "invalid YAML: unknown escape sequence in a double-quoted string\(whileText): inside double quotes a backslash starts an escape; write values with backslashes, such as regular expressions, in single quotes (tags: '^\\d+$')"
        case "found undefined alias":
            return "invalid YAML: an alias ('*name') refers to no anchor: define '&name' on a value before the first '*name'"
        case "but found another document":
            return "a second YAML document starts here: \(fileKind) holds exactly one document (remove this '---' and what follows, or move it to its own file)"
        case _ where problem.hasPrefix("Maximum nesting level reached"):
            return YAMLLimits.nestingMessage(fileKind: fileKind)
        default:
            return "invalid YAML: \(problem)\(whileText)"
        }
    }

    /// libyaml's reader problems (bytes that are not YAML text); `value` is the offending character or byte.
    static func readerMessage(problem: String, value: Int) -> String {
        switch problem {
        case "control characters are not allowed":
            let name = value == 0 ? " (NUL)" : value == 0x1B ? " (ESC)" : ""
            let hex = String(value, radix: 16, uppercase: true)
            let code = String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            return "the file contains the control character U+\(code)\(name) here: YAML files must be text; remove it or write it as an escape in a double-quoted string"
        default:
            return "cannot read the file as UTF-8 YAML: \(problem) here"
        }
    }

    /// 1-based line and column (Unicode scalars) of a UTF-8 byte offset into `text`.
    static func position(ofByte offset: Int, in text: String) -> (line: Int, column: Int) {
        Array(text.utf8).withUnsafeBufferPointer { YAMLLimits.position(ofByte: offset, in: $0) }
    }

    // MARK: - Shapes

    /// A short description of a node for "found ..." messages.
    package static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case let .scalar(scalar):
            if isNull(node) { return "an empty value" }
            return "'\(excerpt(scalar.string, limit: 40))'"
        }
    }

    /// `text`, or its first `limit` characters and `...`: for values echoed into many messages (a stage
    /// name is in every message about the stage), so a huge value cannot multiply the output.
    package static func excerpt(_ text: String, limit: Int = 80) -> String {
        text.count > limit ? String(text.prefix(limit)) + "..." : text
    }

    package static func isNull(_ node: Node) -> Bool {
        guard case let .scalar(scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The node as a mapping, or a "must be a mapping" error. YAML merge keys are applied (see
    /// `expandingMergeKeys`), so every parser built on this reader understands `<<: *shared`.
    package func mapping(_ node: Node, _ what: String) -> Node.Mapping? {
        if case let .mapping(mapping) = node { return expandingMergeKeys(mapping) }
        error("\(what) must be a mapping of keys to values, found \(Self.describe(node))", at: node)
        return nil
    }

    /// `mapping` with its merge keys applied: `<<: *base` or `<<: [*first, *second]` adds the keys of the
    /// merged mappings that `mapping` does not set itself (its own keys win; among several merged
    /// mappings, the first that sets a key wins), as YAML's merge key type specifies.
    ///
    /// Merged values keep their own marks, so a problem inside a shared block is reported at the line
    /// where the value is written, not at the alias. Recursion is bounded by `YAMLLimits`' nesting and
    /// alias limits, which the file passed before it was composed (YAML has no cyclic aliases).
    func expandingMergeKeys(_ mapping: Node.Mapping) -> Node.Mapping {
        guard mapping.contains(where: { Self.isMergeKey($0.key) }) else { return mapping }
        var own: [(Node, Node)] = []
        var merged: [(Node, Node)] = []
        for (key, value) in mapping {
            guard Self.isMergeKey(key) else {
                own.append((key, value))
                continue
            }
            let sources: [Node]
            if case let .sequence(sequence) = value { sources = Array(sequence) } else { sources = [value] }
            for source in sources {
                guard case let .mapping(shared) = source else {
                    error("'<<' merges mappings into this one: its value must be a mapping, usually an alias such as '*defaults' (or a list of them), found \(Self.describe(source))",
                          at: source)
                    continue
                }
                merged += expandingMergeKeys(shared).map { ($0.key, $0.value) }
            }
        }
        var seen = Set(own.compactMap { $0.0.scalar?.string })
        var pairs = own
        for (key, value) in merged where key.scalar.map({ seen.insert($0.string).inserted }) ?? true {
            pairs.append((key, value))
        }
        return Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark)
    }

    /// A plain `<<` key: YAML's merge key (a quoted '<<' is an ordinary key).
    static func isMergeKey(_ node: Node) -> Bool {
        guard case let .scalar(scalar) = node else { return false }
        return scalar.string == "<<" && scalar.style == .plain
    }

    /// The entries of `mapping` by key, reporting keys outside `allowed` (with a suggestion).
    ///
    /// `secretKeys` get a dedicated message instead of "unknown key" (used by the config parser).
    /// `extensionPrefix`: keys starting with it (`x-`) are ignored, so a file's top level can hold anchors
    /// for `<<` merges (`x-prod: &prod {...}`).
    package func entries(
        _ mapping: Node.Mapping, allowed: [String], context: String, extensionPrefix: String? = nil,
        unknownKeyMessage: ((String) -> String?)? = nil
    ) -> [String: (key: Node, value: Node)] {
        var result: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard case let .scalar(scalar) = key, !Self.isNull(key) else {
                error("keys must be plain words, found \(Self.describe(key)) \(context)", at: key)
                continue
            }
            let name = scalar.string
            if let extensionPrefix, name.hasPrefix(extensionPrefix) { continue }
            if allowed.contains(name) {
                result[name] = (key, value)
            } else if let custom = unknownKeyMessage?(name) {
                error(custom, at: key)
            } else {
                error("unknown key '\(name)' \(context)\(Suggestion.didYouMean(name, in: allowed))", at: key)
            }
        }
        return result
    }

    /// Reports `key` as missing from the mapping at `mark`.
    package func missing(_ key: String, _ context: String, at mark: Mark?) {
        error("missing required key '\(key)' \(context)", at: mark)
    }

    // MARK: - Scalars

    /// Any non-empty scalar as text.
    package func string(_ node: Node, _ what: String) -> String? {
        guard case let .scalar(scalar) = node, !Self.isNull(node) else {
            error("\(what) must be a string, found \(Self.describe(node))", at: node)
            return nil
        }
        guard !scalar.string.isEmpty else {
            error("\(what) must not be empty", at: node)
            return nil
        }
        return scalar.string
    }

    package func int(_ node: Node, _ what: String) -> Int? {
        if case .scalar = node, !Self.isNull(node), let value = node.int { return value }
        if Self.isDecimalInteger(node) {
            // Digits that do not fit in 64 bits: say so rather than "not a whole number".
            error("\(what) is out of range, found \(Self.describe(node)): a whole number must lie between \(Int.min) and \(Int.max)", at: node)
        } else {
            error("\(what) must be a whole number, found \(Self.describe(node))", at: node)
        }
        return nil
    }

    package func number(_ node: Node, _ what: String) -> Double? {
        if case .scalar = node, !Self.isNull(node), let value = node.float ?? node.int.map(Double.init) {
            if value.isFinite { return value }
            if !value.isNaN, !(node.scalar?.string.lowercased().contains("inf") ?? true) {
                error("\(what) is out of range, found \(Self.describe(node)): a number must lie within ±\(Double.greatestFiniteMagnitude)", at: node)
                return nil
            }
        }
        error("\(what) must be a number, found \(Self.describe(node))", at: node)
        return nil
    }

    /// A plain scalar of an optional sign and decimal digits (whatever its size).
    static func isDecimalInteger(_ node: Node) -> Bool {
        guard case let .scalar(scalar) = node, scalar.style == .plain else { return false }
        var digits = Substring(scalar.string)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    package func bool(_ node: Node, _ what: String) -> Bool? {
        if case let .scalar(scalar) = node {
            switch scalar.string {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        error("\(what) must be true or false, found \(Self.describe(node))", at: node)
        return nil
    }

    /// A list of nodes (a single value is not promoted to a list: that hides mistakes).
    package func list(_ node: Node, _ what: String, allowEmpty: Bool = false) -> [Node]? {
        guard case let .sequence(sequence) = node else {
            error("\(what) must be a list, found \(Self.describe(node))", at: node)
            return nil
        }
        let items = Array(sequence)
        if items.isEmpty, !allowEmpty {
            error("\(what) must not be empty", at: node)
            return nil
        }
        return items
    }

    /// A list of strings, each with its node (for positions); items that are not strings are reported and skipped.
    package func stringList(_ node: Node, _ what: String, allowEmpty: Bool = false) -> [(value: String, node: Node)]? {
        guard let items = list(node, what, allowEmpty: allowEmpty) else { return nil }
        return items.compactMap { item in string(item, "each entry of \(what)").map { ($0, item) } }
    }
}
