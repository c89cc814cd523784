/// Where an image reference lives in a parsed file, and how its version is stored.
struct ImageSite {
    enum Layout {
        /// One scalar holds the whole reference (`image: repo:tag`, or a block scalar with it alone on one
        /// line): Kubernetes objects, Helm `image: repo:tag`.
        case scalar(event: Int)
        /// Separate keys for name, tag and digest: kustomize `images:` entries and Helm `image:` mappings.
        case split(SplitLayout)
        /// Found, but written in a shape the editor does not rewrite (a block scalar over several lines, at
        /// `event`): an update for this image is refused naming that line, and the site is never read as a
        /// version.
        case unsupported(event: Int)
    }

    /// A kustomize entry whose `newName` runs another image than its `name`.
    struct Rename {
        /// The normalised `name` (the image the entry replaces, which it does not run).
        var name: String
        /// `name` as written.
        var writtenName: String
        /// The `name` value scalar.
        var event: Int
    }

    struct SplitLayout {
        /// `newTag` (kustomize) or `tag` (Helm).
        var tagKey: String
        /// The tag value scalar, when the key exists.
        var tagEvent: Int?
        /// The digest value scalar, when the key exists.
        var digestEvent: Int?
        /// The value scalar after which missing keys are inserted (the name line).
        var insertAfter: Int
        /// The key event of that pair (its column gives the indentation).
        var insertKey: Int
        /// Whether the name is written as an alias: its anchor sits elsewhere, so nothing can be inserted
        /// "after the name" without landing in another mapping.
        var insertAfterAlias: Bool = false
        /// Whether the entry is a flow mapping (`{name: x}`).
        var flow: Bool
    }

    var layout: Layout
    /// The reference as the file states it.
    var reference: ImageReference
    /// The image name as written (`nginx`, `registry.example.com/oms/app`).
    var writtenName: String
    /// The event whose position is reported (the version scalar, or the name when there is none).
    var reportEvent: Int
    /// Version scalar (event index) -> the node it was reached through here: the alias event for `*a`,
    /// the scalar itself otherwise. A scalar may appear in several places; the editor checks that every
    /// one of them is an image version it means to set.
    var uses: [Int: Int] = [:]
    /// Set for a kustomize entry that renames `name` to another image: the site is the `newName` image's,
    /// and an update for `name` is told why this entry is not edited for it.
    var renamed: Rename?

    /// Whether the site holds a version that can be read and set (not ``Layout/unsupported(event:)``).
    var isReadable: Bool {
        if case .unsupported = layout { return false }
        return true
    }
}
