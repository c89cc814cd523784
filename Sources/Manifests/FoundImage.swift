/// An image reference found in a manifest: a Kubernetes `image:` value, a kustomize `images:` entry or a
/// Helm values `image:` block. A value type.
public struct FoundImage: Sendable, Hashable {
    /// The file, as given to the reader.
    public var path: String
    /// The 1-based line of the value holding the version (the tag scalar when it is separate).
    public var line: Int
    /// The 1-based column of that value.
    public var column: Int
    /// The reference as the manifest states it (tag and digest as written).
    public var reference: ImageReference

    /// Creates a record.
    public init(path: String, line: Int, column: Int, reference: ImageReference) {
        self.path = path
        self.line = line
        self.column = column
        self.reference = reference
    }
}
