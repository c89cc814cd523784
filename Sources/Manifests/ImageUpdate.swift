/// A requested change: give every occurrence of `image` this tag and/or digest.
///
/// `image` may be written in any form (`nginx`, `docker.io/library/nginx:1.0`); it is matched on the
/// normalised ``ImageReference/name``, and any tag or digest written in it is ignored. A value type.
public struct ImageUpdate: Sendable, Hashable {
    /// The image to change, in any form.
    public var image: String
    /// The new tag; `nil` keeps the tag (when only a digest is given).
    public var tag: String?
    /// The new digest (`sha256:...`); `nil` with a tag drops a digest pinned next to the old tag in a
    /// single `image:` value, so the new tag is not silently overridden by the old digest.
    public var digest: String?

    /// Creates an update; at least one of `tag` and `digest` should be set.
    public init(image: String, tag: String? = nil, digest: String? = nil) {
        self.image = image
        self.tag = tag
        self.digest = digest
    }

    /// Reads `IMAGE:TAG`, `IMAGE@DIGEST` or `IMAGE:TAG@DIGEST` as an update.
    ///
    /// - Throws: ``ImageReferenceError`` when the text is not an image reference, or has neither a tag
    ///   nor a digest (reason `.invalidTag("")`).
    public init(parsing text: String) throws(ImageReferenceError) {
        let reference = try ImageReference.parse(text)
        guard reference.tag != nil || reference.digest != nil else {
            throw ImageReferenceError(reference: text, reason: .invalidTag(""))
        }
        self.init(image: reference.name, tag: reference.tag, digest: reference.digest)
    }
}
