/// The edits `ManifestFiles.plan(updates:paths:)` (module `LocalFiles`) computed for a set of files, before anything is written.
/// A value type.
public struct EditPlan: Sendable {
    /// The updates the plan was made for.
    public var updates: [ImageUpdate]
    /// Every file that was read and edited (changed or not), in path order.
    public var files: [FileEdit] = []
    /// Files that could not be read, parsed or safely edited; when not empty, nothing should be written.
    public var failures: [ManifestError] = []
    /// Normalised names of the images found in files that failed: refused, not missing.
    public var imagesInFailedFiles: Set<String> = []

    /// Creates an empty plan.
    public init(updates: [ImageUpdate]) {
        self.updates = updates
    }

    /// Whether writing must be refused: a file failed, or an image was found nowhere. The one rule
    /// `set-image` (and its fuzz test) apply before `ManifestFiles.commit(_:)`.
    public var refusesToWrite: Bool { !failures.isEmpty || !unmatchedUpdates.isEmpty }

    /// All change records, in path order.
    public var changes: [ImageChange] { files.flatMap(\.result.changes) }

    /// The updates whose image was found in none of the files (a file that was refused but holds the
    /// image counts as found: its failure is the error to report).
    public var unmatchedUpdates: [ImageUpdate] {
        let found = Set(files.flatMap { $0.result.matched.map(\.reference.name) }).union(imagesInFailedFiles)
        return updates.filter { update in
            guard let name = try? ImageReference.parse(update.image).name else { return true }
            return !found.contains(name)
        }
    }
}
