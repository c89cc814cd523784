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
        repositories under DIR/repos are recreated on every start. '--seed FILE.yaml' loads users, projects, Argo CD \
        applications and Prometheus values from a seed file (docs/sandbox.md); a problem in it is reported as \
        path:line:col and exits 2 before anything starts. Seeded users' tokens come from their 'tokenEnv' variable \
        or are generated into DIR/tokens/<user> (mode 0600); only the file's path is printed.
        """
    )

    @Option(help: "Port to listen on (0 picks a free port).")
    var port: Int = 8929

    @Option(help: "Address to bind; keep it on loopback.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("data"), help: ArgumentHelp("Directory for repositories and the token file.", valueName: "dir"))
    var data: String

    @Option(help: ArgumentHelp("Seed data to load: 'demo' (the oms-deploy project, Argo CD apps, Prometheus values) or the path of a seed file (YAML; see docs/sandbox.md).",
                               valueName: "demo|file"))
    var seed: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("'--port' must be between 0 and 65535, got \(port)") }
        if seed?.isEmpty == true { throw ValidationError("'--seed' needs 'demo' or the path of a seed file") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let startedAt = Date()
        // Every problem of a seed file is reported before anything is created or started.
        let seedFile = try seed.flatMap { $0 == "demo" ? nil : try Self.loadSeedOrExit($0, environment: environment) }
        let directory = URL(fileURLWithPath: data, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sandbox = try Sandbox(dataDirectory: directory)
        let tokenSource: String
        if let token = environment["SANDBOX_TOKEN"], !token.isEmpty {
            sandbox.setRootToken(token)
            tokenSource = "from SANDBOX_TOKEN"
        } else {
            let file = directory.appendingPathComponent("token")
            sandbox.setRootToken(try Self.writeNewToken(to: file))
            tokenSource = "written to \(file.path)"
        }
        var seeded: [String] = []
        if let seedFile {
            let (tokens, sources) = try Self.userTokens(seedFile.seed, directory: directory, environment: environment)
            try await sandbox.apply(seedFile.seed, tokens: tokens)
            seeded = zip(seedFile.seed.users, sources).map { user, source in
                "  User:         \(user.username) (\(user.role.rawValue)), token \(source)"
            }
            let seconds = String(format: "%.2f", Date().timeIntervalSince(startedAt))
            seeded.append("  Seeded:       \(Self.summary(seedFile.seed)) from \(seedFile.path) in \(seconds) s")
        }
        try await sandbox.start(host: host, port: port)
        if seed == "demo" { try Self.seedDemo(sandbox) }
        let base = sandbox.baseURL.absoluteString
        Self.say("promobot sandbox listening on \(base)")
        Self.say("  GitLab REST:  \(base)/api/v4   (user 'root', token \(tokenSource))")
        Self.say("  Argo CD:      \(base)/api/v1/applications/{name}")
        Self.say("  Prometheus:   \(base)/api/v1/query")
        if seed == "demo" { Self.say("  Seeded:       \(base)/\(DemoFixtures.project) (clone with any username and the token as password)") }
        seeded.forEach(Self.say)
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
                operationFinishedAt: Date().addingTimeInterval(-3600), revision: sha,
                sourceProject: project, sourcePath: env))
            sandbox.setPrometheus(query: "sum(rate(http_errors_total{env=\"\(env)\"}[5m]))", value: 0.01)
        }
        DemoFixtures.pushImages(sandbox, versions: ["1.4.0", "1.4.2", "1.5.0"])
    }

    // MARK: - Seed files

    /// The seed file at `path`, parsed; its problems are printed as `path:line:col: error: message` and end the
    /// command with exit code 2.
    static func loadSeedOrExit(_ path: String, environment: [String: String]) throws -> (path: String, seed: SandboxSeed) {
        let (seed, diagnostics) = SandboxSeedParser.load(path: path, environment: environment)
        if !diagnostics.isEmpty {
            FileHandle.standardError.write(Data(diagnostics.map { $0.formatted + "\n" }.joined().utf8))
        }
        guard let seed else {
            if !FileManager.default.fileExists(atPath: path) {
                FileHandle.standardError.write(Data("promobot: '--seed' takes 'demo' or the path of a seed file (docs/sandbox.md)\n".utf8))
            }
            throw ExitCode(2)
        }
        return (path, seed)
    }

    /// Every seeded user's token (username -> token) and where it came from, for the start-up lines: read from
    /// its `tokenEnv` variable, or generated and written to `DIR/tokens/<username>` (mode 0600, the folder 0700).
    /// Tokens are never printed, only the variable or the file.
    static func userTokens(_ seed: SandboxSeed, directory: URL, environment: [String: String]) throws -> (tokens: [String: String], sources: [String]) {
        var tokens: [String: String] = [:]
        var sources: [String] = []
        let folder = directory.appendingPathComponent("tokens", isDirectory: true)
        for user in seed.users {
            switch user.token {
            case let .environment(name):
                // The parser checked the variable; a value that vanished since is a configuration problem too.
                guard let token = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
                    throw ValidationError("the environment variable \(name) (tokenEnv of user '\(user.username)') is not set")
                }
                tokens[user.username] = token
                sources.append("from \(name)")
            case .generated:
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder.path)
                let file = folder.appendingPathComponent(user.username)
                tokens[user.username] = try writeNewToken(to: file)
                sources.append("written to \(file.path)")
            }
        }
        return (tokens, sources)
    }

    /// `3 projects, 2 users, 3 Argo CD applications, 1 Prometheus value` (and `, 6 registry tags` when it pushes any).
    static func summary(_ seed: SandboxSeed) -> String {
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        let tags = seed.registryImages.reduce(0) { $0 + $1.tags.count }
        return ([count(seed.projects.count, "project"), count(seed.users.count, "user"),
                 count(seed.argoApplications.count, "Argo CD application"), count(seed.prometheus.count, "Prometheus value")]
                + (tags == 0 ? [] : [count(tags, "registry tag")]))
            .joined(separator: ", ")
    }

    /// Generates a token and writes it to `file`, replacing it. The file is created with mode 0600 (Foundation's
    /// `createFile` writes first and sets the mode afterwards, leaving the token readable in between).
    /// Returns the token.
    static func writeNewToken(to file: URL) throws -> String {
        let token = randomToken()
        try? FileManager.default.removeItem(at: file)
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        let bytes = Array(token.utf8)
        let written = descriptor < 0 ? -1 : bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if descriptor >= 0 { close(descriptor) }
        guard written == bytes.count else {
            throw ValidationError("cannot write the token file \(file.path); check that '--data' is writable")
        }
        return token
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
