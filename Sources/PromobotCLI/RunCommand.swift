import ArgumentParser
import Foundation
import Logging
import Planning
import ProcessMemory
import Promotion

/// `promobot run`: one reconcile cycle over all policies, or a loop with `--watch`.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one reconcile cycle: open, update, merge or close promotion MRs.",
        discussion: """
        Exit codes: 0 the cycle completed (blocked gates are not failures); 1 at least one policy hit an error \
        (the others still ran); 2 bad configuration or policies, or a missing token.
        """
    )

    @OptionGroup(title: "Configuration") var options: EngineOptions

    @Flag(name: .long, help: "Plan and print what would be done; push nothing, write nothing to GitLab.")
    var dryRun = false

    @Option(name: .long, help: "Run a cycle every DURATION (e.g. 5m) until interrupted.")
    var watch: String?

    @Option(name: .long, help: "Log format: text or json.")
    var logFormat: LogFormat = .text

    func validate() throws {
        if let watch, Runtime.parseDuration(watch) == nil {
            throw ValidationError("'--watch \(watch)' is not a duration; use e.g. 30s, 5m, 1h")
        }
    }

    func run() async throws {
        guard let watch, let interval = Runtime.parseDuration(watch) else {
            let report = try await cycle(Runtime.loadOrExit(options, dryRun: dryRun, logFormat: logFormat))
            if report.hasErrors { throw ExitCode(1) }
            return
        }
        while true {
            // Config, policies and the stop file are read again for every cycle, so a merged policy MR
            // or a committed stop file takes effect without restarting the watcher. A broken policy
            // skips the cycle (and says why) rather than ending the watch.
            do {
                _ = try await cycle(Runtime.load(options, dryRun: dryRun, logFormat: logFormat), watching: true)
            } catch let error as ConfigurationError {
                FileHandle.standardError.write(Data("promobot: \(error.description)\npromobot: skipping this cycle; next in \(watch)\n".utf8))
            }
            try await Task.sleep(for: .seconds(interval))
        }
    }

    /// One cycle and its log line. `watching`: the process lives on, so what the cycle freed goes back to the
    /// kernel before the wait, and the line says how much memory the process holds then (flat when healthy).
    private func cycle(_ runtime: Runtime, watching: Bool = false) async -> CycleReport {
        let report = await runtime.engine.runCycle()
        var metadata: Logger.Metadata = [
            "stages": "\(report.stages.count)", "errors": "\(report.errors.count + report.stages.filter { $0.error != nil }.count)",
            "actions": "\(report.stages.compactMap(\.action).count)",
        ]
        if watching {
            metadata["rss_mib"] = "\(String(format: "%.1f", Double(await ProcessMemory.afterCycle().rssKiB) / 1024))"
        }
        runtime.logger.info("cycle done", metadata: metadata)
        return report
    }
}
