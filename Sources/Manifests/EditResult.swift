/// The outcome of ``ManifestEditor/apply(_:path:updates:)`` for one file. A value type.
public struct EditResult: Sendable, Hashable {
    /// The new text (identical to the input when nothing changed).
    public var text: String
    /// One record per edited value.
    public var changes: [ImageChange]
    /// Every image the updates matched, as found before editing (already-current ones included).
    public var matched: [FoundImage]
    /// Things worth telling the user that are not errors (e.g. "skipped: not YAML").
    public var notices: [String]

    /// Creates a result.
    public init(text: String, changes: [ImageChange], matched: [FoundImage], notices: [String]) {
        self.text = text
        self.changes = changes
        self.matched = matched
        self.notices = notices
    }
}
