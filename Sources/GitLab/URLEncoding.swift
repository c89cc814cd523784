import Foundation

/// Percent-encoding for the pieces of a GitLab URL.
///
/// Only RFC 3986 "unreserved" characters stay literal: `/` in a project path or branch name
/// becomes `%2F` (GitLab needs it), `+` in a query value becomes `%2B` (GitLab would read a
/// space), `,` and `&` cannot split a value. Pure functions: thread-safe.
enum URLEncoding {
    private static let unreserved: CharacterSet = {
        var set = CharacterSet()
        set.insert(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return set
    }()

    /// One path segment (project path, branch name): everything but unreserved is encoded.
    static func pathSegment(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    /// A query string `a=1&b=x%2Fy` from ordered pairs; keys keep `[]` literal for arrays.
    static func query(_ items: [(name: String, value: String)]) -> String {
        items.map { item in
            let name = item.name.hasSuffix("[]")
                ? pathSegment(String(item.name.dropLast(2))) + "[]"
                : pathSegment(item.name)
            return name + "=" + pathSegment(item.value)
        }.joined(separator: "&")
    }

    /// The percent-encoded path of an absolute URL string, without decoding `%2F`
    /// (`URL.path` would decode it). Used only for error messages.
    static func encodedPath(of url: URL) -> String {
        URLComponents(string: url.absoluteString)?.percentEncodedPath ?? url.absoluteString
    }

    /// Scheme, lowercase host and effective port: two URLs with the same origin may share a token.
    static func origin(of url: URL) -> String? {
        guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return nil }
        let port = url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : -1)
        return "\(scheme)://\(host):\(port)"
    }
}
