import Foundation

/// Runs the real `promobot` binary (built next to the test bundle) and captures what it prints.
enum BinaryRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("promobot")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/promobot")
    }

    /// Runs `promobot arguments...` in `directory` with `environment` added to this process's, and waits (bounded).
    /// The wait happens on a thread of its own: the child may be talking to an in-process Sandbox that needs
    /// the cooperative pool to answer, so blocking a pool thread here could deadlock on a 2-core machine.
    static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:], timeout: TimeInterval = 120) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result { try runBlocking(arguments, in: directory, environment: environment, timeout: timeout) })
            }
        }
    }

    private static func runBlocking(_ arguments: [String], in directory: URL?, environment: [String: String], timeout: TimeInterval) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
        nonisolated(unsafe) var stdout = Data(), stderr = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { stdout = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { stderr = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}

// MARK: - A running server

extension BinaryRunner {
    /// Why a long-running `promobot` never said it was ready.
    struct NotReady: Error, CustomStringConvertible {
        var output: Result
        var description: String { "promobot exited (\(output.status)) or timed out before it was ready:\n\(output.stdout)\n\(output.stderr)" }
    }

    /// Starts `promobot arguments...` (a server such as `sandbox`), waits until its standard output holds
    /// `ready`, runs `body` with what it printed so far, then stops it with SIGTERM (SIGKILL after 20 s) and
    /// waits for it, on every path. Returns `body`'s value and everything the process printed.
    /// - Throws: ``NotReady`` when it exits or `timeout` passes first; what `body` throws.
    static func withRunning<T>(_ arguments: [String], environment: [String: String] = [:], until ready: String,
                               timeout: TimeInterval = 120, _ body: (_ started: String) async throws -> T) async throws -> (value: T, output: Result) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let stdout = Captured(), stderr = Captured()
        try process.run()
        stdout.drain(out.fileHandleForReading)
        stderr.drain(err.fileHandleForReading)

        func stop() async -> Result {
            if process.isRunning { process.terminate() }
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning {
                if Date() > deadline { kill(process.processIdentifier, SIGKILL) }
                try? await Task.sleep(for: .milliseconds(20))
            }
            await stdout.finished()
            await stderr.finished()
            return Result(status: process.terminationStatus, stdout: stdout.text, stderr: stderr.text)
        }

        let deadline = Date().addingTimeInterval(timeout)
        while !stdout.text.contains(ready) {
            guard process.isRunning, Date() < deadline else { throw NotReady(output: await stop()) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        do {
            let value = try await body(stdout.text)
            return (value, await stop())
        } catch {
            _ = await stop()
            throw error
        }
    }

    /// What a child wrote to one pipe, read on a thread of its own until end of file.
    final class Captured: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        private var done = false

        var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

        func drain(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                while case let chunk = handle.availableData, !chunk.isEmpty { lock.withLock { data.append(chunk) } }
                lock.withLock { done = true }
            }
        }

        /// Returns once the pipe reached end of file.
        func finished() async {
            while !lock.withLock({ done }) { try? await Task.sleep(for: .milliseconds(10)) }
        }
    }
}
