import Board
import Foundation
import Git
import GitLab
import Health
import HTTP
import Logging
import Planning
import Policies
import Promotion
import Sandbox
import ServiceLifecycle
import Server
import Synchronization
import TestSupport

/// A sandbox GitLab with the oms deploy repo (dev ahead of test), and an in-process `promobot serve`
/// (loop, webhook receiver, metrics, HTTP server on a free loopback port) talking to it with the real
/// libgit2 and libcurl adapters.
final class ServeHarness: @unchecked Sendable {
    static let project = "group/oms-deploy"
    static let app = "registry.example.com/oms/app"
    let sandbox: Sandbox
    let folder: URL
    let botToken = "glpat-serve-" + UUID().uuidString
    let secret = "hook-secret-" + UUID().uuidString
    let metrics = ServeMetrics(build: [("version", "test"), ("libgit2", LibGit2.version), ("libcurl", LibCurl.version)])
    let logs = LogLines()
    let policy: Policy
    private(set) var loop: ReconcileLoop!
    private(set) var port = 0
    private var group: ServiceGroup?
    private var task: Task<Void, any Error>?
    let client = CurlHTTPClient(configuration: {
        var configuration = HTTPClientConfiguration()
        configuration.proxy = .none
        configuration.retry.maxAttempts = 1
        return configuration
    }())

    /// - Parameter prodStage: YAML for a third stage `prod` (from test, running 1.4.0), or nil for two stages.
    init(sandbox: Sandbox, folder: URL, testStage: String, prodStage: String? = nil) throws {
        self.sandbox = sandbox
        self.folder = folder
        sandbox.addUser("promobot", token: botToken, role: .developer)
        sandbox.addUser("alice", token: "alice-" + UUID().uuidString, role: .maintainer)
        func deploy(_ version: String) -> String {
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: \(Self.app):\(version)\n"
        }
        var files = ["dev/deploy.yaml": deploy("1.5.0"), "test/deploy.yaml": deploy("1.4.2")]
        if prodStage != nil { files["prod/deploy.yaml"] = deploy("1.4.0") }
        try sandbox.createProject(path: Self.project, defaultBranch: "master", files: files)
        let yaml = """
        version: 1
        name: oms
        repository: \(Self.project)
        branch: master
        images: [\(Self.app)]
        stages:
          - name: dev
            paths: [dev/]
          - name: test
            paths: [test/]
        \(testStage)\(prodStage.map { "  - name: prod\n    paths: [prod/]\n" + $0 } ?? "")
        """
        guard let policy = PolicyParser.parse(yaml: yaml, path: "policies/oms.yaml").policy else { throw HarnessFailure("bad policy") }
        self.policy = policy
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    func engine() throws -> PromotionEngine {
        let transport = MeteredTransport(client, metrics: metrics)
        var configuration = EngineConfiguration(authorName: "promobot", authorEmail: "promobot@example.com",
                                                gitlabURL: sandbox.baseURL, gitCredentials: .token(botToken))
        configuration.readsStageHistory = true
        configuration.mergeabilityWait = .seconds(5)
        let logs = self.logs
        return PromotionEngine(
            policies: [policy],
            gitlab: GitLabClient(baseURL: sandbox.baseURL, token: GitLabToken(botToken), transport: transport),
            repositories: RepositoryCache(root: folder.appendingPathComponent("cache"), options: GitTransportOptions()),
            health: HealthChecker(transport: client, argocd: nil, prometheus: nil),
            configuration: configuration,
            logger: Logger(label: "promobot.serve.test") { _ in CapturingLog(lines: logs) })
    }

    /// Starts the server (resync `resync`, so a test can rely on webhooks alone) and waits until it listens
    /// and its first cycle is done.
    func start(resync: Duration = .seconds(3600), debounce: Duration = .milliseconds(200), secret: String? = nil) async throws {
        let engine = try engine()
        let logs = self.logs
        let logger = Logger(label: "promobot.serve.test") { _ in CapturingLog(lines: logs) }
        let loop = ReconcileLoop(configuration: .init(resync: resync, debounce: debounce), metrics: metrics, logger: logger) {
            LoadedRuntime(engine: engine)
        }
        self.loop = loop
        let server = PromobotServer(host: "127.0.0.1", port: 0, loop: loop,
                                    receiver: WebhookReceiver(secret: secret ?? self.secret, loop: loop, metrics: metrics, logger: logger),
                                    metrics: metrics, page: { snapshot in
                                        let board = StatusBoard(policies: snapshot.policies, report: snapshot.board,
                                                                cycleTime: snapshot.lastCycleAt, emergencyStop: snapshot.emergencyStop)
                                        return StatusPage.render(StatusPageModel(board: board, refreshSeconds: 10))
                                    }, logger: logger)
        let (started, continuation) = AsyncStream<(Int, ServiceGroup)>.makeStream()
        let firstCycle = Task { await loop.nextCycle() }
        task = Task { try await server.run(signals: []) { port, group in continuation.yield((port, group)); continuation.finish() } }
        for await (port, group) in started {
            self.port = port
            self.group = group
        }
        guard port != 0 else { throw HarnessFailure("the server did not start") }
        await firstCycle.value
    }

    func stop() async {
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
    }

    /// A request to the server.
    func request(_ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], body: Data? = nil) async throws -> HTTPResponse {
        try await client.send(HTTPRequest(method: method, url: baseURL.appendingPathComponent(path), headers: headers, body: body,
                                          timeout: .seconds(10)))
    }

    /// Posts a GitLab webhook as GitLab does.
    func deliver(_ event: String, _ json: [String: Any], token: String? = nil, key: String = UUID().uuidString) async throws -> HTTPResponse {
        var headers: HTTPHeaders = ["Content-Type": "application/json", "X-Gitlab-Event": event, "Idempotency-Key": key]
        headers.add("X-Gitlab-Token", token ?? secret)
        return try await request(.post, "hooks/gitlab", headers: headers, body: try JSONSerialization.data(withJSONObject: json))
    }

    static func projectJSON() -> [String: Any] { ["id": 1, "path_with_namespace": project] }

    var mergeRequests: [SandboxMergeRequest] { sandbox.mergeRequests(project: Self.project) }

    /// Polls `condition` every 50 ms for at most `seconds`.
    func eventually(_ seconds: Double = 20, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try condition()
    }
}

/// Runs `body` with a started sandbox and a harness; the server is stopped on every path.
func withServe(testStage: String = "    merge: auto\n", prodStage: String? = nil, _ body: (ServeHarness) async throws -> Void) async throws {
    try await withSandbox("serve") { sandbox, folder in
        let harness = try ServeHarness(sandbox: sandbox, folder: folder, testStage: testStage, prodStage: prodStage)
        do {
            try await body(harness)
            await harness.stop()
        } catch {
            await harness.stop()
            throw error
        }
    }
}

struct HarnessFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The log lines of one harness.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}

/// Keeps log lines for assertions.
struct CapturingLog: LogHandler {
    let lines: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.append("\(event.level) \(event.message)")
    }
}
