/// What follows an image name in a reference: a tag, a digest, or both (`1.5.0`, `1.5.0@sha256:…`,
/// `@sha256:…`).
///
/// The one shape of "a version of an image" from the manifest parser to the commit: the planner
/// compares it, the MR text shows it, the health checks ask for it, the editor writes it. Equality is
/// exact, so re-pinning the same tag to a new digest is a change. A value type; thread-safe.
public struct ImageVersion: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The tag, when the reference has one.
    public var tag: String?
    /// The digest (`sha256:…`), when the reference pins one.
    public var digest: String?

    /// Memberwise; at least one of the two should be set.
    public init(tag: String?, digest: String? = nil) {
        self.tag = tag
        self.digest = digest
    }

    /// Reads the text that follows an image name: `1.5.0`, `1.5.0@sha256:…` or `@sha256:…`.
    /// The only place that splits such text (the marker and tests write versions this way).
    public init(_ text: String) {
        if let at = text.firstIndex(of: "@") {
            let tag = String(text[..<at])
            self.init(tag: tag.isEmpty ? nil : tag, digest: String(text[text.index(after: at)...]))
        } else {
            self.init(tag: text.isEmpty ? nil : text, digest: nil)
        }
    }

    public init(stringLiteral value: String) { self.init(value) }

    /// The version of a parsed reference.
    public init(_ reference: ImageReference) { self.init(tag: reference.tag, digest: reference.digest) }

    /// As written after the name: `1.5.0`, `1.5.0@sha256:…` or `@sha256:…`.
    public var description: String { ImageReference.versionText(tag: tag, digest: digest) }

    /// For people: the tag, with a digest shortened to 12 hex digits (`1.5.0@sha256:0123456789ab`).
    public var display: String {
        guard let digest else { return description }
        let short: String
        if let colon = digest.firstIndex(of: ":") {
            short = String(digest[...colon]) + digest[digest.index(after: colon)...].prefix(12)
        } else {
            short = String(digest.prefix(12))
        }
        return (tag ?? "") + "@" + short
    }

    /// Whether `other` names the same build as far as both say: the same digest when both pin one (and the same
    /// tag when both have one), else the same tag. So a stage that pins (`1.5.0@sha256:…`) what its upstream runs
    /// by tag (`1.5.0`) runs the same thing, while two different pins never match. Unlike `==`, which is exact.
    public func matches(_ other: ImageVersion) -> Bool {
        if let digest, let otherDigest = other.digest {
            return digest == otherDigest && (tag == nil || other.tag == nil || tag == other.tag)
        }
        return tag != nil && tag == other.tag
    }

    /// The tag read as a semantic version, when it is one (digest-only and `latest` are not).
    public var semanticVersion: SemanticVersion? { tag.flatMap(SemanticVersion.init(tag:)) }

    /// `image` at this version, as a reference (nil when `image` is not a valid name).
    public func reference(of image: String) -> ImageReference? {
        guard var reference = try? ImageReference.parse(image) else { return nil }
        reference.tag = tag
        reference.digest = digest
        return reference
    }
}

/// The versions a set of images is at, keyed by the image name as the policy writes it: what a stage
/// holds, what a candidate proposes.
///
/// Encodes as a JSON object of version texts (`{"registry/app": "1.5.0"}`), the form MR markers have
/// always used. A value type; thread-safe.
public struct ImageVersions: Sendable, Hashable, Codable, ExpressibleByDictionaryLiteral {
    private var versions: [String: ImageVersion]

    public init() { versions = [:] }

    public init(_ versions: [String: ImageVersion]) { self.versions = versions }

    public init(dictionaryLiteral elements: (String, ImageVersion)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { first, _ in first }))
    }

    /// The version of `image`, or nil when the set does not hold it.
    public subscript(image: String) -> ImageVersion? {
        get { versions[image] }
        set { versions[image] = newValue }
    }

    /// The images held, sorted.
    public var images: [String] { versions.keys.sorted() }
    public var isEmpty: Bool { versions.isEmpty }
    public var count: Int { versions.count }

    /// Only the given images (e.g. the policy's), dropping any other the files happened to hold.
    public func restricted(to images: [String]) -> ImageVersions {
        let wanted = Set(images)
        return ImageVersions(versions.filter { wanted.contains($0.key) })
    }

    /// Pairs in `order` first (a policy's image order), then any others sorted, so text is stable.
    public func ordered(by order: [String]) -> [(image: String, version: ImageVersion)] {
        let known = order.compactMap { image in versions[image].map { (image, $0) } }
        let listed = Set(order)
        let rest = versions.keys.filter { !listed.contains($0) }.sorted().map { ($0, versions[$0]!) }
        return known + rest
    }

    /// Whether any image held here is at a different version (or absent) in `other`.
    public func differs(from other: ImageVersions) -> Bool {
        versions.contains { other[$0.key] != $0.value }
    }

    /// Whether every image held here is at the same version in `other`.
    public func isHeld(by other: ImageVersions) -> Bool { !differs(from: other) }

    /// Editor updates that set every image held here.
    public var updates: [ImageUpdate] {
        images.map { ImageUpdate(image: $0, tag: versions[$0]!.tag, digest: versions[$0]!.digest) }
    }

    public init(from decoder: any Decoder) throws {
        let texts = try decoder.singleValueContainer().decode([String: String].self)
        versions = texts.mapValues { ImageVersion($0 as String) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(versions.mapValues(\.description))
    }
}
