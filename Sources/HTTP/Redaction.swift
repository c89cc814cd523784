import Foundation

/// Removes secrets from URLs, headers and messages before they reach errors, logs or metrics: the
/// project's one redaction routine (REST, git and health checks all use it) and its one placeholder.
///
/// Secrets are: URL userinfo (`https://user:pass@host`), the values of query items that carry
/// tokens (`private_token`, `access_token`, `job_token`, ...), the values of headers that carry
/// credentials (`Authorization`, `PRIVATE-TOKEN`, `JOB-TOKEN`, cookies, ...), and any value a caller
/// knows to be secret (a token, a password) wherever it shows up in a message.
/// All members are pure functions and thread-safe.
public enum Redaction {
    /// What a secret is replaced with, everywhere: URLs, headers, messages and `description`s.
    /// Letters only, so it stays valid inside a URL's userinfo or query.
    public static let placeholder = "REDACTED"

    /// Lower-cased names of query items whose values are secrets.
    public static let sensitiveQueryItems: Set<String> = [
        "private_token", "access_token", "job_token", "token", "password", "secret", "client_secret",
    ]

    /// Lower-cased names of headers whose values are secrets.
    public static let sensitiveHeaders: Set<String> = [
        "authorization", "proxy-authorization", "private-token", "job-token", "cookie", "set-cookie",
        "x-gitlab-token", "x-api-key",
    ]

    /// Whether the header `name` carries a credential (compared case-insensitively).
    public static func isSensitiveHeader(_ name: String) -> Bool {
        sensitiveHeaders.contains(name.lowercased())
    }

    /// `url` as a string with userinfo and token query values replaced by ``placeholder``.
    ///
    /// `https://bot:s3cret@gitlab.example.com/api/v4/projects?private_token=abc&page=2` becomes
    /// `https://REDACTED@gitlab.example.com/api/v4/projects?private_token=REDACTED&page=2`.
    public static func redact(url: URL) -> String {
        redact(url: url.absoluteString)
    }

    /// Same as ``redact(url:)-(URL)`` for a URL held as a string. A string that does not parse as a
    /// URL is still scrubbed of anything that looks like userinfo or a token query item.
    public static func redact(url: String) -> String {
        if var components = URLComponents(string: url) {
            let hadUserInfo = components.percentEncodedUser != nil || components.percentEncodedPassword != nil
            components.percentEncodedUser = nil
            components.percentEncodedPassword = nil
            if let items = components.percentEncodedQueryItems {
                components.percentEncodedQueryItems = items.map { item in
                    guard item.value != nil, sensitiveQueryItems.contains(item.name.lowercased()) else { return item }
                    return URLQueryItem(name: item.name, value: placeholder)
                }
            }
            if let rebuilt = components.string {
                guard hadUserInfo, let schemeEnd = rebuilt.range(of: "://") else { return rebuilt }
                var result = rebuilt
                result.insert(contentsOf: "\(placeholder)@", at: schemeEnd.upperBound)
                return result
            }
        }
        return scrubLooseURL(url)
    }

    /// `headers` with the values of credential-carrying headers replaced by ``placeholder``; safe to log.
    public static func redact(headers: HTTPHeaders) -> HTTPHeaders {
        var result = HTTPHeaders()
        for field in headers {
            result.add(field.name, isSensitiveHeader(field.name) ? placeholder : field.value)
        }
        return result
    }

    /// `text` with every occurrence of each of `secrets` (as given and percent-encoded) replaced by
    /// ``placeholder``, and the userinfo of any `scheme://userinfo@` in it replaced too (a library's
    /// message may echo the URL it was handed).
    /// Empty and very short (< 4 characters) secrets are ignored, so ordinary words are not mangled.
    public static func redact(text: String, secrets: [String]) -> String {
        var result = text
        for secret in secrets.sorted(by: { $0.count > $1.count }) where secret.count >= 4 {
            result = result.replacingOccurrences(of: secret, with: placeholder)
            if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != secret {
                result = result.replacingOccurrences(of: encoded, with: placeholder)
            }
        }
        return replacingUserinfo(in: result)
    }

    /// Splits `scheme://user:password@host/...` into the URL without userinfo and the userinfo parts
    /// (percent-decoded), for a client that must hand the URL on without its credentials (git's
    /// remote URL) and send them another way. `ssh://git@host/...` and scp-like `git@host:path` keep
    /// their user: there it is a login name, not a secret. Not a redaction for display: use
    /// ``redact(url:)-(String)`` for that.
    public static func stripUserinfo(_ url: String) -> (url: String, user: String?, password: String?) {
        guard let schemeEnd = url.range(of: "://") else { return (url, nil, nil) }
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return (url, nil, nil) }
        let userinfo = authority[..<at]
        let rest = url[authority.index(after: at)...]
        let stripped = String(url[..<schemeEnd.upperBound]) + String(rest)
        let parts = userinfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let user = parts.first.map { String($0).removingPercentEncoding ?? String($0) }
        let password = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : nil
        if password == nil, url[..<schemeEnd.lowerBound].lowercased() == "ssh" { return (url, user, nil) }
        return (stripped, user, password)
    }

    /// The secret values `request` carries (header credentials, userinfo, token query values),
    /// in raw and percent-decoded forms, for ``redact(text:secrets:)``.
    public static func secrets(in request: HTTPRequest) -> [String] {
        var secrets: [String] = []
        for field in request.headers where isSensitiveHeader(field.name) {
            secrets.append(field.value)
            // "Bearer abc" / "Basic abc": the credential alone may be echoed too.
            if let space = field.value.firstIndex(of: " ") {
                secrets.append(String(field.value[field.value.index(after: space)...]))
            }
        }
        if let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false) {
            secrets += [components.percentEncodedUser, components.user,
                        components.percentEncodedPassword, components.password].compactMap { $0 }
            for item in components.percentEncodedQueryItems ?? [] where sensitiveQueryItems.contains(item.name.lowercased()) {
                if let value = item.value {
                    secrets.append(value)
                    if let decoded = value.removingPercentEncoding { secrets.append(decoded) }
                }
            }
        }
        return secrets.filter { !$0.isEmpty }
    }

    /// `text` with the userinfo of every `scheme://userinfo@` replaced by ``placeholder``.
    private static func replacingUserinfo(in text: String) -> String {
        guard let regex = try? NSRegularExpression(pattern: "(://)[^/@\\s]*@") else { return text }
        return regex.stringByReplacingMatches(
            in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1\(placeholder)@")
    }

    /// Fallback for strings URLComponents rejects: cut userinfo and token values by pattern.
    private static func scrubLooseURL(_ url: String) -> String {
        var result = replacingUserinfo(in: url)
        let names = sensitiveQueryItems.joined(separator: "|")
        if let regex = try? NSRegularExpression(pattern: "(?i)([?&;](?:\(names))=)[^&#\\s]*") {
            result = regex.stringByReplacingMatches(
                in: result, range: NSRange(result.startIndex..., in: result), withTemplate: "$1\(placeholder)")
        }
        return result
    }
}
