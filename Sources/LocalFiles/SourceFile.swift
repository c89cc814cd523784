import Foundation
#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
#endif

/// Reads a file whole, after checking that it is a regular file within a size limit: the one bounded
/// reader for policy, config and manifest files.
///
/// `FileManager.contents(atPath:)` said only "cannot read the file", read any size into memory (a 50 MB
/// policy then needed 1.7 GB to parse), and blocked on a FIFO. Here the file is opened without blocking,
/// checked with `fstat`, and read with a bound even when its size changes or is unknown (`/proc`).
/// ``Problem``'s descriptions are worded for policy and config files;
/// `ManifestFiles` words the same problems for manifests. Thread-safe; blocking file I/O.
public enum SourceFile {
    /// Why a file could not be read, in words a user can act on.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case notFound
        case permissionDenied
        /// A folder, FIFO, socket or device: `kind` names which.
        case notARegularFile(kind: String)
        /// Larger than `limit` bytes (`bytes` is at least `limit + 1`).
        case tooLarge(bytes: Int, limit: Int)
        case notUTF8
        /// Any other error, with the system's text.
        case system(String)

        public var description: String {
            switch self {
            case .notFound: "cannot read the file: it does not exist"
            case .permissionDenied: "cannot read the file: permission denied (check its mode and owner)"
            case let .notARegularFile(kind): "cannot read the file: it is \(kind), not a regular file"
            case let .tooLarge(bytes, limit): "cannot read the file: it is \(Self.size(bytes)), larger than the limit of \(Self.size(limit)) (\(limit) bytes) for policy and config files"
            case .notUTF8: "the file is not UTF-8 text"
            case let .system(text): "cannot read the file: \(text)"
            }
        }

        private static func size(_ bytes: Int) -> String {
            let megabytes = Double(bytes) / 1_048_576
            return megabytes >= 10 || megabytes == megabytes.rounded()
                ? "\(Int(megabytes.rounded())) MB" : String(format: "%.1f MB", megabytes)
        }
    }

    /// The UTF-8 text of the file at `path`, or why not. Never reads more than `limit + 1` bytes.
    /// (`Policies` adds `read(_:)` with the policy limit.)
    public static func read(_ path: String, limit: Int) -> Result<String, Problem> {
        bytes(path, limit: limit).flatMap { bytes in
            guard let text = String(bytes: bytes, encoding: .utf8) else { return .failure(.notUTF8) }
            return .success(text)
        }
    }

    /// The bytes of the file at `path`, as they are on disk, or why not (never ``Problem/notUTF8``).
    /// Never reads more than `limit + 1` bytes; a regular file larger than `limit` is refused before it is
    /// read.
    public static func bytes(_ path: String, limit: Int) -> Result<[UInt8], Problem> {
        // O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(problem(errno)) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return .failure(problem(errno)) }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else { return .failure(.notARegularFile(kind: kind(of: type))) }
        if Int(info.st_size) > limit { return .failure(.tooLarge(bytes: Int(info.st_size), limit: limit)) }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size) + 1)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .failure(problem(errno))
            }
            if count == 0 { break }
            bytes += chunk[..<count]
            if bytes.count > limit { return .failure(.tooLarge(bytes: bytes.count, limit: limit)) }
        }
        return .success(bytes)
    }

    private static func problem(_ code: Int32) -> Problem {
        switch code {
        case ENOENT, ENOTDIR: .notFound
        case EACCES, EPERM: .permissionDenied
        case EISDIR: .notARegularFile(kind: "a folder")
        default: .system(String(cString: strerror(code)))
        }
    }

    private static func kind(of type: mode_t) -> String {
        switch type {
        case S_IFDIR: "a folder"
        case S_IFIFO: "a named pipe (FIFO)"
        case S_IFSOCK: "a socket"
        case S_IFCHR, S_IFBLK: "a device"
        default: "a special file"
        }
    }
}
