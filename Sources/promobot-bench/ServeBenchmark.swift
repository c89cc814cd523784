import ArgumentParser
import Foundation
import Git
import GitLab
import Health
import HTTP
import Logging
import Manifests
import Policies
import Promotion
import Sandbox
import Server
import ServiceLifecycle

/// `promobot-bench serve --rounds 20`: how fast `promobot serve` reacts to GitLab webhooks, measured against
/// the in-process sandbox, which delivers real Push and Merge Request Hooks to the server over loopback.
///
/// Each round: CI writes a new version into dev (a commit, as `set-image` + push would) -> the sandbox's Push
/// Hook -> serve opens the test MR (**push -> MR opened**); a maintainer approves it -> the Merge Request Hook
/// (`approved`) -> serve merges it (**approval -> merged**). No resync runs meanwhile (an hour apart), so every
/// reaction comes from a webhook. The scheduled run's figure is the schedule: a promotion waits up to the
/// whole interval (2.5 minutes on average with a 5-minute schedule).
struct ServeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Webhook -> action latency of `promobot serve` against the sandbox (percentiles from one run)."
    )

    @Option(help: "Rounds (each: one CI push and one approval).")
    var rounds = 20

    @Option(help: "The serve loop's debounce window in milliseconds (the production default is 500).")
    var debounceMilliseconds = 500

    func validate() throws {
        guard rounds > 0 else { throw ValidationError("--rounds must be positive") }
    }

    func run() async throws {
        let folder = try BenchSupport.makeTempFolder("promobot-bench-serve")
        defer { try? FileManager.default.removeItem(at: folder) }
        let sandbox = try Sandbox(dataDirectory: folder.appendingPathComponent("sandbox"))
        try await sandbox.start()
        do {
            try await measure(sandbox: sandbox, folder: folder)
            await sandbox.shutdown()
        } catch {
            await sandbox.shutdown()
            throw error
        }
    }

    static let project = "bench/oms-deploy"
    static let image = "registry.example.com/oms/app"

    static func deployment(_ version: String) -> String {
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: \(image):\(version)\n"
    }

    private func measure(sandbox: Sandbox, folder: URL) async throws {
        let token = BenchSupport.makeToken(), secret = BenchSupport.makeToken()
        sandbox.addUser("promobot", token: token, role: .developer)
        sandbox.addUser("alice", token: BenchSupport.makeToken(), role: .maintainer)
        try sandbox.createProject(path: Self.project, defaultBranch: "main",
                                  files: ["dev/deploy.yaml": Self.deployment("1.0.0"), "test/deploy.yaml": Self.deployment("1.0.0")])
        let yaml = """
        version: 1
        name: oms
        repository: \(Self.project)
        branch: main
        images: [\(Self.image)]
        stages:
          - name: dev
            paths: [dev/]
          - name: test
            paths: [test/]
            merge: approved
            approvals: 1
        """
        guard let policy = PolicyParser.parse(yaml: yaml, path: "oms.yaml").policy else { throw ValidationError("bad policy") }
        var http = HTTPClientConfiguration()
        http.proxy = .none
        let client = CurlHTTPClient(configuration: http)
        let metrics = ServeMetrics(build: [("version", "bench"), ("libgit2", LibGit2.version), ("libcurl", LibCurl.version)])
        let engine = PromotionEngine(
            policies: [policy],
            gitlab: GitLabClient(baseURL: sandbox.baseURL, token: GitLabToken(token), transport: MeteredTransport(client, metrics: metrics)),
            repositories: RepositoryCache(root: folder.appendingPathComponent("cache"), options: GitTransportOptions()),
            health: HealthChecker(transport: client, argocd: nil, prometheus: nil),
            configuration: EngineConfiguration(authorName: "promobot", authorEmail: "promobot@example.com",
                                               gitlabURL: sandbox.baseURL, gitCredentials: .token(token)),
            logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let loop = ReconcileLoop(configuration: .init(resync: .seconds(3600), debounce: .milliseconds(debounceMilliseconds)),
                                 metrics: metrics, logger: logger) { LoadedRuntime(engine: engine) }
        let server = PromobotServer(host: "127.0.0.1", port: 0, loop: loop,
                                    receiver: WebhookReceiver(secret: secret, loop: loop, metrics: metrics, logger: logger),
                                    metrics: metrics, page: { _ in "" }, logger: logger)
        let (started, continuation) = AsyncStream<(Int, ServiceGroup)>.makeStream()
        let firstCycle = Task { await loop.nextCycle() }
        let serving = Task { try await server.run(signals: []) { port, group in continuation.yield((port, group)); continuation.finish() } }
        var bound: (Int, ServiceGroup)?
        for await value in started { bound = value }
        guard let (port, group) = bound else { throw ValidationError("serve did not start") }
        await firstCycle.value
        try sandbox.addWebhook(project: Self.project, url: "http://127.0.0.1:\(port)/hooks/gitlab", token: secret,
                               events: [.push, .mergeRequest, .pipeline])

        BenchSupport.progress("promobot serve on 127.0.0.1:\(port); \(rounds) rounds, debounce \(debounceMilliseconds) ms, resync 1h")
        var opened: [Double] = [], merged: [Double] = []
        let clock = ContinuousClock()
        for round in 1...rounds {
            let version = "1.\(round).0"
            let pushed = clock.now
            try sandbox.commit(project: Self.project, branch: "main", files: ["dev/deploy.yaml": Self.deployment(version)],
                               message: "[ci] dev \(version)", author: "ci")
            let mr = try await waitFor(seconds: 60) {
                sandbox.mergeRequests(project: Self.project).first { $0.state == "opened" && $0.title.contains(version) }
            }
            opened.append(BenchSupport.seconds(clock.now - pushed))
            let approved = clock.now
            try sandbox.approve(project: Self.project, iid: mr.iid, username: "alice")
            _ = try await waitFor(seconds: 60) {
                sandbox.mergeRequests(project: Self.project).first { $0.iid == mr.iid && $0.state == "merged" }
            }
            merged.append(BenchSupport.seconds(clock.now - approved))
        }
        await sandbox.waitForWebhookDeliveries()
        let answers = sandbox.webhookDeliveries(project: Self.project).map { BenchSupport.seconds($0.duration) }
        await group.triggerGracefulShutdown()
        _ = try? await serving.value

        func row(_ name: String, _ values: [Double]) -> [String] {
            let sorted = values.sorted()
            func percentile(_ p: Double) -> String { String(format: "%.2f s", sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)]) }
            return [name, "\(sorted.count)", percentile(0.5), percentile(0.95), String(format: "%.2f s", sorted.last ?? 0)]
        }
        BenchSupport.printTable([["reaction", "n", "p50", "p95", "max"], row("CI push -> MR opened", opened), row("approval -> merged", merged),
                                 row("webhook answered (as GitLab saw it)", answers)])
        let answerP95 = answers.sorted()[max(0, Int((0.95 * Double(answers.count)).rounded(.up)) - 1)]
        print("target: webhooks answered within 100 ms at p95: \(BenchSupport.verdict(answerP95 < 0.1)) (\(String(format: "%.1f", answerP95 * 1000)) ms)")
        let p95 = max(opened.sorted()[Int((0.95 * Double(opened.count)).rounded(.up)) - 1], merged.sorted()[Int((0.95 * Double(merged.count)).rounded(.up)) - 1])
        print("target: p95 under 3 s: \(BenchSupport.verdict(p95 < 3)) (worst p95 \(String(format: "%.2f", p95)) s); a 5-minute schedule waits up to 300 s, 150 s on average: \(BenchSupport.ratio(150, p95)) faster at p95 vs the average scheduled wait")
    }

    /// Polls every 5 ms until `probe` finds something, at most `seconds`.
    private func waitFor<T>(seconds: Double, _ probe: () -> T?) async throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let found = probe() { return found }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw ValidationError("nothing happened within \(seconds) s: are the webhooks delivered?")
    }
}
