import Foundation
import Yams

/// Reads a composed YAML tree while collecting diagnostics with file:line:col.
///
/// Every accessor reports what is wrong with a node and returns nil instead of throwing, so a
/// parser can keep going and report every problem in a file. Single-use, not thread-safe.
final class YAMLReader {
    let path: String
    private(set) var diagnostics: [Diagnostic] = []

    init(path: String) { self.path = path }

    var hasErrors: Bool { diagnostics.contains(where: \.isError) }

    // MARK: - Reporting

    func error(_ message: String, at mark: Mark?) {
        report(.error, message, at: mark)
    }

    func error(_ message: String, at node: Node?) { error(message, at: node?.mark) }

    /// An error at an explicit 1-based position (Yams' `Mark` cannot be built outside Yams).
    func error(_ message: String, line: Int, column: Int) {
        diagnostics.append(Diagnostic(path: path, line: line, column: column, message: message))
    }

    func warning(_ message: String, at node: Node?) { report(.warning, message, at: node?.mark) }

    private func report(_ severity: Diagnostic.Severity, _ message: String, at mark: Mark?) {
        diagnostics.append(Diagnostic(path: path, line: mark?.line ?? 1, column: mark?.column ?? 1,
                                      severity: severity, message: message))
    }

    // MARK: - Composing

    /// Composes `yaml` into a node tree; nil (with a diagnostic) on a syntax error, nil without one for an empty file.
    func compose(_ yaml: String) -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            switch error {
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
                 let .composer(context, problem, mark, _):
                var message = "invalid YAML: \(problem)"
                if let context, !context.text.isEmpty {
                    message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
                }
                self.error(message, at: mark)
            case let .duplicatedKeysInMapping(duplicates, context):
                let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
                self.error("duplicate key \(keys): a key may appear only once in the same mapping", at: context.mark)
            case let .reader(problem, _, _, _):
                diagnostics.append(Diagnostic(path: path, line: 0, column: 0,
                                              message: "cannot read the file as UTF-8 YAML: \(problem)"))
            default:
                diagnostics.append(Diagnostic(path: path, line: 0, column: 0, message: "invalid YAML: \(error)"))
            }
            return nil
        } catch {
            diagnostics.append(Diagnostic(path: path, line: 0, column: 0, message: "invalid YAML: \(error)"))
            return nil
        }
    }

    // MARK: - Shapes

    /// A short description of a node for "found ..." messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case let .scalar(scalar):
            if isNull(node) { return "an empty value" }
            let text = scalar.string.count > 40 ? String(scalar.string.prefix(40)) + "..." : scalar.string
            return "'\(text)'"
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard case let .scalar(scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The node as a mapping, or a "must be a mapping" error.
    func mapping(_ node: Node, _ what: String) -> Node.Mapping? {
        if case let .mapping(mapping) = node { return mapping }
        error("\(what) must be a mapping of keys to values, found \(Self.describe(node))", at: node)
        return nil
    }

    /// The entries of `mapping` by key, reporting keys outside `allowed` (with a suggestion).
    ///
    /// `secretKeys` get a dedicated message instead of "unknown key" (used by the config parser).
    func entries(
        _ mapping: Node.Mapping, allowed: [String], context: String,
        unknownKeyMessage: ((String) -> String?)? = nil
    ) -> [String: (key: Node, value: Node)] {
        var result: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard case let .scalar(scalar) = key, !Self.isNull(key) else {
                error("keys must be plain words, found \(Self.describe(key)) \(context)", at: key)
                continue
            }
            let name = scalar.string
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
    func missing(_ key: String, _ context: String, at mark: Mark?) {
        error("missing required key '\(key)' \(context)", at: mark)
    }

    // MARK: - Scalars

    /// Any non-empty scalar as text.
    func string(_ node: Node, _ what: String) -> String? {
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

    func int(_ node: Node, _ what: String) -> Int? {
        if case .scalar = node, !Self.isNull(node), let value = node.int { return value }
        error("\(what) must be a whole number, found \(Self.describe(node))", at: node)
        return nil
    }

    func number(_ node: Node, _ what: String) -> Double? {
        if case .scalar = node, !Self.isNull(node), let value = node.float ?? node.int.map(Double.init),
           value.isFinite {
            return value
        }
        error("\(what) must be a number, found \(Self.describe(node))", at: node)
        return nil
    }

    func bool(_ node: Node, _ what: String) -> Bool? {
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
    func list(_ node: Node, _ what: String, allowEmpty: Bool = false) -> [Node]? {
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
    func stringList(_ node: Node, _ what: String, allowEmpty: Bool = false) -> [(value: String, node: Node)]? {
        guard let items = list(node, what, allowEmpty: allowEmpty) else { return nil }
        return items.compactMap { item in string(item, "each entry of \(what)").map { ($0, item) } }
    }
}
