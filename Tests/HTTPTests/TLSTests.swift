import Foundation
import Testing
@testable import HTTP

/// `openssl s_server -www` on 127.0.0.1 with a fresh self-signed certificate for IP 127.0.0.1.
struct TLSServer {
    static let openssl = "/usr/bin/openssl"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: openssl) }

    let port: Int
    let certificatePath: String
    var url: URL { URL(string: "https://127.0.0.1:\(port)/")! }

    /// Runs `body` against a fresh server; stops it and deletes its files on every path.
    static func with<T>(_ body: (TLSServer) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("promobot-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path

        let generate = Process()
        generate.executableURL = URL(fileURLWithPath: openssl)
        generate.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                              "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                              "-addext", "subjectAltName=IP:127.0.0.1"]
        generate.standardOutput = FileHandle.nullDevice
        generate.standardError = FileHandle.nullDevice
        try generate.run()
        generate.waitUntilExit()
        try #require(generate.terminationStatus == 0)

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
        let port = try #require(acceptLine()?.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        return try await body(TLSServer(port: port, certificatePath: cert))
    }
}

@Suite struct TLSTests {
    @Test(.enabled(if: TLSServer.available, "needs the openssl command"))
    func untrustedCertificatesAreRejectedUnlessTrustedViaCABundle() async throws {
        try await TLSServer.with { server in
            let strict = makeClient(retry: .none) { $0.totalTimeout = .seconds(5) }
            let rejected = try await httpError { try await strict.get(server.url) }
            #expect(rejected.kind == .tls)
            #expect(rejected.description.contains("TLS failed"))

            let trusting = makeClient(retry: .none) { $0.caBundlePath = server.certificatePath; $0.totalTimeout = .seconds(5) }
            #expect(try await trusting.get(server.url).status == 200)

            let insecure = makeClient(retry: .none) { $0.verifyTLS = false; $0.totalTimeout = .seconds(5) }
            #expect(try await insecure.get(server.url).status == 200)
        }
    }
}
