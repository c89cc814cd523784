import Foundation
import Synchronization
import Testing
import TestSupport
@testable import HTTP

/// Whether the cooperative pool kept running a ticking task while requests were in flight.
final class PoolProbe: Sendable {
    let ticks = Mutex(0)
    let done = Mutex(false)
}

/// Records the delays the client asks for instead of sleeping them.
final class SleepRecorder: Sendable {
    private let recorded = Mutex<[Duration]>([])
    var delays: [Duration] { recorded.withLock { $0 } }
    var sleep: @Sendable (Duration) async throws -> Void {
        { [self] delay in recorded.withLock { $0.append(delay) } }
    }
}

/// A client for loopback tests: no proxy (the environment's must not catch 127.0.0.1), recorded sleeps.
func makeClient(
    retry: RetryPolicy = RetryPolicy(baseDelay: .milliseconds(100), jitter: .none),
    recorder: SleepRecorder = SleepRecorder(),
    configure: (inout HTTPClientConfiguration) -> Void = { _ in }
) -> CurlHTTPClient {
    var configuration = HTTPClientConfiguration(retry: retry, proxy: .none, sleep: recorder.sleep)
    configure(&configuration)
    return CurlHTTPClient(configuration: configuration)
}

/// A loopback port nothing listens on.
private func closedPort() throws -> Int { try Loopback.unusedPort() }

private func elapsed<T>(_ body: () async throws -> T) async rethrows -> (T, Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let value = try await body()
    return (value, clock.now - start)
}

/// The `HTTPError` `body` throws; fails the test if it throws something else or nothing.
func httpError(_ body: () async throws -> HTTPResponse) async throws -> HTTPError {
    do {
        let response = try await body()
        Issue.record("expected an HTTPError, got status \(response.status)")
        throw UnexpectedSuccess()
    } catch let error as HTTPError {
        return error
    }
}

struct UnexpectedSuccess: Error {}

@Suite struct CurlHTTPClientTests {
    // MARK: - Requests and responses

    @Test(arguments: [HTTPMethod.get, .post, .put, .patch, .delete])
    func methodsSendBodiesAndHeaders(method: HTTPMethod) async throws {
        try await TestServer.with { server in
            let client = makeClient()
            let body = #"{"tag":"v1.2.3","method":"\#(method.rawValue)"}"#
            let request = HTTPRequest(
                method: method, url: server.url("/echo?x=1"),
                headers: ["Content-Type": "application/json", "X-Trace": "abc", "X-Empty": ""],
                body: Data(body.utf8))
            let response = try await client.send(request)
            #expect(response.status == 200)
            #expect(response.header("content-type") == "application/json")
            let echo = try response.decodeJSON(EchoReply.self)
            #expect(echo.method == method.rawValue)
            #expect(echo.body == body)
            #expect(echo.header("X-Trace") == "abc")
            #expect(echo.header("X-Empty") == "")
            #expect(echo.header("Content-Type") == "application/json")
            #expect(echo.header("Content-Length") == String(body.utf8.count))
            #expect(echo.header("User-Agent")?.hasPrefix("promobot") == true)
            #expect(echo.header("Expect") == nil)
        }
    }

    @Test func bodylessRequestsSendNoBodyAndPutSendsZeroLength() async throws {
        try await TestServer.with { server in
            let client = makeClient()
            let get = try await client.get(server.url("/echo")).decodeJSON(EchoReply.self)
            #expect(get.method == "GET" && get.body.isEmpty && get.header("Content-Length") == nil)
            let delete = try await client.send(HTTPRequest(method: .delete, url: server.url("/echo"))).decodeJSON(EchoReply.self)
            #expect(delete.method == "DELETE" && delete.body.isEmpty)
            let put = try await client.send(HTTPRequest(method: .put, url: server.url("/echo"))).decodeJSON(EchoReply.self)
            #expect(put.method == "PUT" && put.header("Content-Length") == "0" && put.header("Content-Type") == nil)
            let head = try await client.send(HTTPRequest(method: .head, url: server.url("/echo")))
            #expect(head.status == 200 && head.body.isEmpty)
        }
    }

    @Test func jsonHelpersEncodeAndDecode() async throws {
        struct Payload: Codable, Equatable { var name: String; var count: Int }
        try await TestServer.with { server in
            let client = makeClient()
            let response = try await client.sendJSON(.post, server.url("/echo"), body: Payload(name: "web", count: 3))
            let echo = try response.decodeJSON(EchoReply.self)
            #expect(echo.header("Content-Type") == "application/json")
            #expect(echo.header("Accept") == "application/json")
            #expect(try JSONDecoder().decode(Payload.self, from: Data(echo.body.utf8)) == Payload(name: "web", count: 3))
            let error = #expect(throws: HTTPDecodingError.self) { try response.decodeJSON(Payload.self) }
            #expect(error?.description.contains("Payload") == true)
            #expect(error?.description.contains("HTTP 200") == true)
        }
    }

