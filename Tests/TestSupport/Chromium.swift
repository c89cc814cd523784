import BlockingWork
import Foundation

/// Headless Chromium (Debian's `chromium` package, which `scripts/bootstrap` installs for `scripts/test`)
/// for tests that look at a page as a browser does: the DOM after parsing, and a screenshot.
///
/// Each run gets a fresh profile folder, writes its output to files rather than pipes (Chromium's helper
/// processes may keep inherited pipes open after it exits), waits on a thread of its own
/// (`BlockingWork`), and is killed when it outlives its timeout. A missing browser is a failure that says
/// how to install it, not a skip. Thread-safe: runs share nothing.
public enum Chromium {
    /// Why a run failed, with Chromium's last words.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The browser: `PROMOBOT_CHROMIUM` when set, else `chromium` on `PATH`.
    /// - Throws: ``Failure`` naming the package to install when there is none.
    public static func executable(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let explicit = environment["PROMOBOT_CHROMIUM"], !explicit.isEmpty { return explicit }
        for folder in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/chromium"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw Failure(description: "chromium not found on PATH: install Debian's 'chromium' package (scripts/test does it through "
            + "scripts/bootstrap), or set PROMOBOT_CHROMIUM to a Chromium binary")
    }

    /// The DOM of `url` after Chromium parsed it (`--dump-dom`), serialized as HTML.
    /// - Throws: ``Failure`` when Chromium is missing, fails, or outlives `timeout`.
    public static func dumpDOM(url: URL, timeout: Duration = .seconds(60)) async throws -> String {
        let output = try await run(["--dump-dom", url.absoluteString], timeout: timeout)
        guard !output.isEmpty else { throw Failure(description: "chromium printed no DOM for \(url.absoluteString)") }
        return output
    }

    /// Saves a PNG of `url` as shown in a `width` × `height` window (a phone is about 390 × 844).
    /// - Throws: ``Failure`` when Chromium is missing, fails, outlives `timeout`, or writes no image.
    public static func screenshot(url: URL, to file: URL, width: Int, height: Int, timeout: Duration = .seconds(60)) async throws {
        try? FileManager.default.removeItem(at: file)
        _ = try await run(["--hide-scrollbars", "--window-size=\(width),\(height)", "--screenshot=\(file.path)", url.absoluteString],
                          timeout: timeout)
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        guard size > 0 else { throw Failure(description: "chromium wrote no screenshot to \(file.path)") }
    }

    /// Runs headless Chromium with `arguments` and returns what it printed on standard output.
    static func run(_ arguments: [String], timeout: Duration) async throws -> String {
        let binary = try executable()
        return try await BlockingWork.run(name: "promobot.chromium") {
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("promobot-chromium-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            let stdout = scratch.appendingPathComponent("stdout"), stderr = scratch.appendingPathComponent("stderr")
            _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
            _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
            let out = try FileHandle(forWritingTo: stdout), err = try FileHandle(forWritingTo: stderr)
            defer { try? out.close(); try? err.close() }

            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                                 "--disable-extensions", "--disable-background-networking", "--user-data-dir=\(scratch.appendingPathComponent("profile").path)"]
                + arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            let timedOut = process.isRunning
            if timedOut {
                process.terminate()
                let grace = Date().addingTimeInterval(5)
                while process.isRunning && Date() < grace { Thread.sleep(forTimeInterval: 0.05) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
            process.waitUntilExit()
            let printed = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
            let complaints = ((try? String(contentsOf: stderr, encoding: .utf8)) ?? "").split(separator: "\n").suffix(5).joined(separator: "\n")
            if timedOut {
                throw Failure(description: "chromium \(arguments.joined(separator: " ")) did not finish within \(timeout); it said:\n\(complaints)")
            }
            guard process.terminationReason == .exit, process.terminationStatus == 0 else {
                throw Failure(description: "chromium \(arguments.joined(separator: " ")) exited with \(process.terminationStatus); it said:\n\(complaints)")
            }
            return printed
        }
    }
}
