import Foundation
import Manifests
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Manifests on disk: find manifest files, read them, plan edits across them (with `Manifests`' pure
/// editor) and write results atomically, all or nothing. Used by `promobot set-image` and its benchmark.
/// The promotion engine never uses it: it edits the blobs it reads from git with `ManifestEditor`, and its
/// dry run edits nothing.
///
/// All functions are safe to call from any thread; ``plan(updates:paths:)`` reads and edits files in
/// parallel but returns results in path order.
public enum ManifestFiles {
    /// The `.yaml`/`.yml` files under `paths`, sorted, one path per file (see ``collectFiles(_:)``). A path
    /// that is a file is included whatever its extension; directories are walked with ``YAMLFileWalk``
    /// (recursively, skipping hidden entries such as `.git`).
    /// - Throws: ``ManifestError/fileNotFound(_:)`` for a path that does not exist.
    public static func collect(_ paths: [String]) throws(ManifestError) -> [String] {
        try collectFiles(paths).map(\.path)
    }

    /// A file to read and maybe edit: the path as found, and the real file behind it.
    struct Collected: Sendable {
        /// As given or found under a given folder (what messages show).
        var path: String
        /// The file with every symbolic link resolved: what is read and replaced, so a link stays a link.
        var target: String
        /// True when `target` lies outside every given path (a link out of the tree): never written.
        var isOutside: Bool
    }

    /// ``collect(_:)`` with each file's resolved target. Files are deduplicated by target, so a file named
    /// twice (`a.yaml ./a.yaml`, or a link and its target) is edited and reported once, under the path that
    /// is not itself a link when there is one (the shortest such).
    static func collectFiles(_ paths: [String]) throws(ManifestError) -> [Collected] {
        var found = Set<String>()
        var roots: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .fileNotFound(path) }
            roots.append(resolved(path) ?? path)
            guard isDirectory.boolValue else { found.insert(path); continue }
            guard let files = YAMLFileWalk.files(under: path) else { throw .io(path: path, detail: "cannot list the directory") }
            found.formUnion(files)
        }
        var byTarget: [String: Collected] = [:]
        for path in found.sorted() {
            let target = resolved(path) ?? path
            let inside = roots.contains { target == $0 || target.hasPrefix($0 == "/" ? "/" : $0 + "/") }
            let candidate = Collected(path: path, target: target, isOutside: !inside)
            // Shown under a path that is not itself a link when there is one, then the shortest (`a/x.yaml`
            // rather than `a/./x.yaml`).
            if let kept = byTarget[target],
               (isLink(kept.path) ? 1 : 0, kept.path.utf8.count) <= (isLink(path) ? 1 : 0, path.utf8.count) { continue }
            byTarget[target] = candidate
        }
        return byTarget.values.sorted { $0.path < $1.path }
    }

    /// The path with every symbolic link and `.`/`..` resolved, or nil when it cannot be.
    private static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    private static func isLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// The file's text (UTF-8), byte for byte: a byte-order mark is kept (Foundation's decoder would drop
    /// it, and the rewritten file would lose it). Read through ``SourceFile/bytes(_:limit:)``, the one
    /// bounded reader.
    /// - Throws: ``ManifestError/tooLarge(path:bytes:limit:)`` above ``ManifestLimits/maxFileBytes`` (checked
    ///   before reading), ``ManifestError/fileNotFound(_:)``, ``ManifestError/io(path:detail:)`` saying why
    ///   it cannot be read (permission, not a regular file, not UTF-8).
    public static func read(_ path: String) throws(ManifestError) -> String {
        let bytes: [UInt8]
        switch SourceFile.bytes(path, limit: ManifestLimits.maxFileBytes) {
        case let .success(read): bytes = read
        case .failure(.notFound): throw .fileNotFound(path)
        case let .failure(.tooLarge(size, limit)): throw .tooLarge(path: path, bytes: size, limit: limit)
        case .failure(.notARegularFile): throw .io(path: path, detail: "cannot read the file: not a regular file")
        case .failure(.permissionDenied): throw .io(path: path, detail: "cannot read the file: Permission denied")
        case .failure(.notUTF8): throw .io(path: path, detail: "cannot read the file: it is not UTF-8 text")
        case let .failure(.system(text)): throw .io(path: path, detail: "cannot read the file: \(text)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.elementsEqual(bytes) else {
            throw .io(path: path, detail: "cannot read the file: it is not UTF-8 text")
        }
        return text
    }

    /// Replaces the file's contents atomically: writes a temporary file in the same folder, gives it the
    /// original file's mode, then renames it over the original. Readers see the old or the new file, never
    /// a mix. (No fsync: the caller commits to git next, which is the durable copy.)
    /// - Throws: ``ManifestError/io(path:detail:)`` naming the failing step; the original is untouched then.
    public static func write(_ text: String, to path: String) throws(ManifestError) {
        let temporary = try stage(text, for: path)
        guard rename(temporary, path) == 0 else {
            let reason = errorText()
            unlink(temporary)
            throw .io(path: path, detail: "cannot replace the file: \(reason)")
        }
    }

    /// Writes `text` to a new temporary file next to `path`, with `path`'s mode; returns its name.
    /// - Throws: ``ManifestError/io(path:detail:)``; no temporary file is left then.
    private static func stage(_ text: String, for path: String) throws(ManifestError) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        var template = Array(((directory.isEmpty ? "." : directory) + "/." + base + ".promobot-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw .io(path: path, detail: "cannot create a temporary file: \(errorText())") }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var info = stat()
        let mode: mode_t = stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0o644
        var failure: String?
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = "cannot write: \(errorText())"
                    return
                }
                offset += written
            }
        }
        if failure == nil, fchmod(descriptor, mode) != 0 { failure = "cannot set the file mode: \(errorText())" }
        if close(descriptor) != 0, failure == nil { failure = "cannot close: \(errorText())" }
        if let failure {
            unlink(temporary)
            throw .io(path: path, detail: failure)
        }
        return temporary
    }

    /// Reads every manifest under `paths` and computes the edits for `updates`, without writing anything.
    ///
    /// Every file is processed even when some fail; failures are collected in the plan (see
    /// ``EditPlan/failures``) so the caller can refuse to write any file. A link whose target is outside
    /// the given paths is read, and refused (a failure) only if it would be edited.
    /// - Throws: ``ManifestError`` for a path that does not exist or a malformed update.
    public static func plan(updates: [ImageUpdate], paths: [String]) throws(ManifestError) -> EditPlan {
        let wanted = try ManifestEditor.prepare(updates)
        let files = try collectFiles(paths)
        let results = ResultBox(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            let file = files[index]
            var text: String?
            do throws(ManifestError) {
                let read = try read(file.target)
                text = read
                let result = try ManifestEditor.apply(read, path: file.path, prepared: wanted)
                if file.isOutside, result.text != read { throw .linkOutsidePaths(path: file.path, target: file.target) }
                results.set(index, .init(edit: FileEdit(path: file.path, original: read, result: result, target: file.target)))
            } catch {
                // The images a refused file holds are not "not found": the file was refused instead.
                let names = text.flatMap { try? ManifestEditor.imageNames(in: $0, path: file.path) }.map(Array.init) ?? []
                results.set(index, .init(failure: error, imagesInFailure: names))
            }
        }
        var plan = EditPlan(updates: updates)
        for result in results.values {
            guard let result else { continue }
            if let edit = result.edit { plan.files.append(edit) }
            if let failure = result.failure { plan.failures.append(failure) }
            plan.imagesInFailedFiles.formUnion(result.imagesInFailure)
        }
        return plan
    }

    /// Writes every changed file of `plan`, all or nothing: first every new text goes to a temporary file
    /// next to its target, then the temporaries are renamed over the targets. If a temporary cannot be
    /// written, nothing is replaced; if a rename fails, the files already replaced get their original text
    /// back, and the error says so.
    /// - Throws: ``ManifestError/invalidUpdate(_:)`` when the plan has failures (nothing is written), or
    ///   ``ManifestError/io(path:detail:)`` for the failing file, saying what was written and restored.
    public static func commit(_ plan: EditPlan) throws(ManifestError) {
        try commit(plan, fault: nil)
    }

    /// A step of ``commit(_:)``, for tests that make it fail.
    enum CommitStep: Sendable { case stage, replace, restore }

    /// ``commit(_:)`` with `fault(step, path)` returning an `errno` to fail that step with (tests only).
    static func commit(_ plan: EditPlan, fault: ((CommitStep, String) -> Int32?)?) throws(ManifestError) {
        guard plan.failures.isEmpty else {
            throw .invalidUpdate("\(plan.failures.count) file(s) failed; nothing was written")
        }
        let changed = plan.files.filter(\.isChanged)
        var staged: [String] = []
        for file in changed {
            do throws(ManifestError) {
                if let code = fault?(.stage, file.target) {
                    throw .io(path: file.target, detail: "cannot create a temporary file: \(String(cString: strerror(code)))")
                }
                staged.append(try stage(file.result.text, for: file.target))
            } catch {
                for temporary in staged { unlink(temporary) }
                throw .io(path: file.path, detail: "\(detail(error)); nothing was written")
            }
        }
        for (index, file) in changed.enumerated() {
            let code = fault?(.replace, file.target) ?? (rename(staged[index], file.target) == 0 ? nil : errno)
            guard let code else { continue }
            for temporary in staged[index...] { unlink(temporary) }
            var restored: [String] = [], lost: [String] = []
            for done in changed[..<index] {
                do throws(ManifestError) {
                    if let restoreCode = fault?(.restore, done.target) {
                        throw .io(path: done.target, detail: String(cString: strerror(restoreCode)))
                    }
                    try write(done.original, to: done.target)
                    restored.append(done.path)
                } catch {
                    lost.append(done.path)
                }
            }
            var detail = "cannot replace the file: \(String(cString: strerror(code)))"
            if changed[..<index].isEmpty { detail += "; nothing was written" }
            if !restored.isEmpty { detail += "; restored the \(restored.count) file(s) already written (\(restored.joined(separator: ", ")))" }
            if !lost.isEmpty { detail += "; could NOT restore \(lost.joined(separator: ", ")): they hold the new text, check them" }
            throw .io(path: file.path, detail: detail)
        }
    }

    /// The message of an I/O error without its path (the caller names the file).
    private static func detail(_ error: ManifestError) -> String {
        if case .io(_, let detail) = error { return detail }
        return error.description
    }

    private static func errorText() -> String {
        String(cString: strerror(errno))
    }
}

/// Results written from `concurrentPerform` workers, each to its own slot.
private final class ResultBox: @unchecked Sendable {
    /// One file's outcome: an edit, or a failure and the image names the refused file holds.
    struct Slot {
        var edit: FileEdit?
        var failure: ManifestError?
        var imagesInFailure: [String] = []

        init(edit: FileEdit) { self.edit = edit }
        init(failure: ManifestError, imagesInFailure: [String]) {
            self.failure = failure
            self.imagesInFailure = imagesInFailure
        }
    }

    private let lock = NSLock()
    private(set) var values: [Slot?]

    init(count: Int) {
        values = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: Slot) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }
}
