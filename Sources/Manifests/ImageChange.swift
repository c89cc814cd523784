/// One edit the editor made: which file and line, which image, and the version text before and after.
///
/// `old`/`new` are the tag/digest text as it appears after the name: `1.4.2`, `@sha256:...` or
/// `1.4.2@sha256:...` (empty when there was none). A value type.
public struct ImageChange: Sendable, Hashable, CustomStringConvertible {
    /// The file, as given to the editor.
    public var path: String
    /// The 1-based line of the edited (or inserted) value.
    public var line: Int
    /// The image name as written in the file (no tag, no digest).
    public var image: String
    /// The version text before the edit.
    public var old: String
    /// The version text after the edit.
    public var new: String

    /// Creates a change record.
    public init(path: String, line: Int, image: String, old: String, new: String) {
        self.path = path
        self.line = line
        self.image = image
        self.old = old
        self.new = new
    }

    /// `path:line: image old -> new`, the line `promobot set-image` prints (control characters escaped).
    public var description: String {
        EchoText.escapingControls("\(path):\(line): \(image) \(old.isEmpty ? "(none)" : old) -> \(new.isEmpty ? "(none)" : new)")
    }
}
