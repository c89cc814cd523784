import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A size-limited tmpfs mounted over a test's folder, so writes there fail with ENOSPC like on a full
/// disk. Mounting needs root with `CAP_SYS_ADMIN` (the CI machine and the developers' machines run as
/// root); elsewhere `available` is false and the tests that need it are skipped (Swift Testing's
/// `.enabled(if: SmallFilesystem.available)`).
public enum SmallFilesystem {
    /// Whether this process can mount a tmpfs: tried once, on a scratch folder, and unmounted at once.
    public static let available: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/mount"),
              let probe = try? TestPaths.temporaryFolder("tmpfs-probe") else { return false }
        defer { try? FileManager.default.removeItem(at: probe) }
        guard mount(probe, bytes: 64 * 1024) else { return false }
        unmount(probe)
        return true
    }()

    /// Mounts a tmpfs of `bytes` over `folder` (created when missing), runs `body`, and unmounts on every
    /// path (lazily when something still has a file open there).
    public static func with<T>(at folder: URL, bytes: Int, _ body: () async throws -> T) async throws -> T {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        guard mount(folder, bytes: bytes) else { throw SmallFilesystemError("could not mount a tmpfs on \(folder.path)") }
        defer { unmount(folder) }
        return try await body()
    }

    /// Gives the tmpfs mounted over `folder` a new size (its files stay).
    public static func resize(_ folder: URL, bytes: Int) throws {
        guard run("/usr/bin/mount", ["-o", "remount,size=\(bytes)", folder.path]) else {
            throw SmallFilesystemError("could not resize the tmpfs on \(folder.path)")
        }
    }

    /// Writes a file in `folder` until the file system refuses (ENOSPC); returns it, so deleting it frees
    /// the space again.
    @discardableResult
    public static func fill(_ folder: URL) throws -> URL {
        let filler = folder.appendingPathComponent("filler-\(UUID().uuidString)")
        let fd = open(filler.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SmallFilesystemError("cannot create \(filler.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x5A, count: 4096)
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                guard errno == ENOSPC else { throw SmallFilesystemError("writing \(filler.path): \(String(cString: strerror(errno)))") }
                return filler
            }
            if written == 0 { return filler }
        }
    }

    /// Free bytes on the file system holding `folder`.
    public static func freeBytes(_ folder: URL) -> Int {
        var info = statvfs()
        guard statvfs(folder.path, &info) == 0 else { return -1 }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    private static func mount(_ folder: URL, bytes: Int) -> Bool {
        run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes),mode=0755", "tmpfs", folder.path])
    }

    private static func unmount(_ folder: URL) {
        if !run("/usr/bin/umount", [folder.path]) { _ = run("/usr/bin/umount", ["-l", folder.path]) }
    }

    private static func run(_ executable: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

/// Why a small file system could not be set up.
public struct SmallFilesystemError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
