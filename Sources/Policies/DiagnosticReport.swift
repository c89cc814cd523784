import Foundation

/// Renders diagnostics for people (text) and for machines (JSON, GitLab Code Quality).
///
/// Pure functions; thread-safe.
public enum DiagnosticReport {
    /// Output formats of `promobot validate --format`.
    public enum Format: String, Sendable, CaseIterable {
        case text, json, codequality
    }

    /// Renders `diagnostics` in `format`. Text ends with a summary line such as `3 policies, 0 problems`.
    public static func render(_ diagnostics: [Diagnostic], format: Format, policyCount: Int) -> String {
        switch format {
        case .text: text(diagnostics, policyCount: policyCount)
        case .json: json(diagnostics)
        case .codequality: codeQuality(diagnostics)
        }
    }

    /// One `path:line:col: error: message` line per diagnostic, then the summary line.
    public static func text(_ diagnostics: [Diagnostic], policyCount: Int) -> String {
        var lines = diagnostics.map(\.formatted)
        lines.append(summary(diagnostics, policyCount: policyCount))
        return lines.joined(separator: "\n") + "\n"
    }

    /// `3 policies, 0 problems`, or `1 policy, 3 problems (2 errors, 1 warning)`.
    public static func summary(_ diagnostics: [Diagnostic], policyCount: Int) -> String {
        let errors = diagnostics.filter(\.isError).count
        let warnings = diagnostics.count - errors
        var text = "\(policyCount) \(policyCount == 1 ? "policy" : "policies"), \(plural(diagnostics.count, "problem"))"
        if !diagnostics.isEmpty { text += " (\(plural(errors, "error")), \(plural(warnings, "warning")))" }
        return text
    }

    private static func plural(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }

    private struct JSONEntry: Encodable {
        var path: String
        var line: Int
        var column: Int
        var severity: String
        var message: String
    }

    /// A JSON array of `{path, line, column, severity, message}`.
    public static func json(_ diagnostics: [Diagnostic]) -> String {
        encode(diagnostics.map {
            JSONEntry(path: $0.path, line: $0.line, column: $0.column, severity: $0.severity.rawValue, message: $0.message)
        })
    }

    private struct CodeQualityEntry: Encodable {
        struct Location: Encodable {
            struct Lines: Encodable { var begin: Int }
            var path: String
            var lines: Lines
        }
        var description: String
        var check_name: String
        var fingerprint: String
        var severity: String
        var location: Location
    }

    /// The check name used in Code Quality reports.
    public static let codeQualityCheckName = "promobot-validate"

    /// A GitLab Code Quality report: an array of `{description, check_name, fingerprint, severity, location}`.
    ///
    /// Errors are `major`, warnings `minor`. Diagnostics without a line point at line 1.
    public static func codeQuality(_ diagnostics: [Diagnostic]) -> String {
        encode(diagnostics.map {
            CodeQualityEntry(
                description: $0.message, check_name: codeQualityCheckName,
                fingerprint: fingerprint(path: $0.path, message: $0.message),
                severity: $0.severity == .error ? "major" : "minor",
                location: .init(path: $0.path, lines: .init(begin: max($0.line, 1))))
        })
    }

    /// A stable 64-bit FNV-1a hash of path and message, as 16 hex digits.
    ///
    /// Stable across runs and platforms (unlike `Hasher`), so GitLab can match findings between pipelines.
    public static func fingerprint(path: String, message: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Array(path.utf8) + [0] + Array(message.utf8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    private static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8) else { return "[]\n" }
        return text + "\n"
    }
}
