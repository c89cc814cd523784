/// A container image reference, parsed per the distribution reference grammar
/// (`[domain[:port]/]path[:tag][@digest]`) and normalised the way Docker does.
///
/// `nginx`, `library/nginx`, `docker.io/library/nginx` and `index.docker.io/library/nginx` all have the
/// same ``name`` (`docker.io/library/nginx`), which is what updates are matched on. A value type; thread-safe.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// The registry host, with port if any (`registry.example.com:5000`); `docker.io` when none was written.
    public var registry: String
    /// The path inside the registry (`oms/app`); `library/<name>` for single-component Docker Hub names.
    public var repository: String
    /// The tag (`1.4.2`), if one was written.
    public var tag: String?
    /// The digest (`sha256:...`), if one was written.
    public var digest: String?

    /// Creates a reference from already-normalised parts (no validation).
    public init(registry: String, repository: String, tag: String? = nil, digest: String? = nil) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// The normalised name, `registry/repository` (no tag, no digest): the identity of an image.
    public var name: String { "\(registry)/\(repository)" }

    /// The short name people write: `nginx` for `docker.io/library/nginx`, `user/app` for `docker.io/user/app`,
    /// the full name for every other registry.
    public var familiarName: String {
        guard registry == ImageReference.dockerHub else { return name }
        if repository.hasPrefix("library/"), !repository.dropFirst(8).contains("/") {
            return String(repository.dropFirst(8))
        }
        return repository
    }

    /// The normalised reference: `name[:tag][@digest]`.
    public var description: String {
        var text = name
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// The tag and digest as they would be written after the name: `1.4.2`, `@sha256:...`, `1.4.2@sha256:...`,
    /// or an empty string when there is neither.
    public var version: String {
        ImageReference.versionText(tag: tag, digest: digest)
    }

    static let dockerHub = "docker.io"

    static func versionText(tag: String?, digest: String?) -> String {
        (tag ?? "") + (digest.map { "@\($0)" } ?? "")
    }

    /// Parses and normalises a reference.
    ///
    /// - Throws: ``ImageReferenceError`` naming what is wrong (empty, bad host or port, uppercase or invalid
    ///   path, bad tag, bad digest, name too long).
    public static func parse(_ text: String) throws(ImageReferenceError) -> ImageReference {
        let parts = try split(text)
        return parts.reference
    }

    /// Where the tag/digest part starts in the written text (after the name), with the parsed reference.
    struct Parts {
        var reference: ImageReference
        /// The name exactly as written (`nginx`, `registry.example.com/oms/app`).
        var writtenName: Substring
        /// Everything after the written name (`:1.4.2@sha256:...`), possibly empty.
        var writtenSuffix: Substring
    }

    static func split(_ text: String) throws(ImageReferenceError) -> Parts {
        func fail(_ reason: ImageReferenceError.Reason) -> ImageReferenceError {
            ImageReferenceError(reference: text, reason: reason)
        }
        guard !text.isEmpty else { throw fail(.empty) }
        var remainder = Substring(text)
        var digest: String?
        if let at = remainder.utf8.firstIndex(of: UInt8(ascii: "@")) {
            let digestText = remainder[remainder.index(after: at)...]
            guard isValidDigest(digestText) else { throw fail(.invalidDigest(String(digestText))) }
            digest = String(digestText)
            remainder = remainder[..<at]
        }
        var tag: String?
        let lastSlash = remainder.utf8.lastIndex(of: UInt8(ascii: "/"))
        if let colon = remainder.utf8.lastIndex(of: UInt8(ascii: ":")), lastSlash.map({ colon > $0 }) ?? true {
            let tagText = remainder[remainder.index(after: colon)...]
            guard isValidTag(tagText) else { throw fail(.invalidTag(String(tagText))) }
            tag = String(tagText)
            remainder = remainder[..<colon]
        }
        let writtenName = remainder
        guard !writtenName.isEmpty else { throw fail(.empty) }
        guard writtenName.utf8.count <= 255 else { throw fail(.nameTooLong) }

        var registry = dockerHub
        var path = writtenName
        if let slash = writtenName.utf8.firstIndex(of: UInt8(ascii: "/")) {
            let first = writtenName[..<slash]
            let firstBytes = first.utf8
            if firstBytes.contains(UInt8(ascii: ".")) || firstBytes.contains(UInt8(ascii: ":")) || first == "localhost"
                || firstBytes.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
                || firstBytes.first == UInt8(ascii: "[") {
                try validateDomain(first, fail)
                registry = first == "index.docker.io" ? dockerHub : String(first)
                path = writtenName[writtenName.index(after: slash)...]
            }
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        for component in components {
            guard isValidPathComponent(component) else {
                if isValidPathComponent(Substring(component.lowercased())) { throw fail(.uppercase(String(component))) }
                throw fail(.invalidPath(String(component)))
            }
        }
        var repository = String(path)
        if registry == dockerHub && components.count == 1 { repository = "library/" + repository }
        let reference = ImageReference(registry: registry, repository: repository, tag: tag, digest: digest)
        return Parts(reference: reference, writtenName: writtenName,
                     writtenSuffix: text[writtenName.endIndex...])
    }

    private static func validateDomain(_ domain: Substring, _ fail: (ImageReferenceError.Reason) -> ImageReferenceError)
        throws(ImageReferenceError) {
        var host = domain
        var port: Substring?
        if domain.hasPrefix("[") {
            guard let close = domain.firstIndex(of: "]") else { throw fail(.invalidHost(String(domain))) }
            let inside = domain[domain.index(after: domain.startIndex)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw fail(.invalidHost(String(domain)))
            }
            let after = domain[domain.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw fail(.invalidHost(String(domain))) }
                port = after.dropFirst()
            }
            host = ""
        } else if let colon = domain.firstIndex(of: ":") {
            host = domain[..<colon]
            port = domain[domain.index(after: colon)...]
        }
        if let port {
            guard !port.isEmpty, port.utf8.count <= 5, port.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let number = Int(port), number <= 65535 else {
                throw fail(.invalidPort(String(port)))
            }
        }
        if !host.isEmpty || !domain.hasPrefix("[") {
            let labels = host.split(separator: ".", omittingEmptySubsequences: false)
            for label in labels {
                let bytes = label.utf8
                guard let first = bytes.first, let last = bytes.last,
                      bytes.allSatisfy({ isWordByte($0) && $0 != UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }),
                      first != UInt8(ascii: "-"), last != UInt8(ascii: "-") else {
                    throw fail(.invalidHost(String(domain)))
                }
            }
        }
    }

    /// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
    private static func isValidPathComponent(_ component: Substring) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if isLowerAlnum(byte) { index += 1; continue }
            // A separator run: ".", "_", "__" or one or more "-".
            var end = index
            while end < bytes.count, !isLowerAlnum(bytes[end]) { end += 1 }
            let run = bytes[index..<end]
            let valid = run.elementsEqual([UInt8(ascii: ".")]) || run.elementsEqual([UInt8(ascii: "_")])
                || run.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")]) || run.allSatisfy { $0 == UInt8(ascii: "-") }
            guard valid else { return false }
            index = end
        }
        return true
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        isLowerAlnum(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_")
    }

    /// `[\w][\w.-]{0,127}`
    static func isValidTag(_ tag: Substring) -> Bool {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, isWordByte(first), bytes.count <= 128 else { return false }
        return bytes.allSatisfy { isWordByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// `algorithm:hex`, algorithm `[A-Za-z][A-Za-z0-9]*(?:[+.-_][A-Za-z][A-Za-z0-9]*)*`, hex at least 32
    /// characters (exactly 64 for sha256, 128 for sha512).
    static func isValidDigest(_ digest: Substring) -> Bool {
        guard let colon = digest.firstIndex(of: ":") else { return false }
        let algorithm = digest[..<colon]
        let hex = digest[digest.index(after: colon)...]
        let algorithmComponents = algorithm.split(omittingEmptySubsequences: false) { "+.-_".contains($0) }
        for component in algorithmComponents {
            guard let first = component.first, first.isASCII, first.isLetter,
                  component.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return false }
        }
        guard hex.count >= 32, hex.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return false }
        switch algorithm {
        case "sha256": return hex.count == 64 && hex.allSatisfy { !$0.isUppercase }
        case "sha512": return hex.count == 128 && hex.allSatisfy { !$0.isUppercase }
        default: return true
        }
    }
}
