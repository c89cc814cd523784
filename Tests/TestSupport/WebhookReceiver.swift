import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A webhook receiver on 127.0.0.1 (a port the OS picks) for tests: records every request it gets and answers
/// each with a status after a delay, both changeable while it runs (`respond(status:after:)`).
/// Thread-safe; run it only through `withWebhookReceiver`.
public final class WebhookReceiver: Sendable {
    /// A request as the receiver got it.
    public struct Received: Sendable {
        /// `POST` for every GitLab delivery.
        public var method: String
        /// The path, e.g. `/hooks/gitlab`.
        public var path: String
        /// Header values by lowercased name (repeated headers joined with `, `).
        public var headers: [String: String]
        /// The raw body.
        public var body: Data

        /// The header's value, by case-insensitive name.
        public func header(_ name: String) -> String? { headers[name.lowercased()] }
        /// The body as a JSON object (empty when it is not one).
        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    private struct State {
        var received: [Received] = []
        var status = 200
        var delay: Duration = .zero
        var closing = false
        var port = 0
    }

    private let state = Mutex(State())

    fileprivate init() {}

    /// The bound port.
    public var port: Int { state.withLock { $0.port } }

    /// `http://127.0.0.1:<port>/hooks/gitlab`: the receiver answers on any path.
    public var url: String { "http://127.0.0.1:\(port)/hooks/gitlab" }

    /// Every request so far, oldest first.
    public var received: [Received] { state.withLock { $0.received } }

    /// Answers later requests with `status` after `delay` (default 200 at once).
    public func respond(status: Int, after delay: Duration = .zero) {
        state.withLock { $0.status = status; $0.delay = delay }
    }

    /// Waits until at least `count` requests arrived (polling), or throws after `timeout`.
    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(20)) async throws -> [Received] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let received = self.received
            if received.count >= count { return received }
            guard ContinuousClock.now < deadline else {
                throw LoopbackError("the webhook receiver got \(received.count) of \(count) expected requests within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    fileprivate func handle(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 32 << 20)
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        let received = Received(method: request.method.rawValue, path: request.uri.path, headers: headers, body: Data(buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []))
        let (status, delay) = state.withLock { s -> (Int, Duration) in
            s.received.append(received)
            return (s.status, s.delay)
        }
        // Sleep in steps so shutting down never waits for a long delay.
        let until = ContinuousClock.now + delay
        while ContinuousClock.now < until, !state.withLock({ $0.closing }) {
            try await Task.sleep(for: min(.milliseconds(50), until - ContinuousClock.now))
        }
        return Response(status: .init(code: status))
    }

    fileprivate func bound(to port: Int) { state.withLock { $0.port = port } }

    fileprivate func close() { state.withLock { $0.closing = true } }
}

private struct ReceiverResponder: HTTPResponder {
    let receiver: WebhookReceiver

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        try await receiver.handle(request, context: context)
    }
}

/// Runs `body` with a webhook receiver listening on 127.0.0.1, and stops it on every path (answers still
/// being delayed are cut short).
public func withWebhookReceiver<T>(_ body: (WebhookReceiver) async throws -> T) async throws -> T {
    var logger = Logger(label: "TestSupport.webhook-receiver")
    logger.logLevel = .critical
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let receiver = WebhookReceiver()
    let app = Application(
        responder: ReceiverResponder(receiver: receiver),
        configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
        onServerRunning: { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        },
        logger: logger)
    // A ServiceGroup, as the Sandbox does: cancelling `app.run()` with a connection open trips a NIO assertion.
    let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
    let task = Task {
        try? await group.run()
        continuation.finish()
    }
    var bound = 0
    for await port in ports { bound = port; break }
    guard bound != 0 else {
        task.cancel()
        throw LoopbackError("the webhook receiver could not listen on 127.0.0.1")
    }
    receiver.bound(to: bound)
    func stop() async {
        receiver.close()
        await group.triggerGracefulShutdown()
        await task.value
    }
    do {
        let result = try await body(receiver)
        await stop()
        return result
    } catch {
        await stop()
        throw error
    }
}
