import Foundation

/// Where tests find the repository's own files and put their scratch folders.
public enum TestPaths {
    /// The repository root: the nearest folder above `filePath` that holds `Package.swift`.
    public static func repositoryRoot(filePath: String = #filePath) -> String {
        var url = URL(fileURLWithPath: filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }

    /// A fresh folder `promobot-<label>-<UUID>` under the temporary directory; the caller removes it.
    public static func temporaryFolder(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("promobot-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Every regular file under `root` (links followed, hidden files included: no temporary file may be
/// left behind) with its bytes, keyed `/relative/path`: the before/after picture of "nothing else changed".
public func fileBytes(under root: String) throws -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        var isDirectory: ObjCBool = false
        let full = root + "/" + relative
        if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
            files["/" + relative] = Array(try Data(contentsOf: URL(fileURLWithPath: full)))
        }
    }
    return files
}
