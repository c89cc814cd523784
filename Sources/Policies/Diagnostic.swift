import Foundation
import Manifests

/// One problem found in a policy or config file, with the position it points at.
///
/// Diagnostics are values, not errors: the parsers collect every problem they find and hand
/// them all back, so `promobot validate` can report a whole file in one run.
/// A value type, safe to share across threads.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How serious a diagnostic is. Only errors make a file invalid (and `validate` exit 1).
    public enum Severity: String, Sendable, Hashable, CaseIterable, Codable {
        case error
        case warning
    }

    /// The file, as given to the parser or loader.
    public var path: String
    /// 1-based line; 0 when the problem is about the whole file (e.g. it cannot be read).
    public var line: Int
    /// 1-based column, counted in Unicode scalars like libyaml; 0 with `line` 0.
    public var column: Int
    public var severity: Severity
    /// One sentence saying what is wrong and, where it helps, what to write instead.
    public var message: String

    /// Creates a diagnostic; `line`/`column` are 1-based (0 for "whole file").
    public init(path: String, line: Int, column: Int, severity: Severity = .error, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
    }

    /// Compiler-style text: `path:line:col: error: message` (`path: error: message` without a position).
    ///
    /// Always exactly one line: control characters in the path and the message (which quotes values from
    /// the file) are written as visible escapes, so a value holding a newline or an ANSI sequence cannot
    /// forge another diagnostic in a CI log. `path` and `message` keep the raw text for JSON reports.
    public var formatted: String {
        let shownPath = EchoText.escapingControls(path)
        let position = line > 0 ? "\(shownPath):\(line):\(column)" : shownPath
        return "\(position): \(severity.rawValue): \(EchoText.escapingControls(message))"
    }

    public var description: String { formatted }

    /// Whether this diagnostic makes its file invalid.
    public var isError: Bool { severity == .error }
}

extension Diagnostic {
    /// Orders diagnostics by file, then position, keeping the original order among equals.
    package static func sortedByPosition(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.enumerated().sorted { a, b in
            (a.element.path, a.element.line, a.element.column, a.offset)
                < (b.element.path, b.element.line, b.element.column, b.offset)
        }.map(\.element)
    }
}
