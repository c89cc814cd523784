import BlockingWork
import Foundation
import Synchronization

/// The outcome of one child process: exit status and everything it wrote.
struct ProcessResult: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: Data

    /// Standard output as text, trailing newline removed.
    var output: String {
        var text = String(decoding: stdout, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// Standard error as text, for error messages.
    var errorText: String {
        String(decoding: stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Runs child processes (git) synchronously, feeding stdin and draining stdout/stderr
/// concurrently so large pack streams never deadlock on a full pipe.
///
/// `run` blocks its calling thread; async callers go through `runAsync`, which hops to a
/// dedicated thread (`BlockingWork`) so Swift concurrency's cooperative threads are never blocked.
enum ProcessRunner {
    /// Serialises pipe creation and spawning (see `run`).
    private static let spawnLock = NSLock()

    /// Runs `executable` with `arguments`; throws only when the process cannot be started.
    static func run(
        _ executable: String = "/usr/bin/env",
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: URL? = nil,
        stdin: Data? = nil
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        // Foundation's pipes are not close-on-exec: a concurrently spawned child (a test's curl, a
        // long-lived git) would inherit our pipe ends and hold them open, so reads never see EOF.
        // Create and mark them under one lock, and spawn under it too.
        let outPipe: Pipe, errPipe: Pipe, inPipe: Pipe?
        spawnLock.lock()
        do {
            defer { spawnLock.unlock() }
            outPipe = Pipe(); errPipe = Pipe(); inPipe = stdin == nil ? nil : Pipe()
            for pipe in [outPipe, errPipe] + (inPipe.map { [$0] } ?? []) {
                _ = fcntl(pipe.fileHandleForReading.fileDescriptor, F_SETFD, FD_CLOEXEC)
                _ = fcntl(pipe.fileHandleForWriting.fileDescriptor, F_SETFD, FD_CLOEXEC)
            }
            process.standardOutput = outPipe
            process.standardError = errPipe
            process.standardInput = inPipe ?? FileHandle.nullDevice
            try process.run()
        }

        let group = DispatchGroup()
        let collected = Mutex((Data(), Data()))
        group.enter()
        Thread.detachNewThread {
            let data = outPipe.fileHandleForReading.readDataToEndOfFile()
            collected.withLock { $0.0 = data }
            group.leave()
        }
        group.enter()
        Thread.detachNewThread {
            let data = errPipe.fileHandleForReading.readDataToEndOfFile()
            collected.withLock { $0.1 = data }
            group.leave()
        }
        if let inPipe, let stdin {
            let handle = inPipe.fileHandleForWriting
            // A child that exits early closes its end; ignore EPIPE-style failures.
            try? handle.write(contentsOf: stdin)
            try? handle.close()
        }
        group.wait()
        process.waitUntilExit()
        let (out, err) = collected.withLock { $0 }
        return ProcessResult(status: process.terminationStatus, stdout: out, stderr: err)
    }

    /// `run` on a dedicated thread; never blocks the cooperative pool.
    static func runAsync(
        _ executable: String = "/usr/bin/env",
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: URL? = nil,
        stdin: Data? = nil
    ) async throws -> ProcessResult {
        try await BlockingWork.run(name: "promobot.sandbox", stackSize: 1 << 20) {
            try run(executable, arguments, environment: environment, currentDirectory: currentDirectory, stdin: stdin)
        }
    }
}
