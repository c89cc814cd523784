import ArgumentParser
import Foundation
import Sandbox
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Helpers shared by the `refresh` and `engine` benchmarks: child processes with their own wall time and
/// peak memory, sandbox request tallies, temp folders and table printing.
enum BenchSupport {
    /// Seconds of a `Duration`, as a `Double`.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Runs `body` and returns its result and wall time in seconds.
    static func timed<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let value = try await body()
        return (value, seconds(clock.now - start))
    }

    /// A fresh temp folder for one benchmark run; the caller removes it (see `removeFolder`).
    static func makeTempFolder(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A random token for the run's bot user; it lives in memory and in child environments only.
    static func makeToken() -> String {
        "glpat-bench-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// `scripts/<name>` of this source tree (the bench binary is built from it), or `override`.
    static func scriptPath(_ name: String, override: String?) -> String {
        if let override { return override }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/\(name)").path
    }

    /// Formats `x` as a ratio with one decimal (`12.3x`), or `n/a` when the denominator is zero.
    static func ratio(_ numerator: Double, _ denominator: Double) -> String {
        guard denominator > 0, numerator.isFinite else { return "n/a" }
        return String(format: "%.1fx", numerator / denominator)
    }

    /// Prints rows as a left-aligned text table (first row is the header).
    static func printTable(_ rows: [[String]]) {
        guard let header = rows.first else { return }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        for (index, row) in rows.enumerated() {
            let line = row.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            print(line.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            if index == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
    }

    /// Prints a progress line and flushes, so it shows up at once even when the output is piped (`| tee`).
    static func progress(_ line: String) {
        print(line)
        fflush(nil)
    }

    /// "held" / "MISSED" for a target line.
    static func verdict(_ held: Bool) -> String { held ? "held" : "MISSED" }
}

// MARK: - Sandbox request tally

/// HTTP requests the sandbox saw in one phase, split by what they were for.
///
/// The sandbox logs method and path (no query), so the GET of `info/refs` is one class whatever the
/// service: for a fetch it is the ref listing, for a push the receive-pack advertisement.
struct RequestTally: CustomStringConvertible {
    /// `GET …/info/refs` (ref advertisements, including any 401 challenge before credentials are sent).
    var infoRefs = 0
    /// `POST …/git-upload-pack` (protocol v2 ls-refs, and pack negotiation/download).
    var uploadPack = 0
    /// `POST …/git-receive-pack` (pushes).
    var receivePack = 0
    /// `/api/v4/…` GETs.
    var restReads = 0
    /// `/api/v4/…` anything else (POST, PUT, DELETE).
    var restWrites = 0
    /// Anything else (Argo CD, Prometheus, health).
    var other = 0

    /// Classifies `requestLines()` entries (`METHOD path`).
    init(lines: some Sequence<String>) {
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { other += 1; continue }
            let method = parts[0], path = parts[1]
            if path.hasPrefix("/api/v4") {
                if method == "GET" || method == "HEAD" { restReads += 1 } else { restWrites += 1 }
            } else if path.hasSuffix(".git/info/refs") {
                infoRefs += 1
            } else if path.hasSuffix(".git/git-upload-pack") {
                uploadPack += 1
            } else if path.hasSuffix(".git/git-receive-pack") {
                receivePack += 1
            } else {
                other += 1
            }
        }
    }

    /// Git smart-HTTP requests of any kind.
    var git: Int { infoRefs + uploadPack + receivePack }
    /// REST requests of any kind.
    var rest: Int { restReads + restWrites }
    /// Every request.
    var total: Int { git + rest + other }

    var description: String {
        "git \(git) (info/refs \(infoRefs), upload-pack \(uploadPack), receive-pack \(receivePack)), REST \(rest) (GET \(restReads), writes \(restWrites))"
            + (other > 0 ? ", other \(other)" : "")
    }
}

extension Sandbox {
    /// Runs `body` with an empty request log and returns what the sandbox saw meanwhile.
    func tally<T>(_ body: () async throws -> T) async rethrows -> (T, RequestTally) {
        resetRequestLog()
        let value = try await body()
        return (value, RequestTally(lines: requestLines()))
    }
}

// MARK: - Child processes

/// The outcome of one child process run by `ChildProcess.run`.
struct ChildResult {
    /// Exit status, or 128 + signal number when it was killed.
    var status: Int32
    /// Wall time from spawn to reaping, in seconds.
    var seconds: Double
    /// Peak resident set size of the child itself (`ru_maxrss` from `wait4`), in KiB. Grandchildren are not
    /// included: `wait4` reports the waited-for process only.
    var maxRSSKiB: Int
    /// Where its standard output and error went.
    var logPath: String
    /// CPU time (user + system) of the child and the descendants it waited for, in seconds.
    var cpuSeconds: Double = 0

    /// The last `maxLines` lines of the log, for error messages.
    func logTail(_ maxLines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(maxLines).joined(separator: "\n")
    }
}

/// Spawns a child with `posix_spawn` and reaps it with `wait4`, so its own peak memory is known.
///
/// The child gets its own process group; on timeout that group (the child and anything it started) is
/// killed. Standard output and error go to `logPath`; standard input is `/dev/null`.
enum ChildProcess {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String],
                    currentDirectory: String, logPath: String, timeout: Duration = .seconds(900)) throws -> ChildResult {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        // glibc's `_np` extensions are not imported into Swift; look them up at run time.
        if let addchdir = GlibcExtensions.addchdir { _ = addchdir(&fileActions, currentDirectory) }
        // No inherited descriptor (sandbox sockets, pipes of the sandbox's own git children) reaches the child.
        if let addclosefrom = GlibcExtensions.addclosefrom { _ = addclosefrom(&fileActions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }

        let clock = ContinuousClock()
        let start = clock.now
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &fileActions, &attributes, argv, envp)
        guard rc == 0 else {
            throw ValidationError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        // Watchdog: a benchmark must stop by itself.
        let finished = Mutex(false)
        let childGroup = pid
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(BenchSupport.seconds(timeout) * 1000))) {
            if !finished.withLock({ $0 }) { kill(-childGroup, SIGKILL) }
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw ValidationError("wait4(\(pid)) failed: \(String(cString: strerror(errno)))") }
        }
        finished.withLock { $0 = true }
        let elapsed = BenchSupport.seconds(clock.now - start)
        // Anything the child left running in its group goes too (its git children, normally already gone).
        kill(-pid, SIGKILL)
        let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return ChildResult(status: exit, seconds: elapsed, maxRSSKiB: Int(usage.ru_maxrss), logPath: logPath,
                           cpuSeconds: CPUTime.seconds(usage))
    }

    /// The environment for children: this process's, minus anything named like a token, plus `extra`.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.uppercased().contains("TOKEN") }
        for (key, value) in extra { env[key] = value }
        return env
    }
}

/// glibc's non-portable `posix_spawn_file_actions_*_np` functions (glibc 2.29 / 2.34), found with `dlsym`.
enum GlibcExtensions {
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    nonisolated(unsafe) static let addchdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")
    nonisolated(unsafe) static let addclosefrom: AddClosefrom? = symbol("posix_spawn_file_actions_addclosefrom_np")

    private static func symbol<T>(_ name: String) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else { return nil }
        return unsafeBitCast(pointer, to: T.self)
    }
}

/// CPU time of this process and of its reaped children, to split a phase's CPU between client and server.
enum CPUTime {
    static func seconds(_ usage: rusage) -> Double {
        Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// User + system seconds of this process (all threads: the in-process sandbox) plus every child reaped so
    /// far (the sandbox's `git http-backend` processes, and the benchmarked child once waited for).
    static func selfAndChildren() -> Double {
        var mine = rusage(), children = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &mine)
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &children)
        return seconds(mine) + seconds(children)
    }
}
