/// Checks image names (repository without tag or digest) against the distribution reference grammar.
///
/// A private copy of the rules on purpose: `Policies` must not wait on the `Manifests`
/// `ImageReference` parser. Grammar (distribution/reference `regexp.go`):
///   name      := [domain '/'] component ('/' component)*
///   domain    := host [':' port]   (host: dot-separated `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`)
///   component := `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
/// The first segment is a domain when it contains `.` or `:`, is `localhost`, or has uppercase
/// letters (Docker's `splitDockerDomain`). Pure.
enum ImageName {
    /// Nil when `name` is a valid image name, else why not (one clause, no trailing period).
    static func problem(in name: String) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.contains("@") { return "it has a digest: list the image name only, promobot manages tags and digests" }
        if name.contains(where: { $0.isWhitespace }) { return "it contains whitespace" }
        var segments = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if segments.count > 1, isDomainLike(segments[0]) {
            let domain = segments.removeFirst()
            if let problem = domainProblem(domain) { return problem }
        }
        if segments.contains(where: \.isEmpty) { return "it has an empty path component ('//' or a leading or trailing '/')" }
        if segments.last!.contains(":") || segments.contains(where: { $0.contains(":") }) {
            return "it has a tag: list the image name only, promobot manages tags"
        }
        if segments.contains(where: { $0.contains(where: \.isUppercase) }) {
            return "the repository path must be lowercase"
        }
        for segment in segments where !isComponent(segment) {
            return "path component '\(segment)' must be lowercase letters and digits separated by '.', '_', '__' or '-'"
        }
        if segments.joined(separator: "/").count > 255 { return "the repository path is longer than 255 characters" }
        return nil
    }

    private static func isDomainLike(_ segment: String) -> Bool {
        segment.contains(".") || segment.contains(":") || segment == "localhost" || segment != segment.lowercased()
    }

    /// Why `domain` (a registry host with an optional port) is not valid, or nil; also the config's `registries:` keys.
    static func domainProblem(_ domain: String) -> String? {
        var host = Substring(domain)
        if let colon = domain.firstIndex(of: ":") {
            host = domain[..<colon]
            let port = domain[domain.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return "registry '\(domain)' has an invalid port (a tag belongs after the last '/', and is not allowed here)"
            }
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let valid = !labels.isEmpty && labels.allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            return label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                && first != "-" && last != "-"
        }
        return valid ? nil : "registry host '\(host)' is not a valid host name"
    }

    /// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
    static func isComponent(_ text: String) -> Bool {
        let chars = Array(text)
        func isAlnum(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) }
        var i = 0
        func alnumRun() -> Bool {
            let start = i
            while i < chars.count, isAlnum(chars[i]) { i += 1 }
            return i > start
        }
        guard alnumRun() else { return false }
        while i < chars.count {
            let start = i
            while i < chars.count, !isAlnum(chars[i]) { i += 1 }
            let separator = String(chars[start..<i])
            let ok = separator == "." || separator == "_" || separator == "__" || separator.allSatisfy { $0 == "-" }
            guard ok, alnumRun() else { return false }
        }
        return true
    }
}
