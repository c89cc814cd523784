import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A Hummingbird server on 127.0.0.1, on a port the OS picks, with routes that misbehave on demand.
///
/// Routes:
/// - `/echo` (any method): JSON `EchoReply` of the method, headers, body and client port.
/// - `/flaky/{key}?status=503&times=2[&retryAfter=V][&resetIn=S]`: `status` for the first `times` hits
///   of `key` (with `Retry-After: V`, or `RateLimit-Reset: now+S` as unix time), then 200 "ok".
/// - `/sleep?ms=N`: answers 200 after N milliseconds.
/// - `/drop/{key}?times=N`: closes the connection without answering for the first N hits, then 200.
/// - `/redirect?to=URL&status=302`: a redirect; `/loop` redirects to itself.
/// Every request's client port is recorded, so tests can count the connections used.
final class TestServer: Sendable {
    let port: Int
    private let state: ServerState

    fileprivate init(port: Int, state: ServerState) {
        self.port = port
        self.state = state
    }

    /// `http://127.0.0.1:<port><path>`.
    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

    /// How often `key` was hit on a `/flaky` or `/drop` route.
    func hits(_ key: String) -> Int { state.withLock { $0.hits[key, default: 0] } }

    /// Distinct client ports seen: the number of TCP connections clients opened.
    var connectionCount: Int { state.withLock { $0.clientPorts.count } }

    /// Requests answered or dropped so far.
    var requestCount: Int { state.withLock { $0.requests } }

    /// Runs `body` against a fresh server, and stops the server on every path.
    static func with<T: Sendable>(_ body: @Sendable (TestServer) async throws -> T) async throws -> T {
        let state = ServerState()
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "HTTPTests.server")
        logger.logLevel = .critical
        let app = Application(
            router: makeRouter(state),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port != 0 else {
                throw TestServerError.didNotStart
            }
            return try await body(TestServer(port: port, state: state))
        }
    }

    private static func makeRouter(_ state: ServerState) -> Router<TestContext> {
        let router = Router(context: TestContext.self)
        let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete]
        for method in methods {
            router.on("echo", method: method) { request, context in
                state.record(context)
                let body = try await request.body.collect(upTo: 1 << 20)
                let reply = EchoReply(
                    method: request.method.rawValue,
                    headers: request.headers.map { [$0.name.canonicalName, $0.value] },
                    body: String(buffer: body),
                    clientPort: context.clientPort ?? 0)
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(reply))))
            }
        }
        router.get("flaky/{key}") { request, context in
            state.record(context)
            let key = try context.parameters.require("key")
            let hit = state.hit(key)
            let query = request.uri.queryParameters
            let times = query.get("times", as: Int.self) ?? 1
            guard hit <= times else { return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok"))) }
            var headers = HTTPFields()
            if let retryAfter = query.get("retryAfter") { headers[.retryAfter] = retryAfter }
            if let resetIn = query.get("resetIn", as: Int.self) {
                headers[HTTPField.Name("RateLimit-Reset")!] = String(Int(Date().timeIntervalSince1970) + resetIn)
            }
            let status = query.get("status", as: Int.self) ?? 503
            return Response(status: .init(code: status), headers: headers,
                            body: .init(byteBuffer: ByteBuffer(string: "failure \(hit)")))
        }
        router.post("flaky/{key}") { _, context in
            state.record(context)
            let hit = state.hit(try context.parameters.require("key"))
            return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "failure \(hit)")))
        }
        router.get("sleep") { request, context in
            state.record(context)
            let ms = request.uri.queryParameters.get("ms", as: Int.self) ?? 100
            try await Task.sleep(for: .milliseconds(ms))
            return "slept \(ms)"
        }
        router.get("drop/{key}") { request, context in
            state.record(context)
            let hit = state.hit(try context.parameters.require("key"))
            let times = request.uri.queryParameters.get("times", as: Int.self) ?? 1
            guard hit <= times else { return "ok" }
            try? await context.channel.close()
            throw TestServerError.dropped
        }
        router.get("loop") { _, context in
            state.record(context)
            return Response(status: .found, headers: [.location: "/loop"])
        }
        for method in [HTTPRequest.Method.get, .post] {
            router.on("redirect", method: method) { request, context in
                state.record(context)
                let target = request.uri.queryParameters.get("to") ?? "/echo"
                let status = request.uri.queryParameters.get("status", as: Int.self) ?? 302
                return Response(status: .init(code: status), headers: [.location: target])
            }
        }
        return router
    }
}

/// What `/echo` answers.
struct EchoReply: Codable, Sendable {
    var method: String
    var headers: [[String]]
    var body: String
    var clientPort: Int

    /// The first value of header `name`, case-insensitively.
    func header(_ name: String) -> String? {
        headers.first { $0[0].caseInsensitiveCompare(name) == .orderedSame }?[1]
    }
}

enum TestServerError: Error {
    case didNotStart, dropped
}

/// Request context that keeps the channel, to read the client port and to drop connections.
struct TestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    var clientPort: Int? { channel.remoteAddress?.port }
}

private final class ServerState: @unchecked Sendable {
    struct Values {
        var hits: [String: Int] = [:]
        var clientPorts: Set<Int> = []
        var requests = 0
    }
    private var values = Values()
    private let lock = NSLock()

    func withLock<R>(_ body: (inout Values) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&values)
    }

    func record(_ context: TestContext) {
        withLock {
            $0.requests += 1
            if let port = context.clientPort { $0.clientPorts.insert(port) }
        }
    }

    func hit(_ key: String) -> Int {
        withLock {
            $0.hits[key, default: 0] += 1
            return $0.hits[key]!
        }
    }
}
