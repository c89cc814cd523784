import Foundation

/// Parses RFC 8288 `Link` headers: `<url>; rel="next", <url>; rel="last"`.
///
/// URLs are returned as written (not decoded), so `%2F` survives. Commas inside `<…>` do not
/// split entries. Pure: thread-safe.
enum LinkHeader {
    /// `rel` → URL string; a `rel` with several space-separated values maps each. First one wins.
    static func parse(_ value: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(value)
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { break }
            let target = String(rest[rest.index(after: open)..<close])
            var params = rest[rest.index(after: close)...]
            // Parameters run to the next "," that is followed by a new "<".
            var end = params.endIndex
            var index = params.startIndex
            var inQuotes = false
            while index < params.endIndex {
                let char = params[index]
                if char == "\"" { inQuotes.toggle() }
                if char == ",", !inQuotes { end = index; break }
                index = params.index(after: index)
            }
            let paramText = params[params.startIndex..<end]
            for param in paramText.split(separator: ";") {
                let pair = param.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "rel" else { continue }
                let rels = pair[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                for rel in rels.split(separator: " ") where result[rel.lowercased()] == nil {
                    result[rel.lowercased()] = target
                }
            }
            params = end < params.endIndex ? params[params.index(after: end)...] : params[params.endIndex...]
            rest = params
        }
        return result
    }
}

