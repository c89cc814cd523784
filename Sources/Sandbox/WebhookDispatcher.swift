import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// Sends the sandbox's webhooks off the request path, as GitLab's Sidekiq jobs do, and keeps the log of
/// every finished delivery.
///
/// `enqueue` only queues: each delivery runs in a task of its own, after the previous delivery to the same
/// hook (so one receiver sees its events in order, and a slow receiver delays only its own hook). The request
/// or in-process call that caused the event never waits for it.
///
/// The HTTP client is Foundation's `URLSession` (FoundationNetworking on Linux, libcurl inside): it ships with
/// the toolchain, so the sandbox needs no new package and stays clear of the `HTTP` module; its transfers run
/// on URLSession's own thread and its `async` API suspends, so no thread of the cooperative pool ever waits
/// on a receiver; it speaks http and https; and a session delegate stops it from following redirects, which
/// GitLab does not follow either (a 3xx answer counts as delivered). The session is made on first use.
///
/// Thread-safe: all state sits behind one `Mutex`.
final class WebhookDispatcher: Sendable {
    /// One delivery to make: the hook's address and secret as they were when the event happened.
    struct Job: Sendable {
        var hookID: Int
        var projectID: Int
        var event: SandboxWebhookEvent
        var url: String
        var token: String?
        var body: Data
        /// `X-Gitlab-Instance`: the sandbox's base URL.
        var instance: String
        var eventUUID: String
        var idempotencyKey: String
        var redeliveryOf: Int? = nil
    }

    private struct State {
        /// The last queued delivery of each hook; the next one waits for it.
        var tails: [Int: Task<Void, Never>] = [:]
        /// Deliveries queued or running, by sequence number.
        var inFlight: [Int: Task<Void, Never>] = [:]
        var nextSequence = 1
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        var log: [SandboxWebhookDelivery] = []
        var nextDeliveryID = 1
        var timeout: Duration = .seconds(10)
        var session: URLSession?
    }

    private let state = Mutex(State())

    /// How long a receiver may take to answer (GitLab's default `webhook_timeout`: 10 s).
    var timeout: Duration {
        get { state.withLock { $0.timeout } }
        set { state.withLock { $0.timeout = newValue } }
    }

    /// Queues `job` behind the hook's earlier deliveries and returns at once.
    func enqueue(_ job: Job) {
        state.withLock { s in
            let previous = s.tails[job.hookID]
            let sequence = s.nextSequence
            s.nextSequence += 1
            let task = Task.detached { [self] in
                await previous?.value
                _ = await self.send(job)
                self.finished(sequence)
            }
            s.tails[job.hookID] = task
            s.inFlight[sequence] = task
        }
    }

