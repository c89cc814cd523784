import Foundation

/// The one walk for "the YAML files under this folder", used by `Policies.PolicyLoader` (policy files)
/// and ``ManifestFiles`` (manifests). Thread-safe; blocking file I/O.
public enum YAMLFileWalk {
    /// Whether `name` (a file name, not a path) ends in `.yaml` or `.yml`.
    public static func isYAMLName(_ name: String) -> Bool {
        name.hasSuffix(".yaml") || name.hasSuffix(".yml")
    }

    /// The regular files under `folder`, recursively, whose name passes `isIncluded` (default
    /// ``isYAMLName(_:)``), sorted. Hidden entries (`.git`, `.hidden/x.yaml`) are skipped. A symbolically
    /// linked folder (a ConfigMap mount) is walked through its target, but every path is reported under
    /// the name given (`folder/relative`). Links inside the folder are not followed into other folders.
    /// - Returns: nil when the folder cannot be listed.
    public static func files(
        under folder: String, including isIncluded: (String) -> Bool = isYAMLName
    ) -> [String]? {
        let manager = FileManager.default
        // The enumerator does not descend into a root that is a link: walk the resolved folder.
        let resolved = (folder as NSString).resolvingSymlinksInPath
        guard let enumerator = manager.enumerator(atPath: resolved) else { return nil }
        let root = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let parts = relative.split(separator: "/")
            guard !parts.contains(where: { $0.hasPrefix(".") }), let last = parts.last, isIncluded(String(last))
            else { continue }
            let full = root + "/" + relative
            var isSubfolder: ObjCBool = false
            if manager.fileExists(atPath: full, isDirectory: &isSubfolder), !isSubfolder.boolValue {
                found.append(full)
            }
        }
        return found.sorted()
    }
}
