import Foundation
import LocalFiles
import Yams

/// Finds and reads policy files, and runs the checks that span files (duplicate policy names).
///
/// Its I/O goes through `LocalFiles`: folders are searched with `YAMLFileWalk` (recursively, for `*.yaml` /
/// `*.yml`; hidden entries and `promobot.yaml`/`promobot.yml`, the global config, are skipped) and files
/// are read with `SourceFile`. Thread-safe; blocking file I/O.
public enum PolicyLoader {
    /// Loads every policy file in `paths` (files or folders).
    ///
    /// A path that does not exist or cannot be read becomes a diagnostic, not a throw; so does a file over
    /// `YAMLLimits.maxFileBytes`, which is refused before it is read.
    /// `shared`: the config's `stageDefaults:` and company-wide `freezes:`, applied to every policy.
    public static func load(paths: [String], shared: SharedSettings = .none) -> PolicySet {
        let (files, findDiagnostics) = policyFiles(in: paths)
        var sources: [(path: String, yaml: String)] = []
        var readDiagnostics: [Diagnostic] = []
        for file in files {
            switch SourceFile.read(file) {
            case let .success(text): sources.append((file, text))
            case let .failure(problem):
                readDiagnostics.append(Diagnostic(path: file, line: 0, column: 0, message: problem.description))
            }
        }
        var set = check(sources: sources, shared: shared)
        set.files = files
        set.diagnostics = Diagnostic.sortedByPosition(findDiagnostics + readDiagnostics + set.diagnostics)
        return set
    }

    /// The policy files named by `paths`, sorted, and diagnostics for paths that do not exist or hold no policies.
    public static func policyFiles(in paths: [String]) -> (files: [String], diagnostics: [Diagnostic]) {
        var files: [String] = []
        var diagnostics: [Diagnostic] = []
        let manager = FileManager.default
        for path in paths {
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isFolder) else {
                diagnostics.append(Diagnostic(path: path, line: 0, column: 0, message: "no such file or folder"))
                continue
            }
            guard isFolder.boolValue else {
                files.append(path)
                continue
            }
            // A folder that cannot be listed holds no policies we can see: the warning below says so.
            let found = YAMLFileWalk.files(under: path, including: isPolicyFileName) ?? []
            if found.isEmpty {
                diagnostics.append(Diagnostic(path: path, line: 0, column: 0, severity: .warning,
                                              message: "no policy files (*.yaml, *.yml) in this folder"))
            }
            files += found
        }
        var seen = Set<String>()
        return (files.filter { seen.insert($0).inserted }, diagnostics)
    }

    /// Parses already-read files and runs the cross-file checks. Pure.
    public static func check(sources: [(path: String, yaml: String)], shared: SharedSettings = .none) -> PolicySet {
        let results = sources.map { PolicyParser.parseDetailed(yaml: $0.yaml, path: $0.path, shared: shared) }
        var diagnostics = results.flatMap(\.diagnostics)
        var firstUse: [String: (path: String, mark: Mark?)] = [:]
        var duplicated = Set<String>()
        for (index, result) in results.enumerated() {
            guard let name = result.name else { continue }
            let path = sources[index].path
            if let first = firstUse[name] {
                duplicated.insert(name)
                let where_ = first.mark.map { "\(first.path):\($0.line):\($0.column)" } ?? first.path
                diagnostics.append(Diagnostic(
                    path: path, line: result.nameMark?.line ?? 0, column: result.nameMark?.column ?? 0,
                    message: "duplicate policy name '\(name)': already used at \(where_); policy names must be unique"))
            } else {
                firstUse[name] = (path, result.nameMark)
            }
        }
        let policies = results.compactMap(\.policy).filter { !duplicated.contains($0.name) }
        return PolicySet(policies: policies, diagnostics: Diagnostic.sortedByPosition(diagnostics),
                         files: sources.map(\.path))
    }

    static func isPolicyFileName(_ name: String) -> Bool {
        YAMLFileWalk.isYAMLName(name) && name != "promobot.yaml" && name != "promobot.yml"
    }
}
