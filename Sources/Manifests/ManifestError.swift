/// Why a manifest could not be read or edited. Every message starts with `path:line:col` (or `path`) and
/// says what to do. A value type.
public enum ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file is not valid YAML (and does not look like a template, which would be skipped instead).
    case invalidYAML(path: String, line: Int, column: Int, problem: String)
    /// An update is malformed (bad image, tag or digest, or two updates for the same image).
    case invalidUpdate(String)
    /// An image value is written in a way the editor does not rewrite (e.g. a block scalar over several
    /// lines, or a `!!null` that a version would have to be written into).
    case unsupportedValue(path: String, line: Int, column: Int, reason: String)
    /// The entry pins a digest in a separate key and the update only gives a tag: the old digest would win.
    case digestPinned(path: String, line: Int, column: Int, image: String)
    /// The edited text re-parsed to something other than the intended change; nothing is written.
    case safetyCheckFailed(path: String, line: Int, column: Int, detail: String)
    /// A path given to the file layer does not exist.
    case fileNotFound(String)
    /// The file is larger than ``ManifestLimits/maxFileBytes``; it is not read.
    case tooLarge(path: String, bytes: Int, limit: Int)
    /// Nesting or alias expansion beyond ``ManifestLimits`` (an alias bomb, or absurdly deep collections).
    case tooComplex(path: String, line: Int, column: Int, reason: String)
    /// The version to set is shared through an anchor/alias with a value that is not this image's version
    /// (e.g. `kind: &k Kustomization` and `newTag: *k`): setting it would silently change the other one.
    case sharedValue(path: String, line: Int, column: Int, detail: String)
    /// A symbolic link whose target lies outside every path given: its target is not edited.
    case linkOutsidePaths(path: String, target: String)
    /// Reading or writing a file failed.
    case io(path: String, detail: String)

    /// A message with location, cause and what to do, on one line: paths and values from files are
    /// echoed with control characters escaped (``EchoText``), so a file name or value cannot forge a line
    /// wherever the message is printed (set-image, the engine's logs, a merge request).
    public var description: String {
        EchoText.escapingControls(message)
    }

    private var message: String {
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
        case let .tooLarge(path, bytes, limit):
            return "\(path): the file is \(Self.size(bytes)) (\(bytes) bytes), over the \(Self.size(limit)) limit for manifests; split it into smaller files (nothing was changed)"
        case let .tooComplex(path, line, column, reason):
            return "\(path):\(line):\(column): \(reason); simplify the file (nothing was changed)"
        case let .sharedValue(path, line, column, detail):
            return "\(path):\(line):\(column): refusing to edit: \(detail); write the value out in full instead of the anchor/alias (nothing was changed)"
        case let .linkOutsidePaths(path, target):
            return "\(path): is a symbolic link to \(target), outside the paths given; pass that file or its folder too, or edit it directly (nothing was changed)"
        case let .io(path, detail):
            return "\(path): \(detail)"
        }
    }

    /// `4 MiB`, `50.0 MiB`, `812 bytes`: sizes in messages.
    static func size(_ bytes: Int) -> String {
        let mebibyte = 1024 * 1024
        if bytes >= mebibyte {
            let tenths = (bytes * 10 + mebibyte / 2) / mebibyte
            return tenths % 10 == 0 ? "\(tenths / 10) MiB" : "\(tenths / 10).\(tenths % 10) MiB"
        }
        return bytes >= 1024 ? "\(bytes / 1024) KiB" : "\(bytes) bytes"
    }
}
