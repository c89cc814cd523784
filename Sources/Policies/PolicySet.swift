/// Every policy found in some files and folders, plus every problem found in them.
public struct PolicySet: Sendable {
    /// Valid policies, in file order. Files with errors, and every policy whose name is used
    /// by more than one file, are left out.
    public var policies: [Policy]
    /// All diagnostics from all files, sorted by file and position.
    public var diagnostics: [Diagnostic]
    /// The policy files that were read, sorted.
    public var files: [String]

    public init(policies: [Policy], diagnostics: [Diagnostic], files: [String]) {
        self.policies = policies
        self.diagnostics = diagnostics
        self.files = files
    }

    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.contains(where: \.isError) }
}
