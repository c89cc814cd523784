import ArgumentParser
import Foundation
import Sandbox

/// `promobot sandbox`: runs the GitLab-compatible sandbox (plus Argo CD and Prometheus stand-ins)
/// in the foreground until SIGINT/SIGTERM, for trying promobot without a real GitLab.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a GitLab-compatible sandbox server (REST v4 subset, git over HTTP, Argo CD and Prometheus stand-ins).",
        discussion: """
        The root/admin token comes from the SANDBOX_TOKEN environment variable, or is generated and written to \
        DIR/token (mode 0600). The token is never printed. State (users, merge requests, pipelines) lives in memory; \
        repositories under DIR/repos are recreated on every start.
        """
    )

    @Option(help: "Port to listen on (0 picks a free port).")
    var port: Int = 8929

    @Option(help: "Address to bind; keep it on loopback.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("data"), help: ArgumentHelp("Directory for repositories and the token file.", valueName: "dir"))
    var data: String

    @Option(help: ArgumentHelp("Seed data to load: 'demo' (the oms-deploy project, Argo CD apps, Prometheus values).", valueName: "name"))
    var seed: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("'--port' must be between 0 and 65535, got \(port)") }
        if let seed, seed != "demo" { throw ValidationError("'--seed' must be 'demo', got '\(seed)'") }
    }

    func run() async throws {
        let directory = URL(fileURLWithPath: data, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sandbox = try Sandbox(dataDirectory: directory)
        let tokenSource: String
        if let token = ProcessInfo.processInfo.environment["SANDBOX_TOKEN"], !token.isEmpty {
            sandbox.setRootToken(token)
            tokenSource = "from SANDBOX_TOKEN"
        } else {
            let token = Self.randomToken()
            let file = directory.appendingPathComponent("token")
            try? FileManager.default.removeItem(at: file)
            guard FileManager.default.createFile(atPath: file.path, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write the token file \(file.path); check that '--data' is writable")
            }
            sandbox.setRootToken(token)
            tokenSource = "written to \(file.path)"
        }
        try await sandbox.start(host: host, port: port)
        if seed == "demo" { try Self.seedDemo(sandbox) }
        let base = sandbox.baseURL.absoluteString
        Self.say("promobot sandbox listening on \(base)")
        Self.say("  GitLab REST:  \(base)/api/v4   (user 'root', token \(tokenSource))")
        Self.say("  Argo CD:      \(base)/api/v1/applications/{name}")
        Self.say("  Prometheus:   \(base)/api/v1/query")
        if seed == "demo" { Self.say("  Seeded:       \(base)/\(DemoFixtures.project) (clone with any username and the token as password)") }
        Self.say("Press Ctrl-C to stop.")
        await Self.waitForTermination()
        await sandbox.shutdown()
        Self.say("sandbox stopped")
    }

    /// The same deploy repo `promobot demo` uses, with every environment on 1.4.0 and dev healthy on 1.5.0 pending.
    static func seedDemo(_ sandbox: Sandbox) throws {
        let project = DemoFixtures.project
        try sandbox.createProject(path: project, defaultBranch: DemoFixtures.branch,
                                  files: DemoFixtures.deployTree(dev: "1.4.0", test: "1.4.0", prod: "1.4.0"))
        sandbox.protectBranch(project: project, branch: DemoFixtures.branch, allowPush: .maintainer)
        let sha = try sandbox.branchSHA(project: project, branch: DemoFixtures.branch)
        for env in ["dev", "test", "prod"] {
            sandbox.setArgoApplication(SandboxArgoApplication(
                name: "oms-\(env)", health: "Healthy", sync: "Synced",
                images: ["\(DemoFixtures.appImage):1.4.0", "\(DemoFixtures.webImage):1.4.0"],
                operationFinishedAt: Date().addingTimeInterval(-3600), revision: sha))
            sandbox.setPrometheus(query: "sum(rate(http_errors_total{env=\"\(env)\"}[5m]))", value: 0.01)
        }
    }

    /// Writes a line unbuffered, so the URL shows at once even when output goes to a file or pipe.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return "sbx-" + (0..<32).map { _ in String(Int.random(in: 0..<16, using: &generator), radix: 16) }.joined()
    }

    /// Suspends until SIGINT or SIGTERM arrives.
    static func waitForTermination() async {
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        for await _ in signals { break }
        sources.forEach { $0.cancel() }
    }
}
