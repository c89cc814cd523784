import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The only file I/O of the Manifests module: find manifest files, read them, plan edits across them and
/// write results atomically. Used by `promobot set-image` and the promotion engine's dry run.
///
/// All functions are safe to call from any thread; ``plan(updates:paths:)`` reads and edits files in
/// parallel but returns results in path order.
public enum ManifestFiles {
    /// The `.yaml`/`.yml` files under `paths`, sorted and without duplicates. A path that is a file is
    /// included whatever its extension; directories are walked recursively, skipping hidden entries (`.git`).
    /// - Throws: ``ManifestError/fileNotFound(_:)`` for a path that does not exist.
    public static func collect(_ paths: [String]) throws(ManifestError) -> [String] {
        var files = Set<String>()
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .fileNotFound(path) }
            guard isDirectory.boolValue else { files.insert(path); continue }
            let root = path.hasSuffix("/") ? String(path.dropLast()) : path
            guard let enumerator = manager.enumerator(atPath: root) else { throw .io(path: path, detail: "cannot list the directory") }
            while let relative = enumerator.nextObject() as? String {
                let components = relative.split(separator: "/")
                if components.contains(where: { $0.hasPrefix(".") }) { continue }
                guard relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") else { continue }
                let full = root + "/" + relative
                var entryIsDirectory: ObjCBool = false
                if manager.fileExists(atPath: full, isDirectory: &entryIsDirectory), !entryIsDirectory.boolValue {
                    files.insert(full)
                }
            }
        }
        return files.sorted()
    }

    /// The file's text (UTF-8).
    /// - Throws: ``ManifestError/io(path:detail:)`` when it cannot be read or is not UTF-8.
    public static func read(_ path: String) throws(ManifestError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io(path: path, detail: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .io(path: path, detail: "the file is not UTF-8 text")
        }
        return text
    }

    /// Replaces the file's contents atomically: writes a temporary file in the same folder, gives it the
    /// original file's mode, then renames it over the original. Readers see the old or the new file, never
    /// a mix. (No fsync: the caller commits to git next, which is the durable copy.)
    /// - Throws: ``ManifestError/io(path:detail:)`` naming the failing step; the original is untouched then.
    public static func write(_ text: String, to path: String) throws(ManifestError) {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        var template = Array(((directory.isEmpty ? "." : directory) + "/." + base + ".promobot-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw .io(path: path, detail: "cannot create a temporary file: \(errorText())") }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var keep = false
        defer {
            if !keep { unlink(temporary) }
        }
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
        if let failure { throw .io(path: path, detail: failure) }
        guard rename(temporary, path) == 0 else { throw .io(path: path, detail: "cannot replace the file: \(errorText())") }
        keep = true
    }

    /// Reads every manifest under `paths` and computes the edits for `updates`, without writing anything.
    ///
    /// Every file is processed even when some fail; failures are collected in the plan (see
    /// ``EditPlan/failures``) so the caller can refuse to write any file.
    /// - Throws: ``ManifestError`` for a path that does not exist or a malformed update.
    public static func plan(updates: [ImageUpdate], paths: [String]) throws(ManifestError) -> EditPlan {
        let wanted = try ManifestEditor.normalize(updates)
        let files = try collect(paths)
        let results = ResultBox(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            let path = files[index]
            do throws(ManifestError) {
                let text = try read(path)
                let result = try ManifestEditor.apply(text, path: path, wanted: wanted)
                results.set(index, .success(FileEdit(path: path, original: text, result: result)))
            } catch {
                results.set(index, .failure(error))
            }
        }
        var plan = EditPlan(updates: updates)
        for result in results.values {
            switch result {
            case .success(let edit): plan.files.append(edit)
            case .failure(let error): plan.failures.append(error)
            case nil: break
            }
        }
        return plan
    }

    /// Writes every changed file of `plan`, each atomically (in parallel; files are independent).
    /// - Throws: ``ManifestError/invalidUpdate(_:)`` when the plan has failures (nothing is written), or the
    ///   first write error in path order (other files may have been written).
    public static func commit(_ plan: EditPlan) throws(ManifestError) {
        guard plan.failures.isEmpty else {
            throw .invalidUpdate("\(plan.failures.count) file(s) failed; nothing was written")
        }
        let changed = plan.files.filter(\.isChanged)
        let results = ResultBox(count: changed.count)
        DispatchQueue.concurrentPerform(iterations: changed.count) { index in
            do throws(ManifestError) {
                try write(changed[index].result.text, to: changed[index].path)
            } catch {
                results.set(index, .failure(error))
            }
        }
        for case .failure(let error)? in results.values { throw error }
    }

    private static func errorText() -> String {
        String(cString: strerror(errno))
    }
}

/// Results written from `concurrentPerform` workers, each to its own slot.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<FileEdit, ManifestError>?]

    init(count: Int) {
        values = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: Result<FileEdit, ManifestError>) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }
}
