/// The edits ``ManifestFiles/plan(updates:paths:)`` computed for a set of files, before anything is written.
/// A value type.
public struct EditPlan: Sendable {
    /// The updates the plan was made for.
    public var updates: [ImageUpdate]
    /// Every file that was read and edited (changed or not), in path order.
    public var files: [FileEdit] = []
    /// Files that could not be read, parsed or safely edited; when not empty, nothing should be written.
    public var failures: [ManifestError] = []

    /// Creates an empty plan.
    public init(updates: [ImageUpdate]) {
        self.updates = updates
    }

    /// All change records, in path order.
    public var changes: [ImageChange] { files.flatMap(\.result.changes) }

    /// The updates whose image was found in none of the files.
    public var unmatchedUpdates: [ImageUpdate] {
        let found = Set(files.flatMap { $0.result.matched.map(\.reference.name) })
        return updates.filter { update in
            guard let name = try? ImageReference.parse(update.image).name else { return true }
            return !found.contains(name)
        }
    }
}

/// One file of an ``EditPlan``. A value type.
public struct FileEdit: Sendable {
    /// The file's path, as collected.
    public var path: String
    /// The text read from disk.
    public var original: String
    /// The edit result (new text, changes, matched images, notices).
    public var result: EditResult

    /// Creates a record.
    public init(path: String, original: String, result: EditResult) {
        self.path = path
        self.original = original
        self.result = result
    }

    /// Whether the file would be rewritten.
    public var isChanged: Bool { result.text != original }
}
