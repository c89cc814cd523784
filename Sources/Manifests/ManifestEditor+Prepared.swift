extension ManifestEditor {
    /// Updates checked and keyed by image once, so a caller editing many files with the same updates
    /// (`ManifestFiles.plan`) does not check them again per file. A value type; thread-safe.
    public struct PreparedUpdates: Sendable {
        let wanted: [String: Wanted]
    }

    /// Checks `updates` once for ``apply(_:path:prepared:)``.
    /// - Throws: ``ManifestError/invalidUpdate(_:)`` for a malformed image, tag or digest, an update with
    ///   neither, or two updates for the same image.
    public static func prepare(_ updates: [ImageUpdate]) throws(ManifestError) -> PreparedUpdates {
        PreparedUpdates(wanted: try normalize(updates))
    }

    /// ``apply(_:path:updates:)`` with updates already checked by ``prepare(_:)``.
    /// - Throws: as ``apply(_:path:updates:)``.
    public static func apply(_ text: String, path: String, prepared: PreparedUpdates) throws(ManifestError) -> EditResult {
        try apply(text, path: path, wanted: prepared.wanted)
    }
}