    @Test func followsRedirectsAndKeepsTokensOnTheSameOriginOnly() async throws {
        try await TestServer.with { server in
            let client = makeClient()
            let headers: HTTPHeaders = ["PRIVATE-TOKEN": "glpat-redirect-secret", "X-Keep": "yes"]
            let same = try await client.send(HTTPRequest(url: server.url("/redirect?to=/echo"), headers: headers))
            let sameEcho = try same.decodeJSON(EchoReply.self)
            #expect(sameEcho.header("PRIVATE-TOKEN") == "glpat-redirect-secret")
            // Same server under another name is another origin: the token must not follow.
            let other = "http://localhost:\(server.port)/echo"
            let cross = try await client.send(HTTPRequest(url: server.url("/redirect?status=307&to=\(other)"), headers: headers))
            let crossEcho = try cross.decodeJSON(EchoReply.self)
            #expect(crossEcho.header("PRIVATE-TOKEN") == nil)
            #expect(crossEcho.header("X-Keep") == "yes")
            // 303 turns a POST into a GET without body.
            let seeOther = try await client.send(HTTPRequest(method: .post, url: server.url("/redirect?status=303&to=/echo"), body: Data("x".utf8)))
            #expect(try seeOther.decodeJSON(EchoReply.self).method == "GET")

            let loop = try await httpError { try await client.get(server.url("/loop")) }
            #expect(loop.kind == .tooManyRedirects)
            let noFollow = makeClient { $0.maxRedirects = 0 }
            #expect(try await noFollow.get(server.url("/redirect?to=/echo")).status == 302)
        }
    }

    @Test func explicitProxyReceivesTheRequest() async throws {
        try await TestServer.with { server in
            // The test server plays the proxy: it gets the absolute-form request for a host that does not exist.
            let client = makeClient { $0.proxy = .url("http://127.0.0.1:\(server.port)") }
            let response = try await client.get(URL(string: "http://promobot-proxy-test.invalid/echo")!)
            #expect(response.status == 200)
            #expect(try response.decodeJSON(EchoReply.self).method == "GET")
            #expect(server.requestCount == 1)
        }
    }

    // MARK: - Failures and timeouts

