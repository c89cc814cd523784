import Foundation

/// `openssl s_server -www` on 127.0.0.1 with a fresh self-signed certificate for `localhost` and
/// IP 127.0.0.1 (mbedTLS, which Debian's libgit2 uses, matches DNS names only).
public struct TLSServer {
    public static let openssl = "/usr/bin/openssl"
    public static var available: Bool { FileManager.default.isExecutableFile(atPath: openssl) }

    public let port: Int
    public let certificatePath: String
    public var url: URL { URL(string: "https://127.0.0.1:\(port)/")! }

    /// Runs `body` against a fresh server; stops it and deletes its files on every path.
    public static func with<T>(_ body: (TLSServer) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("promobot-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path

        let generate = Process()
        generate.executableURL = URL(fileURLWithPath: openssl)
        generate.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                              "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                              "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
        generate.standardOutput = FileHandle.nullDevice
        generate.standardError = FileHandle.nullDevice
        try generate.run()
        generate.waitUntilExit()
        guard generate.terminationStatus == 0 else { throw TLSServerError("openssl req failed") }

        let server = Process()
        let output = Pipe()
        server.executableURL = URL(fileURLWithPath: openssl)
        server.arguments = ["s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key, "-www"]
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        server.standardInput = Pipe()
        try server.run()
        defer {
            // SIGKILL: a child spawned from a thread that blocks signals inherits the mask, so SIGTERM may never land.
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        // s_server prints "ACCEPT 127.0.0.1:<port>" once it listens (within milliseconds).
        var text = ""
        func acceptLine() -> Substring? {
            text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().first { $0.hasPrefix("ACCEPT") }
        }
        while acceptLine() == nil {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }  // s_server exited
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let port = acceptLine()?.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw TLSServerError("openssl s_server did not start: \(text)")
        }
        return try await body(TLSServer(port: port, certificatePath: cert))
    }
}

struct TLSServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
