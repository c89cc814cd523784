/// One file of an ``EditPlan``. A value type.
public struct FileEdit: Sendable {
    /// The file's path, as collected.
    public var path: String
    /// The file that is read and replaced: `path` with symbolic links resolved (a link stays a link).
    public var target: String
    /// The text read from disk.
    public var original: String
    /// The edit result (new text, changes, matched images, notices).
    public var result: EditResult

    /// Creates a record; `target` defaults to `path`.
    public init(path: String, original: String, result: EditResult, target: String? = nil) {
        self.path = path
        self.target = target ?? path
        self.original = original
        self.result = result
    }

    /// Whether the file would be rewritten.
    public var isChanged: Bool { result.text != original }
}