    @Test func closedPortFailsFastWithAConnectError() async throws {
        let port = try closedPort()
        let recorder = SleepRecorder()
        let client = makeClient(retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(100), jitter: .none), recorder: recorder)
        let (error, time) = try await elapsed {
            try await httpError { try await client.get(URL(string: "http://127.0.0.1:\(port)/x")!) }
        }
        #expect(error.kind == .connect)
        #expect(error.attempts == 3)
        #expect(recorder.delays == [.milliseconds(100), .milliseconds(200)])
        // A refused connection fails at once rather than waiting out the connect timeout (10 s per
        // attempt); the bound is loose because parallel tests load this small machine.
        #expect(time < .seconds(10))
        #expect(error.description.contains("127.0.0.1:\(port)"))
        #expect(error.description.contains("failed after 3 attempts: could not connect"))
        #expect(error.description.contains("proxy"))  // says what to check
    }

    @Test func totalTimeoutAbortsASlowResponse() async throws {
        try await TestServer.with { server in
            let client = makeClient(retry: .none) { $0.totalTimeout = .milliseconds(300) }
            let (error, time) = try await elapsed {
                try await httpError { try await client.get(server.url("/sleep?ms=3000")) }
            }
            // `.timeout` alone proves the abort (the server would have answered 200 after 3 s);
            // the time bound only guards against a hang.
            #expect(error.kind == .timeout)
            #expect(error.attempts == 1)
            #expect(time < .seconds(30))
            // A per-request timeout overrides the client's.
            let patient = try await client.send(HTTPRequest(url: server.url("/sleep?ms=400"), timeout: .seconds(5)))
            #expect(patient.status == 200)
        }
    }

    @Test func droppedConnectionIsRetriedThenReported() async throws {
        try await TestServer.with { server in
            let recorder = SleepRecorder()
            let client = makeClient(retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(50), jitter: .none), recorder: recorder)
            let recovered = try await client.get(server.url("/drop/once?times=1"))
            #expect(recovered.status == 200)
            #expect(server.hits("once") == 2)

            // A fresh client: libcurl itself silently resends once when a *reused* connection dies.
            let fresh = makeClient(retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(50), jitter: .none), recorder: recorder)
            let error = try await httpError { try await fresh.get(server.url("/drop/always?times=100")) }
            #expect(error.kind == .dropped)
            #expect(error.attempts == 3)
            #expect(server.hits("always") == 3)
            #expect(recorder.delays == [.milliseconds(50), .milliseconds(50), .milliseconds(100)])
        }
    }

    // MARK: - Retries

    @Test(arguments: [
        // (status, retry-after, expected delays)
        (503, "2", [Duration.seconds(2), .seconds(2)]),
        (429, "1", [.seconds(1), .seconds(1)]),
        (500, nil, [.milliseconds(100), .milliseconds(200)]),
        (503, "3600", [.seconds(5), .seconds(5)]),  // capped by maxDelay
    ] as [(Int, String?, [Duration])])
    func retriesStatusesHonouringRetryAfter(status: Int, retryAfter: String?, expected: [Duration]) async throws {
        try await TestServer.with { server in
            let recorder = SleepRecorder()
            let client = makeClient(retry: RetryPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(5), jitter: .none), recorder: recorder)
            let query = "status=\(status)&times=2" + (retryAfter.map { "&retryAfter=\($0)" } ?? "")
            let response = try await client.get(server.url("/flaky/k?\(query)"))
            #expect(response.status == 200)
            #expect(response.text == "ok")
            #expect(server.hits("k") == 3)
            #expect(recorder.delays == expected)
            #expect(client.statistics.retries == 2)
        }
    }

    @Test func retryAfterAsHTTPDateAndRateLimitReset() async throws {
        try await TestServer.with { server in
            let recorder = SleepRecorder()
            let client = makeClient(retry: RetryPolicy(maxDelay: .seconds(60), jitter: .none), recorder: recorder)
            let date = HTTPDate.format(Date().addingTimeInterval(20))
            let encoded = date.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            #expect(try await client.get(server.url("/flaky/date?status=503&times=1&retryAfter=\(encoded)")).status == 200)
            #expect(try await client.get(server.url("/flaky/reset?status=429&times=1&resetIn=30")).status == 200)
            let delays = recorder.delays
            try #require(delays.count == 2)
            // Both are absolute times with one-second resolution, read some (load-dependent) time later.
            #expect(delays[0] > .seconds(10) && delays[0] <= .seconds(21))
            #expect(delays[1] > .seconds(20) && delays[1] <= .seconds(31))
        }
    }

    @Test func postIsNotRetriedUnlessMarkedRetryable() async throws {
        try await TestServer.with { server in
            let recorder = SleepRecorder()
            let client = makeClient(recorder: recorder)
            let once = try await client.send(HTTPRequest(method: .post, url: server.url("/flaky/post"), body: Data("{}".utf8)))
            #expect(once.status == 503)
            #expect(server.hits("post") == 1)
            #expect(recorder.delays.isEmpty)

            let retried = try await client.send(HTTPRequest(method: .post, url: server.url("/flaky/safe"), retryable: true))
            #expect(retried.status == 503)
            #expect(server.hits("safe") == 4)
        }
    }

    @Test(arguments: [1, 2, 5])
    func attemptLimitReturnsTheLastResponse(maxAttempts: Int) async throws {
        try await TestServer.with { server in
            let recorder = SleepRecorder()
            let seen = Mutex<[Int?]>([])
            let client = makeClient(retry: RetryPolicy(maxAttempts: maxAttempts, jitter: .none), recorder: recorder) {
                $0.observer = { _, response in seen.withLock { $0.append(response?.status) } }
            }
            let response = try await client.get(server.url("/flaky/limit?status=502&times=100"))
            #expect(response.status == 502)
            #expect(response.text == "failure \(maxAttempts)")
            #expect(server.hits("limit") == maxAttempts)
            #expect(recorder.delays.count == maxAttempts - 1)
            #expect(seen.withLock { $0 } == Array(repeating: 502, count: maxAttempts))
            #expect(client.statistics.requests == maxAttempts)
        }
    }

    // MARK: - Connections and concurrency

    @Test func sequentialRequestsReuseOneConnection() async throws {
        try await TestServer.with { server in
            let client = makeClient()
            for index in 0..<20 {
                let response = try await client.sendJSON(.put, server.url("/echo"), body: ["index": index])
                #expect(response.status == 200)
            }
            #expect(server.requestCount == 20)
            #expect(server.connectionCount == 1)
            #expect(client.statistics.connectionsOpened == 1)
            #expect(client.statistics.requests == 20)
        }
    }

    @Test func hundredConcurrentRequestsDoNotBlockTheCooperativePool() async throws {
        try await TestServer.with { server in
            let client = makeClient()
            // In a class: a task group's `sending` closure cannot capture a local `Mutex`.
            let probe = PoolProbe()
            let (statuses, time) = try await elapsed {
                try await withThrowingTaskGroup(of: Int?.self) { group in
                    group.addTask {
                        // Keeps making progress only if the pool's threads are free.
                        while !probe.done.withLock({ $0 }) {
                            try await Task.sleep(for: .milliseconds(5))
                            probe.ticks.withLock { $0 += 1 }
                        }
                        return nil
                    }
                    for _ in 0..<100 {
                        group.addTask { try await client.get(server.url("/sleep?ms=400")).status }
                    }
                    var statuses: [Int] = []
                    for try await status in group {
                        guard let status else { continue }
                        statuses.append(status)
                        if statuses.count == 100 { probe.done.withLock { $0 = true } }
                    }
                    return statuses
                }
            }
            #expect(statuses == Array(repeating: 200, count: 100))
            #expect(time < .seconds(10))  // one after the other would take 40 s
            // A blocked pool would tick about never; the bound is loose for a loaded 2-core machine.
            #expect(probe.ticks.withLock { $0 } >= 5)
        }
    }

    @Test func connectionLimitQueuesRequests() async throws {
        try await TestServer.with { server in
            let client = makeClient { $0.maxConnectionsPerHost = 2 }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 { group.addTask { try await client.get(server.url("/sleep?ms=50")).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 10))
            #expect(server.connectionCount <= 2)
            #expect(client.statistics.connectionsOpened <= 2)
        }
    }

    @Test func cancellationAbortsARunningRequest() async throws {
        try await TestServer.with { server in
            let client = makeClient()
            let task = Task { try await client.get(server.url("/sleep?ms=10000")) }
            try await Task.sleep(for: .milliseconds(200))
            let (result, time) = await elapsed {
                task.cancel()
                return await task.result
            }
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(time < .seconds(2))
            // The client still works afterwards.
            #expect(try await client.get(server.url("/echo")).status == 200)
        }
    }

    @Test func clientIsFreedWhenReleased() async throws {
        try await TestServer.with { server in
            weak var weakClient: CurlHTTPClient?
            do {
                let client = makeClient()
                weakClient = client
                let status = try await client.get(server.url("/echo")).status
                #expect(status == 200)
            }
            #expect(weakClient == nil)
        }
    }

    // MARK: - Security

    @Test func tokensNeverAppearInErrors() async throws {
        let port = try closedPort()
        let url = try #require(URL(string: "http://bot:userinfo-secret@127.0.0.1:\(port)/api/v4/projects?private_token=query-secret&access_token=access-secret&page=2"))
        let request = HTTPRequest(url: url, headers: [
            "PRIVATE-TOKEN": "header-private-secret", "JOB-TOKEN": "header-job-secret", "Authorization": "Bearer header-bearer-secret",
        ])
        let client = makeClient(retry: .none)
        let error = try await httpError { try await client.send(request) }
        let text = "\(error) \(error.url) \(error.message) \(String(reflecting: error))"
        for secret in ["userinfo-secret", "query-secret", "access-secret", "header-private-secret", "header-job-secret", "header-bearer-secret"] {
            #expect(!text.contains(secret), "\(secret) leaked")
        }
        #expect(error.url.contains("private_token=REDACTED"))
        #expect(error.url.contains("page=2"))
    }

    @Test func invalidRequestsAreRejectedBeforeSending() async throws {
        let client = makeClient()
        let injected = try await httpError {
            try await client.send(HTTPRequest(url: URL(string: "http://127.0.0.1:1/")!, headers: ["X-Bad": "a\r\nPRIVATE-TOKEN: x"]))
        }
        #expect(injected.kind == .invalidRequest)
        let ftp = try await httpError { try await client.get(URL(string: "ftp://127.0.0.1/file")!) }
        #expect(ftp.kind == .invalidRequest)
        #expect(ftp.attempts == 0)
        #expect(ftp.description.hasPrefix("GET ftp://127.0.0.1/file was not sent: invalid request"))
        #expect(!injected.description.contains("PRIVATE-TOKEN: x"))
    }

    @Test func oversizedResponsesAreRefused() async throws {
        try await TestServer.with { server in
            let client = makeClient { $0.maxResponseSize = 100 }
            let error = try await httpError {
                try await client.send(HTTPRequest(method: .post, url: server.url("/echo"), body: Data(repeating: 65, count: 1000)))
            }
            #expect(error.kind == .responseTooLarge)
        }
    }

    @Test func tlsIsVerifiedByDefault() async throws {
        #expect(HTTPClientConfiguration().verifyTLS)
        #expect(HTTPClientConfiguration().caBundlePath == nil)
        #expect(HTTPClientConfiguration().proxy == .environment)
        try await TestServer.with { server in
            // The server speaks plain HTTP: a TLS handshake with it must fail, never fall back.
            let client = makeClient(retry: .none)
            let error = try await httpError { try await client.get(URL(string: "https://127.0.0.1:\(server.port)/echo")!) }
            #expect(error.kind == .tls || error.kind == .connect)
        }
    }
}
