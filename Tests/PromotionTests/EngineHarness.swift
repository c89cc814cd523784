import Foundation
import Planning
import Git
import GitLab
import HTTP
import Health
import Logging
import Manifests
import Policies
import Promotion
import Registry
import Sandbox
import Synchronization
import Testing
import TestSupport

/// A simulated clock for end-to-end tests: real time plus an offset tests advance.
final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)
    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }
    func advance(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }
}

/// Collects log lines so tests can assert what the engine said (and that no token appears).
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])
    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
        let (level, message, metadata) = (event.level, event.message, event.metadata)
            let all = self.metadata.merging(metadata ?? [:]) { $1 }
            capture.lines.withLock { $0.append("\(level) \(message) \(all)") }
        }
    }
}

/// Records every request the engine sends, so tests can assert "no API write".
final class RecordingTransport: HTTPTransport, Sendable {
    let inner: any HTTPTransport
    let sent = Mutex<[String]>([])
    init(_ inner: any HTTPTransport) { self.inner = inner }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        sent.withLock { $0.append("\(request.method.rawValue) \(request.url.path)") }
        return try await inner.send(request)
    }

    /// Requests that change something (anything but GET and HEAD).
    var writes: [String] { sent.withLock { $0.filter { !$0.hasPrefix("GET ") && !$0.hasPrefix("HEAD ") } } }
}

/// A sandbox seeded with the oms deploy repo, a bot user, approvers, Argo CD apps, and a policy;
/// builds engines that talk to it over loopback with the real libgit2 and libcurl adapters.
final class EngineHarness: @unchecked Sendable {
    static let project = "group/oms-deploy"
    static let app = "registry.example.com/oms/app"
    static let web = "registry.example.com/oms/web"

    let sandbox: Sandbox
    let directory: URL
    let botToken = "glpat-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
    let clock = TestClock()
    let logs = LogCapture()
    var policy: Policy
    /// Tokens of the two maintainers, who approve, push to bot branches and close MRs like people do.
    let aliceToken = "alice-token-\(UUID().uuidString)"
    let bobToken = "bob-token-\(UUID().uuidString)"
    /// The registry engines ask (image-exists, `pin: digest`); nil leaves the gate out, as before registries.
    var registry: (any ImageRegistry)?
    /// Applied to every engine's configuration (e.g. a shorter mergeability wait).
    var configure: @Sendable (inout EngineConfiguration) -> Void = { _ in }
    /// The git transport settings of every engine's cache (e.g. a test sshd's `known_hosts`).
    var gitOptions = GitTransportOptions()

    /// Seeds a started `sandbox` (from `withSandbox`, which owns its lifetime and the scratch `directory`).
    /// - Parameter testStage: extra YAML lines for the `test` stage (merge mode, soak, windows…).
    init(sandbox: Sandbox, directory: URL,
         testStage: String = "    merge: manual\n", prodStage: String = "    merge: manual\n", devHealth: String = "") throws {
        self.sandbox = sandbox
        self.directory = directory
        sandbox.addUser("promobot", token: botToken, role: .developer)
        sandbox.addUser("alice", token: aliceToken, role: .maintainer)
        sandbox.addUser("bob", token: bobToken, role: .maintainer)
        var files: [String: String] = [:]
        for (env, version) in [("dev", "1.4.2"), ("test", "1.4.2"), ("prod", "1.4.2")] {
            files["\(env)/app/deploy.yaml"] = Self.deployment(name: "app", image: Self.app, version: version)
            files["\(env)/app/migration.yaml"] = Self.job(image: Self.app, version: version)
            files["\(env)/web/deploy.yaml"] = Self.deployment(name: "web", image: Self.web, version: version)
        }
        try sandbox.createProject(path: Self.project, defaultBranch: "master", files: files)
        sandbox.protectBranch(project: Self.project, branch: "master", allowPush: .maintainer)

        let yaml = """
        version: 1
        name: oms
        repository: \(Self.project)
        branch: master
        images: [\(Self.app), \(Self.web)]
        stages:
          - name: dev
            paths: [dev/]
        \(devHealth)  - name: test
            paths: [test/]
        \(testStage)  - name: prod
            paths: [prod/]
        \(prodStage)
        """
        let parsed = PolicyParser.parse(yaml: yaml, path: "policies/oms.yaml")
        guard let policy = parsed.policy else {
            throw HarnessError("policy did not parse:\n\(yaml)\n\(parsed.diagnostics.map(\.formatted).joined(separator: "\n"))")
        }
        self.policy = policy
        setArgo("oms-dev", version: "1.4.2", syncedAgo: 3600)
    }

    /// Every request every engine of this harness sent.
    let recorder = RecordingTransport(CurlHTTPClient(configuration: EngineHarness.fastRetries()))

