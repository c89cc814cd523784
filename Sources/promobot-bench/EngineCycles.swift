import ArgumentParser
import Foundation
import Git
import GitLab
import Health
import HTTP
import Logging
import Policies
import ProcessMemory
import Promotion

/// `promobot-bench engine-cycles` (hidden): the child of `engine --cycles N`. Runs N cycles of the engine
/// in this process the way `promobot serve` does (every cycle loads a new engine: new HTTP client, new
/// repository cache on the same folder, stage history read), and prints this process's memory after the
/// checkpoint cycles (`EngineBenchmark.MemoryPoint.line`).
struct EngineCycles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-cycles",
        abstract: "(internal) the child process of `engine --cycles N`.",
        shouldDisplay: false
    )

    @Option(help: "GitLab's URL (the sandbox's).")
    var gitlab: String

    @Option(help: "The policies folder.")
    var policies: String

    @Option(help: "The cache folder.")
    var cache: String

    @Option(help: "How many cycles.")
    var cycles: Int

    @Option(help: "Comma-separated cycle numbers after which to print the memory.")
    var checkpoints: String

    @Flag(help: "Leave glibc's allocator as it is: no arena limit, nothing given back after each cycle.")
    var defaultAllocator = false

    func run() async throws {
        if !defaultAllocator { ProcessMemory.limitAllocatorArenas() }  // as `promobot`'s entry point does
        guard let url = URL(string: gitlab), let token = ProcessInfo.processInfo.environment["PROMOBOT_BENCH_TOKEN"] else {
            throw ValidationError("--gitlab must be a URL and PROMOBOT_BENCH_TOKEN set")
        }
        let loaded = PolicyLoader.load(paths: [policies])
        guard !loaded.hasErrors else { throw ValidationError(loaded.diagnostics.map(\.formatted).joined(separator: "\n")) }
        let marks = Set(checkpoints.split(separator: ",").compactMap { Int($0) })
        let logger = Logger(label: "promobot") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let clock = ContinuousClock()
        for cycle in 1...cycles {
            var http = HTTPClientConfiguration()
            http.proxy = .none
            let client = CurlHTTPClient(configuration: http)
            var configuration = EngineConfiguration(authorName: "promobot", authorEmail: "promobot@example.com",
                                                    gitlabURL: url, gitCredentials: .token(token))
            configuration.readsStageHistory = true
            let engine = PromotionEngine(
                policies: loaded.policies,
                gitlab: GitLabClient(baseURL: url, token: GitLabToken(token), transport: client),
                repositories: RepositoryCache(root: URL(fileURLWithPath: cache)),
                health: HealthChecker(transport: client, argocd: nil, prometheus: nil),
                configuration: configuration, logger: logger)
            let started = clock.now
            let report = await engine.runCycle()
            let seconds = BenchSupport.seconds(clock.now - started)
            let releasing = clock.now
            let memory = defaultAllocator ? ProcessMemory.current() : await ProcessMemory.afterCycle()
            let releaseSeconds = defaultAllocator ? 0 : BenchSupport.seconds(clock.now - releasing)
            if marks.contains(cycle) {
                let point = EngineBenchmark.MemoryPoint(
                    cycle: cycle, seconds: seconds, rssKiB: memory.rssKiB, hwmKiB: memory.peakKiB, threads: memory.threads,
                    descriptors: memory.descriptors, errors: report.errors.count + report.stages.filter { $0.error != nil }.count,
                    releaseSeconds: releaseSeconds)
                FileHandle.standardOutput.write(Data((point.line + "\n").utf8))
            }
        }
    }
}
