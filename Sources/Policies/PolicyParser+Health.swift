import Foundation
import Yams

// MARK: - Health checks

extension PolicyParser {
    /// The kinds of health check a stage can list, each named by the key that holds its target
    /// (`argocd: app`, `http: URL`, `prometheus: QUERY`). Declaration order is the order messages list them.
    enum HealthKind: String, CaseIterable {
        case argocd, http, prometheus

        /// The keys an item of this kind may have: the kind's own key first, then its options.
        var keys: [String] {
            switch self {
            case .argocd: ["argocd", "settle"]
            case .http: ["http", "status"]
            case .prometheus: ["prometheus", "below", "above"]
            }
        }
    }
}

extension PolicyParser.Parser {
    typealias HealthKind = PolicyParser.HealthKind

    /// One item of a stage's `health` list; nil (reported) when it names no kind, several, or a bad value.
    func parseHealthCheck(_ node: Node, label: String) -> HealthCheck? {
        guard let mapping = reader.mapping(node, label) else { return nil }
        let keys = mapping.keys.compactMap { $0.scalar?.string }
        let kinds = keys.compactMap(HealthKind.init(rawValue:))
        guard kinds.count == 1, let kind = kinds.first else {
            if kinds.count > 1 {
                reader.error("\(label) names \(kinds.map { "'\($0.rawValue)'" }.joined(separator: " and ")): use one kind per list item",
                             at: mapping.mark)
            } else {
                let allOptions = Set(HealthKind.allCases.flatMap(\.keys))
                let unknown = keys.first { !allOptions.contains($0) } ?? keys.first ?? ""
                let suggestion = unknown.isEmpty ? "" : Suggestion.didYouMean(unknown, in: HealthKind.allCases.map(\.rawValue))
                let found = unknown.isEmpty ? "" : " '\(unknown)'"
                reader.error("unknown health check kind\(found) in \(label): use 'argocd', 'http' or 'prometheus'\(suggestion)",
                             at: mapping.mark)
            }
            return nil
        }
        let entries = reader.entries(mapping, allowed: kind.keys, context: "in \(kind.rawValue) \(label)")
        // The kind's key is in the mapping (that is how the kind was found) and always allowed.
        guard let target = entries[kind.rawValue]?.value else { return nil }
        let context = "in \(label)"
        switch kind {
        case .argocd: return argocdCheck(target, entries, context: context)
        case .http: return httpCheck(target, entries, context: context)
        case .prometheus: return prometheusCheck(target, entries, mapping: mapping, context: context)
        }
    }

    /// `argocd: APPLICATION`, optional `settle: DURATION`.
    private func argocdCheck(_ target: Node, _ entries: Entries, context: String) -> HealthCheck? {
        guard let application = reader.string(target, "'argocd' (the application name) \(context)") else { return nil }
        let settle = entries["settle"].flatMap { duration($0.value, "'settle' \(context)") }
        if entries["settle"] != nil, settle == nil { return nil }
        return .argocd(application: application, settle: settle)
    }

    /// `http: URL` (absolute http or https), optional `status: CODE` (default 200).
    private func httpCheck(_ target: Node, _ entries: Entries, context: String) -> HealthCheck? {
        guard let url = reader.string(target, "'http' (the URL) \(context)") else { return nil }
        guard let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
              !(parsed.host ?? "").isEmpty
        else {
            reader.error("invalid URL '\(url)' \(context): use an absolute http:// or https:// URL", at: target)
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
    }

    /// `prometheus: QUERY` with `below` and/or `above`, which must leave room to pass.
    private func prometheusCheck(_ target: Node, _ entries: Entries, mapping: Node.Mapping, context: String) -> HealthCheck? {
        guard let query = reader.string(target, "'prometheus' (the PromQL query) \(context)") else { return nil }
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
                         at: entries["above"]?.value)
            return nil
        }
        return .prometheus(query: query, below: below, above: above)
    }
}
