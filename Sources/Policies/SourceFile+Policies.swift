import LocalFiles

extension SourceFile {
    /// The UTF-8 text of the policy or config file at `path`, or why not: ``SourceFile/read(_:limit:)``
    /// with ``YAMLLimits/maxFileBytes``. Thread-safe; blocking file I/O.
    public static func read(_ path: String) -> Result<String, Problem> {
        read(path, limit: YAMLLimits.maxFileBytes)
    }
}