    /// Sends `job` now (used directly by redeliveries), records the outcome and returns it.
    func send(_ job: Job) async -> SandboxWebhookDelivery {
        let timeout = self.timeout
        var delivery = SandboxWebhookDelivery(
            id: 0, hookID: job.hookID, projectID: job.projectID, event: job.event, url: job.url, body: job.body,
            eventUUID: job.eventUUID, webhookUUID: UUID().uuidString.lowercased(), idempotencyKey: job.idempotencyKey,
            statusCode: nil, error: nil, duration: .zero, redeliveryOf: job.redeliveryOf)
        let clock = ContinuousClock()
        let start = clock.now
        if Task.isCancelled {
            delivery.error = "not sent: the sandbox shut down"
        } else if let url = URL(string: job.url), ["http", "https"].contains(url.scheme?.lowercased() ?? "") {
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.httpBody = job.body
            // URLSession's own timer counts whole seconds only; the race in `post` keeps the exact timeout.
            request.timeoutInterval = Self.seconds(timeout).rounded(.up) + 1
            request.cachePolicy = .reloadIgnoringLocalCacheData
            let headers: [(String, String?)] = [
                ("Content-Type", "application/json"), ("User-Agent", "GitLab/\(Sandbox.gitlabVersion)"),
                ("X-Gitlab-Event", job.event.rawValue),
                // GitLab sends the secret verbatim, with line breaks removed; no header when none is set.
                ("X-Gitlab-Token", job.token.map { $0.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "") }),
                ("X-Gitlab-Instance", job.instance), ("X-Gitlab-Webhook-UUID", delivery.webhookUUID),
                ("X-Gitlab-Event-UUID", job.eventUUID), ("Idempotency-Key", job.idempotencyKey),
            ]
            for case let (name, value?) in headers { request.setValue(value, forHTTPHeaderField: name) }
            do {
                delivery.statusCode = try await post(request, timeout: timeout)
            } catch {
                delivery.error = Self.describe(error, timeout: timeout)
            }
        } else {
            delivery.error = "not sent: the hook's url is not an http(s) URL"
        }
        delivery.duration = clock.now - start
        return state.withLock { s in
            delivery.id = s.nextDeliveryID
            s.nextDeliveryID += 1
            s.log.append(delivery)
            return delivery
        }
    }

    /// POSTs `request` and returns the status, or throws `URLError(.timedOut)` when there is no answer within
    /// `timeout` (a race against a sleep; cancelling the loser cancels URLSession's transfer).
    private func post(_ request: URLRequest, timeout: Duration) async throws -> Int {
        let session = session()
        return try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                let (_, response) = try await session.data(for: request)
                return (response as? HTTPURLResponse)?.statusCode ?? 0
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw URLError(.timedOut)
            }
            defer { group.cancelAll() }
            guard let status = try await group.next() else { throw CancellationError() }
            return status
        }
    }

    private func session() -> URLSession {
        state.withLock { s in
            if let session = s.session { return session }
            let configuration = URLSessionConfiguration.ephemeral
            configuration.urlCache = nil
            configuration.httpCookieStorage = nil
            configuration.httpShouldSetCookies = false
            let session = URLSession(configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
            s.session = session
            return session
        }
    }

    private func finished(_ sequence: Int) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.inFlight[sequence] = nil
            guard s.inFlight.isEmpty else { return [] }
            defer { s.idleWaiters.removeAll() }
            return s.idleWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once nothing is queued or being sent (deliveries queued meanwhile included).
    func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { s -> Bool in
                if s.inFlight.isEmpty { return true }
                s.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Cancels every queued or running delivery (each is recorded as not sent or canceled), waits for them,
    /// and closes the session. Later `enqueue`s work again with a new session.
    func cancelAll() async {
        let tasks = state.withLock { Array($0.inFlight.values) }
        for task in tasks { task.cancel() }
        await waitUntilIdle()
        let session = state.withLock { s -> URLSession? in
            defer { s.session = nil; s.tails.removeAll() }
            return s.session
        }
        session?.invalidateAndCancel()
    }

    /// Finished deliveries of project `projectID`, oldest first.
    func deliveries(projectID: Int) -> [SandboxWebhookDelivery] {
        state.withLock { $0.log.filter { $0.projectID == projectID } }
    }

    /// The finished delivery with this id, or nil.
    func delivery(id: Int) -> SandboxWebhookDelivery? {
        state.withLock { $0.log.first { $0.id == id } }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// A short reason for the log, like GitLab's "execution expired" / "Failed to open TCP connection".
    static func describe(_ error: any Error, timeout: Duration) -> String {
        if error is CancellationError { return "canceled: the sandbox shut down" }
        guard let urlError = error as? URLError else { return "\(error)" }
        switch urlError.code {
        case .timedOut: return "timed out after \(String(format: "%g", seconds(timeout))) s"
        case .cannotConnectToHost: return "connection refused"
        case .cancelled: return "canceled: the sandbox shut down"
        case .networkConnectionLost: return "connection closed before an answer"
        default: return urlError.localizedDescription
        }
    }
}

/// Keeps URLSession from following redirects: GitLab takes a 3xx answer as the delivery's result.
private final class RefuseRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
