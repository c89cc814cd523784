/// Why a manifest could not be read or edited. Every message starts with `path:line:col` (or `path`) and
/// says what to do. A value type.
public enum ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file is not valid YAML (and does not look like a template, which would be skipped instead).
    case invalidYAML(path: String, line: Int, column: Int, problem: String)
    /// An update is malformed (bad image, tag or digest, or two updates for the same image).
    case invalidUpdate(String)
    /// An image value is written in a way the editor does not rewrite (e.g. a block scalar).
    case unsupportedValue(path: String, line: Int, column: Int, reason: String)
    /// The entry pins a digest in a separate key and the update only gives a tag: the old digest would win.
    case digestPinned(path: String, line: Int, column: Int, image: String)
    /// The edited text re-parsed to something other than the intended change; nothing is written.
    case safetyCheckFailed(path: String, line: Int, column: Int, detail: String)
    /// A path given to the file layer does not exist.
    case fileNotFound(String)
    /// Reading or writing a file failed.
    case io(path: String, detail: String)

    /// A message with location, cause and what to do.
    public var description: String {
        switch self {
        case let .invalidYAML(path, line, column, problem):
            return "\(path):\(line):\(column): not valid YAML: \(problem); fix the file (nothing was changed)"
        case let .invalidUpdate(detail):
            return "invalid update: \(detail)"
        case let .unsupportedValue(path, line, column, reason):
            return "\(path):\(line):\(column): \(reason); rewrite the value as a plain or quoted scalar on one line"
        case let .digestPinned(path, line, column, image):
            return "\(path):\(line):\(column): \(image) is pinned by a 'digest' key; a new tag alone would be overridden by it, so pass IMAGE:TAG@DIGEST (or remove the digest)"
        case let .safetyCheckFailed(path, line, column, detail):
            return "\(path):\(line):\(column): refusing to edit: the result would change more than the image version (\(detail)); nothing was written"
        case let .fileNotFound(path):
            return "\(path): no such file or directory"
        case let .io(path, detail):
            return "\(path): \(detail)"
        }
    }
}