    /// - Parameter cache: the cache folder's name; separate names are separate machines (pods) running the bot.
    func engine(dryRun: Bool = false, policies: [Policy]? = nil, cache: String = "cache") throws -> PromotionEngine {
        let http: any HTTPTransport = recorder
        var configuration = EngineConfiguration(authorName: "promobot", authorEmail: "promobot@example.com",
                                                gitlabURL: sandbox.baseURL, gitCredentials: .token(botToken), dryRun: dryRun)
        configure(&configuration)
        return PromotionEngine(
            policies: policies ?? [policy],
            gitlab: GitLabClient(baseURL: sandbox.baseURL, token: GitLabToken(botToken), transport: http),
            repositories: RepositoryCache(root: directory.appendingPathComponent(cache), options: gitOptions),
            health: HealthChecker(transport: http, argocd: ServiceAccess(baseURL: sandbox.baseURL, token: nil),
                                  prometheus: ServiceAccess(baseURL: sandbox.baseURL, token: nil)),
            configuration: configuration,
            logger: Logger(label: "promobot.test", factory: { _ in LogCapture.Handler(capture: self.logs) }),
            clock: { [clock] in clock.now },
            registry: registry
        )
    }

    static func fastRetries() -> HTTPClientConfiguration {
        var configuration = HTTPClientConfiguration()
        configuration.retry.baseDelay = .milliseconds(10)
        configuration.retry.maxDelay = .milliseconds(200)
        configuration.proxy = .none
        return configuration
    }

    @discardableResult
    func cycle(dryRun: Bool = false) async throws -> CycleReport {
        try await engine(dryRun: dryRun).runCycle()
    }

    /// CI writes `version` for both images into dev (like `promobot set-image` in the seed's Jenkins stage),
    /// pinned to `digests` (image -> digest) when given (`set-image --resolve`).
    func setDev(_ version: String, digests: [String: String] = [:]) throws {
        var files: [String: String] = [:]
        for path in ["dev/app/deploy.yaml", "dev/app/migration.yaml", "dev/web/deploy.yaml"] {
            let text = try sandbox.fileContent(project: Self.project, ref: "master", path: path) ?? ""
            files[path] = try ManifestEditor.edit(text, path: path, updates: [
                ImageUpdate(image: Self.app, tag: version, digest: digests[Self.app]), ImageUpdate(image: Self.web, tag: version, digest: digests[Self.web]),
            ]).text
        }
        try sandbox.commit(project: Self.project, branch: "master", files: files, message: "[jenkins] dev \(version)", author: "jenkins")
    }

    func setArgo(_ name: String, version: String, health: String = "Healthy", sync: String = "Synced", syncedAgo: TimeInterval = 3600) {
        sandbox.setArgoApplication(SandboxArgoApplication(
            name: name, health: health, sync: sync, images: ["\(Self.app):\(version)", "\(Self.web):\(version)"],
            operationFinishedAt: clock.now.addingTimeInterval(-syncedAgo)))
    }

    /// A GitLab client acting as `alice` (a maintainer), for what people do through the API.
    var alice: GitLabClient {
        GitLabClient(baseURL: sandbox.baseURL, token: GitLabToken(aliceToken), transport: CurlHTTPClient(configuration: Self.fastRetries()))
    }

    /// The bare repository the sandbox serves, for `git` run as a test's witness.
    var bareRepository: URL { directory.appendingPathComponent("sandbox/repos/\(Self.project).git") }

    var mergeRequests: [SandboxMergeRequest] { sandbox.mergeRequests(project: Self.project) }
    var openMergeRequests: [SandboxMergeRequest] { mergeRequests.filter { $0.state == "opened" } }

    func file(_ path: String, ref: String = "master") throws -> String {
        try sandbox.fileContent(project: Self.project, ref: ref, path: path) ?? ""
    }

    /// Every byte under the cache folder, for the "no token on disk" check.
    func cacheContains(_ needle: String, cache: String = "cache") throws -> Bool {
        let root = directory.appendingPathComponent(cache)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return false }
        for case let url as URL in walker {
            if let data = try? Data(contentsOf: url), data.range(of: Data(needle.utf8)) != nil { return true }
        }
        return false
    }

    static func deployment(name: String, image: String, version: String) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: oms-\(name)
        spec:
          template:
            spec:
              containers:
                - name: \(name)
                  # written by CI on dev, by promobot elsewhere
                  image: \(image):\(version)

        """
    }

    static func job(image: String, version: String) -> String {
        """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: oms-migration
        spec:
          template:
            spec:
              containers:
                - name: migrate
                  image: "\(image):\(version)"

        """
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with a fresh harness; `withSandbox` shuts the sandbox down and removes its folder on every path.
func withHarness(testStage: String = "    merge: manual\n", prodStage: String = "    merge: manual\n", devHealth: String = "",
                 _ body: (EngineHarness) async throws -> Void) async throws {
    try await withSandbox("e2e") { sandbox, folder in
        try await body(EngineHarness(sandbox: sandbox, directory: folder, testStage: testStage, prodStage: prodStage, devHealth: devHealth))
    }
}
