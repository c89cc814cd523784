import Foundation

/// A parsed `WWW-Authenticate` challenge from a registry's 401 (RFC 7235 auth-params, as the distribution token
/// spec uses them): `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`
/// or `Basic realm="Registry"`. Pure; a value type.
struct AuthChallenge: Sendable, Hashable {
    /// `bearer` or `basic`, lower-cased.
    var scheme: String
    /// The parameters, names lower-cased, values unquoted.
    var parameters: [String: String]

    var realm: String? { parameters["realm"] }
    var service: String? { parameters["service"] }
    var scope: String? { parameters["scope"] }

    /// The first challenge of `header` promobot can answer (Bearer before Basic), or nil.
    static func parse(_ header: String) -> AuthChallenge? {
        let challenges = parseAll(header)
        return challenges.first { $0.scheme == "bearer" } ?? challenges.first { $0.scheme == "basic" }
    }

    /// Every challenge in `header`, in order.
    static func parseAll(_ header: String) -> [AuthChallenge] {
        var result: [AuthChallenge] = []
        var chars = Substring(header)
        func skipSpaces() { while let c = chars.first, c == " " || c == "\t" || c == "," { chars.removeFirst() } }
        func token() -> String {
            var text = ""
            while let c = chars.first, c != " ", c != "\t", c != ",", c != "=" { text.append(c); chars.removeFirst() }
            return text
        }
        while true {
            skipSpaces()
            let scheme = token()
            guard !scheme.isEmpty else { break }
            var challenge = AuthChallenge(scheme: scheme.lowercased(), parameters: [:])
            while true {
                skipSpaces()
                let save = chars
                let name = token()
                guard !name.isEmpty, chars.first == "=" else { chars = save; break }
                chars.removeFirst()
                var value = ""
                if chars.first == "\"" {
                    chars.removeFirst()
                    while let c = chars.first, c != "\"" {
                        chars.removeFirst()
                        if c == "\\", let next = chars.first { value.append(next); chars.removeFirst() } else { value.append(c) }
                    }
                    if !chars.isEmpty { chars.removeFirst() }
                } else {
                    value = token()
                }
                challenge.parameters[name.lowercased()] = value
            }
            result.append(challenge)
        }
        return result
    }
}
