import Foundation

/// Flattens GitLab's error bodies into one line.
///
/// GitLab answers `{"message": <string | [string] | {field: [string]}>}` from its own helpers,
/// `{"error": "..."}` from parameter validation, `{"error": "...", "error_description": "..."}`
/// from the OAuth layer, and plain text (`Retry later`) from the rate limiter. Pure: thread-safe.
enum GitLabErrorBody {
    /// The most useful text in `body`, at most `limit` characters; `""` for an empty body.
    static func message(from body: Data, limit: Int = 500) -> String {
        guard !body.isEmpty else { return "" }
        let text: String
        if let json = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) {
            text = flatten(json, topLevel: true)
        } else {
            text = String(decoding: body, as: UTF8.self)
        }
        let oneLine = text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return oneLine.count > limit ? String(oneLine.prefix(limit)) + "…" : oneLine
    }

    private static func flatten(_ value: Any, topLevel: Bool = false) -> String {
        switch value {
        case let string as String:
            return string
        case let array as [Any]:
            return array.map { flatten($0) }.filter { !$0.isEmpty }.joined(separator: "; ")
        case let dict as [String: Any]:
            if topLevel {
                var parts: [String] = []
                if let message = dict["message"] { parts.append(flatten(message)) }
                if let error = dict["error"] {
                    let errorText = flatten(error)
                    if let description = dict["error_description"] {
                        parts.append("\(errorText): \(flatten(description))")
                    } else {
                        parts.append(errorText)
                    }
                } else if let description = dict["error_description"] {
                    parts.append(flatten(description))
                }
                if let scope = dict["scope"] { parts.append("needed scope: \(flatten(scope))") }
                if !parts.isEmpty { return parts.filter { !$0.isEmpty }.joined(separator: "; ") }
            }
            // A validation hash {field: [msgs]} reads as "field msg; field msg"; {"error": x} as x.
            if dict.count == 1, let error = dict["error"] { return flatten(error) }
            return dict.keys.sorted().map { key in
                let inner = flatten(dict[key] as Any)
                return key == "base" ? inner : "\(key) \(inner)"
            }.joined(separator: "; ")
        case let number as NSNumber:
            return number.stringValue
        default:
            return ""
        }
    }
}
