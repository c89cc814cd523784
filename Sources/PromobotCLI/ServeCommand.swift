import ArgumentParser
import Foundation
import Board
import Git
import HTTP
import Logging
import Planning
import Promotion
import Server

/// `promobot serve`: the always-on mode (a Kubernetes Deployment): the reconcile loop of `run --watch`,
/// GitLab webhooks that trigger it within seconds, `/metrics`, probes and a live status page.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run promobot as a service: reconcile loop, GitLab webhooks, /metrics, /healthz, /readyz and a status page.",
        discussion: """
        A full resync runs every --resync (config, policies and the stop file are read again each time); GitLab \
        webhooks (POST /hooks/gitlab, secret from webhook.secretEnv or webhook.secretFile) trigger the policies they \
        concern in between. SIGTERM or SIGINT: stop accepting requests, finish the cycle in progress, exit 0.

        Exit codes: 0 stopped by a signal; 1 the server failed (e.g. the address is in use); 2 bad usage or configuration.
        """
    )

    @OptionGroup(title: "Configuration") var options: EngineOptions

    @Option(name: .long, help: "Address to listen on, HOST:PORT (default 0.0.0.0:8080; port 0 picks a free one).")
    var listen = "0.0.0.0:8080"

    @Option(name: .long, help: "Full resync interval (default 5m).")
    var resync = "5m"

    @Option(name: .long, help: "Log format: text or json.")
    var logFormat: LogFormat = .json

    func validate() throws {
        if Runtime.parseDuration(resync) == nil { throw ValidationError("'--resync \(resync)' is not a duration; use e.g. 30s, 5m, 1h") }
        if Self.address(listen) == nil { throw ValidationError("'--listen \(listen)' is not HOST:PORT (e.g. 0.0.0.0:8080 or 127.0.0.1:0)") }
    }

    func run() async throws {
        guard let (host, port) = Self.address(listen), let interval = Runtime.parseDuration(resync) else { throw ExitCode(2) }
        let metrics = ServeMetrics(build: [("version", Promobot.version), ("libgit2", LibGit2.version), ("libcurl", LibCurl.version)])
        // Load once before listening, so a broken config fails the start (exit 2) instead of a probe later.
        let first = try Runtime.loadOrExit(options, dryRun: false, logFormat: logFormat, metrics: metrics)
        let secret: String?
        do {
            secret = try first.config.webhook.resolveSecret(environment: ProcessInfo.processInfo.environment, readFile: Runtime.readSecretFile)
        } catch {
            FileHandle.standardError.write(Data("promobot: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let logger = first.logger
        if secret == nil { logger.warning("no webhook secret configured (webhook.secretEnv or webhook.secretFile): POST /hooks/gitlab answers 403; only resyncs run") }
        let options = self.options, format = logFormat
        let loop = ReconcileLoop(configuration: .init(resync: .seconds(interval)), metrics: metrics, logger: logger) {
            var runtime = try Runtime.load(options, dryRun: false, logFormat: format, metrics: metrics)
            runtime.engine.configuration.readsStageHistory = true
            return LoadedRuntime(engine: runtime.engine, budget: runtime.budget, policiesRepository: runtime.config.policiesRepository)
        }
        let server = PromobotServer(
            host: host, port: port, loop: loop,
            receiver: WebhookReceiver(secret: secret, loop: loop, metrics: metrics, logger: logger),
            metrics: metrics, page: Self.page, logger: logger)
        do {
            try await server.run { bound, _ in
                logger.info("promobot serve listening on \(host):\(bound) (status page /, /metrics, /healthz, /readyz, POST /hooks/gitlab)")
            }
        } catch {
            FileHandle.standardError.write(Data("promobot: serve failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The status page for the loop's latest state, refreshing itself every 10 s.
    @Sendable static func page(_ snapshot: LoopSnapshot) -> String {
        let board = StatusBoard(policies: snapshot.policies, report: snapshot.board, cycleTime: snapshot.lastCycleAt,
                                emergencyStop: snapshot.emergencyStop)
        return StatusPage.render(StatusPageModel(board: board, refreshSeconds: 10))
    }

    /// `HOST:PORT` (IPv6 as `[::1]:8080`).
    static func address(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}
