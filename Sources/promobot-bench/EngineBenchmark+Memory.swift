import ArgumentParser
import Foundation
import Git
import Sandbox

extension EngineBenchmark {
    /// One line of the child's memory report (`EngineCycles` prints them).
    struct MemoryPoint {
        var cycle: Int
        var seconds: Double
        var rssKiB: Int
        var hwmKiB: Int
        var threads: Int
        var descriptors: Int
        var errors: Int
        /// How long giving freed pages back took after this cycle (0 with `--default-allocator`).
        var releaseSeconds: Double = 0

        /// `cycle 10 seconds 0.412 rss_kib 41234 hwm_kib 45678 threads 9 fds 12 errors 0 release 0.003`.
        var line: String {
            "cycle \(cycle) seconds \(String(format: "%.3f", seconds)) rss_kib \(rssKiB) hwm_kib \(hwmKiB) threads \(threads) fds \(descriptors) errors \(errors) release \(String(format: "%.4f", releaseSeconds))"
        }
    }

    /// `--cycles N`: per repository count, the engine runs N no-op cycles in a child process of its own (this
    /// binary's hidden `engine-cycles`), so its memory is not mixed with the in-process sandbox's; the child
    /// reads its own VmRSS and VmHWM (peak) from /proc/self/status after the checkpoint cycles.
    func measureMemory(cycles: Int) async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let checkpoints = Array(Set([1, 10, 50, 100, cycles].filter { $0 <= cycles })).sorted()
        print("engine memory benchmark: \(cycles) cycles per run, repos \(counts.map(String.init).joined(separator: ", ")), "
              + "\(ProcessInfo.processInfo.activeProcessorCount) cores, freed memory "
              + (defaultAllocator ? "kept by glibc's default allocator (--default-allocator)"
                 : "given back after each cycle and two malloc arenas, as `promobot` does"))
        var held = true
        for n in counts {
            let root = try BenchSupport.makeTempFolder("promobot-bench-cycles")
            defer { if !keep { try? FileManager.default.removeItem(at: root) } }
            let sandbox = try Sandbox(dataDirectory: root.appendingPathComponent("sandbox"))
            try await sandbox.start()
            let points: [MemoryPoint]
            do {
                points = try await run(cycles: cycles, checkpoints: checkpoints, n: n, sandbox: sandbox, root: root, binary: binary)
                await sandbox.shutdown()
            } catch {
                await sandbox.shutdown()
                throw error
            }
            held = report(points, n: n, root: root) && held
        }
        print(held ? "all targets held" : "some targets were MISSED (see above)")
    }

    private func run(cycles: Int, checkpoints: [Int], n: Int, sandbox: Sandbox, root: URL, binary: String) async throws -> [MemoryPoint] {
        let token = BenchSupport.makeToken()
        sandbox.addUser("promobot", token: token, role: .developer)
        let policies = root.appendingPathComponent("policies")
        _ = try Self.seed(n, sandbox: sandbox, policies: policies)
        BenchSupport.progress("N=\(n): \(cycles) cycles in one process…")
        let log = root.appendingPathComponent("cycles.log").path
        let arguments = ["engine-cycles", "--gitlab", sandbox.baseURL.absoluteString, "--policies", policies.path,
                         "--cache", root.appendingPathComponent("cache").path, "--cycles", String(cycles),
                         "--checkpoints", checkpoints.map(String.init).joined(separator: ",")] + (defaultAllocator ? ["--default-allocator"] : [])
        let result = try ChildProcess.run(
            wrapper ?? binary, wrapper == nil ? arguments : [binary] + arguments,
            environment: ChildProcess.environment(["PROMOBOT_BENCH_TOKEN": token, "HOME": root.path]),
            currentDirectory: root.path, logPath: log, timeout: .seconds(3600))
        guard result.status == 0 else {
            throw ValidationError("engine-cycles (N=\(n)) exited with \(result.status):\n\(result.logTail())")
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let points = text.split(separator: "\n").compactMap(MemoryPoint.init(line:))
        guard points.map(\.cycle) == checkpoints else {
            throw ValidationError("engine-cycles (N=\(n)) reported cycles \(points.map(\.cycle)), expected \(checkpoints):\n\(result.logTail())")
        }
        return points
    }

    /// Prints the table and judges growth: from cycle 10 (caches warm, every clone made) to the last, peak
    /// RSS may grow by at most 2 MiB + 2 %, which leaves room for allocator noise but not for a leak of even
    /// 20 KiB per cycle over 100 cycles.
    private func report(_ points: [MemoryPoint], n: Int, root: URL) -> Bool {
        func mib(_ kib: Int) -> String { String(format: "%.1f MiB", Double(kib) / 1024) }
        print("")
        BenchSupport.printTable([["N", "after cycle", "cycle wall", "pages given back in", "VmRSS", "VmHWM (peak)", "threads", "open fds", "cycle errors"]] + points.map {
            [String(n), String($0.cycle), String(format: "%.2f s", $0.seconds), String(format: "%.1f ms", $0.releaseSeconds * 1000),
             mib($0.rssKiB), mib($0.hwmKiB), String($0.threads), String($0.descriptors), String($0.errors)]
        })
        let cacheKiB = Int(RepositoryCache.diskUsage(of: root.appendingPathComponent("cache")) / 1024)
        print("N=\(n): cache folder \(mib(cacheKiB)) for \(n) clones (\(String(format: "%.0f KiB", Double(cacheKiB) / Double(n))) per repository)")
        guard let last = points.last else { return false }
        let base = points.first { $0.cycle >= 10 } ?? points[0]
        let allowed = 2048 + base.hwmKiB / 50
        let growth = last.hwmKiB - base.hwmKiB
        let clean = points.allSatisfy { $0.errors == 0 }
        let held = growth <= allowed && clean
        print("  target: peak RSS flat from cycle \(base.cycle) to \(last.cycle) (≤ \(mib(allowed)) growth), no cycle errors: "
              + "\(BenchSupport.verdict(held)) (\(growth >= 0 ? "+" : "")\(mib(growth)), \(clean ? "no errors" : "errors"))")
        return held
    }
}

extension EngineBenchmark.MemoryPoint {
    /// Parses a `line`; nil for any other line of the child's output (its warnings).
    init?(line: Substring) {
        let words = line.split(separator: " ")
        guard words.count == 16, words[0] == "cycle", let cycle = Int(words[1]), let seconds = Double(words[3]),
              let rss = Int(words[5]), let hwm = Int(words[7]), let threads = Int(words[9]), let descriptors = Int(words[11]),
              let errors = Int(words[13]), let release = Double(words[15]) else { return nil }
        self.init(cycle: cycle, seconds: seconds, rssKiB: rss, hwmKiB: hwm, threads: threads, descriptors: descriptors, errors: errors,
                  releaseSeconds: release)
    }
}
