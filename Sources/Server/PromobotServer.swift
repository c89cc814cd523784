import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// `promobot serve`: one process with the reconcile loop and an HTTP server.
///
/// Routes: `GET /` (the status page), `GET /metrics` (Prometheus text format), `GET /healthz` (the
/// process lives), `GET /readyz` (config loaded and a cycle completed within three resyncs),
/// `POST /hooks/gitlab` (GitLab webhooks). Nothing on it writes: the only input is a webhook, which
/// triggers a reconcile and nothing else.
///
/// On SIGTERM or SIGINT the server stops accepting connections first, then the loop finishes the cycle it
/// is in and ends; the process exits within `shutdownGrace`.
public struct PromobotServer: Sendable {
    public var host: String
    public var port: Int
    public var loop: ReconcileLoop
    public var receiver: WebhookReceiver
    public var metrics: ServeMetrics
    /// Renders the status page from the loop's state (the CLI passes the Board's renderer).
    public var page: @Sendable (LoopSnapshot) -> String
    public var logger: Logger
    /// How long a graceful shutdown may take before the remaining work is cancelled.
    public var shutdownGrace: Duration = .seconds(25)

    public init(host: String, port: Int, loop: ReconcileLoop, receiver: WebhookReceiver, metrics: ServeMetrics,
                page: @escaping @Sendable (LoopSnapshot) -> String, logger: Logger) {
        self.host = host
        self.port = port
        self.loop = loop
        self.receiver = receiver
        self.metrics = metrics
        self.page = page
        self.logger = logger
    }

    /// Runs until a signal in `signals` arrives (or `group`'s graceful shutdown is triggered).
    ///
    /// - Parameters:
    ///   - signals: SIGTERM and SIGINT for the real command; tests pass none and shut down through `onStart`'s group.
    ///   - onStart: called once the socket is bound, with the port (useful with port 0) and the service group.
    public func run(signals: [UnixSignal] = [.sigterm, .sigint],
                    onStart: @escaping @Sendable (Int, ServiceGroup) async -> Void = { _, _ in }) async throws {
        let groupBox = GroupBox()
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "promobot"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                if let group = groupBox.group { await onStart(bound, group) }
            },
            logger: logger
        )
        // Services stop in reverse order: the HTTP server first (no new webhooks), then the loop.
        var configuration = ServiceGroupConfiguration(services: [LoopService(loop: loop), app],
                                                      gracefulShutdownSignals: signals, logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownGrace
        let group = ServiceGroup(configuration: configuration)
        groupBox.group = group
        try await group.run()
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let loop = self.loop, metrics = self.metrics, receiver = self.receiver, page = self.page
        router.get("/") { _, _ -> Response in
            var response = Self.response(.ok, page(await loop.current), contentType: "text/html; charset=utf-8")
            // Same-origin only: no scripts, no external resources, never framed.
            response.headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'"
            return response
        }
        router.get("/metrics") { _, _ -> Response in
            Self.response(.ok, metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/healthz") { _, _ -> Response in Self.response(.ok, "ok\n") }
        router.get("/readyz") { _, _ -> Response in
            let snapshot = await loop.current
            if await loop.isReady() { return Self.response(.ok, "ready\n") }
            let why = snapshot.loadError.map { "config or policies could not be loaded: \($0)" }
                ?? (snapshot.lastCycleAt == nil ? "no cycle has completed yet" : "no cycle completed within three resyncs")
            return Self.response(.serviceUnavailable, "not ready: \(why)\n")
        }
        router.post("/hooks/gitlab") { request, _ -> Response in
            if let refusal = receiver.refusal(token: request.headers[.init("X-Gitlab-Token")!]) {
                return Self.response(.init(code: refusal.status), refusal.text + "\n")
            }
            var request = request
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: WebhookReceiver.bodyLimit)
            } catch {
                let answer = receiver.tooLarge()
                return Self.response(.init(code: answer.status), answer.text + "\n")
            }
            let key = request.headers[.init("Idempotency-Key")!] ?? request.headers[.init("X-Gitlab-Event-UUID")!]
            let answer = await receiver.receive(eventHeader: request.headers[.init("X-Gitlab-Event")!], deliveryKey: key,
                                                body: Data(buffer.readableBytesView))
            return Self.response(.init(code: answer.status), answer.text.isEmpty ? "" : answer.text + "\n")
        }
        return router
    }

    static func response(_ status: HTTPResponse.Status, _ text: String, contentType: String = "text/plain; charset=utf-8") -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The loop as a service: a graceful shutdown asks it to stop after the cycle it is in.
struct LoopService: Service {
    let loop: ReconcileLoop

    func run() async throws {
        await withGracefulShutdownHandler {
            await loop.run()
        } onGracefulShutdown: {
            Task { await loop.stop() }
        }
    }
}

/// Lets `onServerRunning` reach the group created after the application.
private final class GroupBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: ServiceGroup?
    var group: ServiceGroup? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
