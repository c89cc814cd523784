/// A lenient semantic version read from an image tag, for the `downgrade` rule and `newest` ordering.
///
/// Our own small type rather than mxcl/Version: image tags are rarely strict SemVer
/// (`v1.5`, `1.5.0-rc.1`, `2024.06.01`), and we need "is this tag a version at all" to be a
/// non-throwing question with lenient parsing, while ordering follows SemVer 2.0 §11.
public struct SemanticVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int, minor: Int, patch: Int
    /// Dot-separated pre-release identifiers (`rc.1` -> ["rc", "1"]); empty for a release.
    public var prerelease: [String]
    /// Build metadata; ignored for ordering.
    public var build: String?

    public init(major: Int, minor: Int = 0, patch: Int = 0, prerelease: [String] = [], build: String? = nil) {
        self.major = major; self.minor = minor; self.patch = patch; self.prerelease = prerelease; self.build = build
    }

    /// Reads `1`, `1.2`, `1.2.3`, optionally prefixed by `v`, with `-pre` and `+build` parts.
    /// Returns nil for tags that are not versions (`latest`, `sha-abc123`, `1.2.3.4`).
    public init?(tag: String) {
        var text = Substring(tag)
        if text.first == "v" || text.first == "V" { text = text.dropFirst() }
        var build: String?
        if let plus = text.firstIndex(of: "+") {
            build = String(text[text.index(after: plus)...])
            text = text[..<plus]
            guard !build!.isEmpty else { return nil }
        }
        var prerelease: [String] = []
        if let dash = text.firstIndex(of: "-") {
            prerelease = text[text.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !prerelease.contains(where: \.isEmpty) else { return nil }
            text = text[..<dash]
        }
        let numbers = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(numbers.count),
              numbers.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let values = Optional(numbers.compactMap { Int($0) }), values.count == numbers.count
        else { return nil }
        self.init(major: values[0], minor: values.count > 1 ? values[1] : 0, patch: values.count > 2 ? values[2] : 0,
                  prerelease: prerelease, build: build)
    }

    public var description: String {
        var text = "\(major).\(minor).\(patch)"
        if !prerelease.isEmpty { text += "-" + prerelease.joined(separator: ".") }
        if let build { text += "+" + build }
        return text
    }

    public static func == (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) == (rhs.major, rhs.minor, rhs.patch) && lhs.prerelease == rhs.prerelease
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(major); hasher.combine(minor); hasher.combine(patch); hasher.combine(prerelease)
    }

    public static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        if (lhs.major, lhs.minor, lhs.patch) != (rhs.major, rhs.minor, rhs.patch) {
            return (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
        }
        // A release ranks above any of its pre-releases.
        switch (lhs.prerelease.isEmpty, rhs.prerelease.isEmpty) {
        case (true, true), (true, false): return false
        case (false, true): return true
        case (false, false): break
        }
        for (l, r) in zip(lhs.prerelease, rhs.prerelease) where l != r {
            switch (Int(l), Int(r)) {
            case let (li?, ri?): return li < ri
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return l < r
            }
        }
        return lhs.prerelease.count < rhs.prerelease.count
    }
}
