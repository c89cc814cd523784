import Foundation
import HTTP
import PromobotCLI
import Sandbox
import Synchronization
import Testing
import TestSupport

/// `promobot serve` as a Deployment runs it: the real binary, a config file, the token in the environment,
/// probes over HTTP, and SIGTERM for a graceful stop.
@Suite(.serialized) struct ServeCommandTests {
    /// A running `promobot serve` child; its stderr is collected on a thread of its own.
    final class ServeProcess: @unchecked Sendable {
        let process = Process()
        private let output = Output()

        /// What the child printed so far.
        final class Output: Sendable {
            private let text = Mutex("")
            func append(_ data: Data) { text.withLock { $0 += String(decoding: data, as: UTF8.self) } }
            var value: String { text.withLock { $0 } }
        }

        init(arguments: [String], in folder: URL, environment: [String: String]) throws {
            process.executableURL = BinaryRunner.binary
            process.arguments = arguments
            process.currentDirectoryURL = folder
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let pipe = Pipe()
            process.standardError = pipe
            process.standardOutput = pipe
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread { [output] in
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    output.append(data)
                }
            }
        }

        var text: String { output.value }

        /// The port from the "listening on HOST:PORT" line, once it appears (at most `seconds`).
        func port(within seconds: Double = 60) async throws -> Int {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if let match = text.firstMatch(of: /listening on 127\.0\.0\.1:(\d+)/), let port = Int(match.1) { return port }
                if !process.isRunning { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw TestFailure("promobot serve did not start listening:\n\(text)")
        }

        /// Waits (off the pool) for the exit, at most `seconds`; nil when it is still running.
        func exitStatus(within seconds: Double) async -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if !process.isRunning { return process.terminationStatus }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return process.isRunning ? nil : process.terminationStatus
        }

        deinit { if process.isRunning { process.terminate() } }
    }

    @Test func servesProbesMetricsAndThePageAndStopsGracefullyOnSIGTERM() async throws {
        try await withSandbox("cli-serve") { sandbox, folder in
            let s = try EngineCommandTests.Setup(sandbox: sandbox, folder: folder)
            let serve = try ServeProcess(arguments: ["serve", "--listen", "127.0.0.1:0", "--resync", "1h", "--log-format", "text"],
                                         in: folder, environment: [s.tokenVariable: s.token, "PROMOBOT_WEBHOOK_SECRET": "s3cret-\(UUID())"])
            let port = try await serve.port()
            let client = CurlHTTPClient(configuration: { var c = HTTPClientConfiguration(); c.proxy = .none; return c }())
            func get(_ path: String) async throws -> HTTPResponse {
                try await client.send(HTTPRequest(method: .get, url: URL(string: "http://127.0.0.1:\(port)/\(path)")!, timeout: .seconds(10)))
            }
            #expect(try await get("healthz").status == 200)
            var ready = false
            for _ in 0..<200 where !ready {
                ready = try await get("readyz").status == 200
                if !ready { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(ready, "never ready:\n\(serve.text)")
            #expect(sandbox.mergeRequests(project: "group/oms-deploy").count == 1, "the first cycle opened the test MR")
            let metrics = String(decoding: try await get("metrics").body, as: UTF8.self)
            #expect(metrics.contains("promobot_build_info{"), "\(metrics)")
            // The version baked in at build time, the same `promobot version` prints.
            #expect(metrics.contains("version=\"\(Promobot.version)\""), "\(metrics)")
            let page = String(decoding: try await get("").body, as: UTF8.self)
            #expect(page.contains("oms") && page.contains("!1"), "\(page)")

            let started = Date()
            kill(serve.process.processIdentifier, SIGTERM)
            let status = await serve.exitStatus(within: 30)
            #expect(status == 0, "exit \(String(describing: status)) after SIGTERM:\n\(serve.text)")
            #expect(Date().timeIntervalSince(started) < 30)
            #expect(!serve.text.contains(s.token))
        }
    }

    @Test func aBrokenConfigFailsTheStartWithExitTwo() async throws {
        try await withSandbox("cli-serve-bad") { sandbox, folder in
            let s = try EngineCommandTests.Setup(sandbox: sandbox, folder: folder)
            let result = try await BinaryRunner.run(["serve", "--listen", "127.0.0.1:0"], in: folder, environment: [s.tokenVariable: ""])
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.contains(s.tokenVariable), "\(result.stderr)")
            let usage = try await BinaryRunner.run(["serve", "--listen", "nowhere"], in: folder)
            #expect(usage.status == 2 && usage.stderr.contains("HOST:PORT"), "\(usage.stderr)")
        }
    }
}
