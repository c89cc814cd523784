import CGit2

/// A git object name (SHA-1), as 40 lowercase hex digits.
///
/// A plain value: `Sendable`, `Hashable`, and free of any libgit2 state, so the engine can keep
/// tips in dictionaries and compare them across calls.
public struct ObjectID: Sendable, Hashable, CustomStringConvertible {
    /// The 40 lowercase hex digits of the object name.
    public let hex: String

    /// Validates and normalises `hex`; returns nil unless it is exactly 40 hex digits.
    public init?(hex: String) {
        let lower = hex.lowercased()
        guard lower.utf8.count == 40, lower.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            return nil
        }
        self.hex = lower
    }

    /// The hex form, so logs and MR text can print an `ObjectID` directly.
    public var description: String { hex }

    /// The first 8 hex digits, for short log lines.
    public var short: String { String(hex.prefix(8)) }

    // MARK: - libgit2 bridging (internal)

    init(_ oid: git_oid) {
        var copy = oid
        var buffer = [UInt8](repeating: 0, count: 40)
        buffer.withUnsafeMutableBufferPointer { out in
            out.withMemoryRebound(to: CChar.self) { _ = git_oid_fmt($0.baseAddress, &copy) }
        }
        self.hex = String(decoding: buffer, as: UTF8.self)
    }

    init(_ pointer: UnsafePointer<git_oid>) {
        self.init(pointer.pointee)
    }

    var oid: git_oid {
        var result = git_oid()
        _ = hex.withCString { git_oid_fromstr(&result, $0) }
        return result
    }

    var isZero: Bool { hex.allSatisfy { $0 == "0" } }
}
