import Foundation
import Logging
import Synchronization

/// The answer to one webhook delivery.
public struct WebhookAnswer: Sendable, Hashable {
    public var status: Int
    public var text: String
}

/// `POST /hooks/gitlab`: checks the secret, reads the event, drops duplicates, and triggers the reconcile
/// loop. It never waits for a cycle: GitLab times out slow hooks (10 s) and disables failing ones, so the
/// answer comes at once and the work happens after it.
///
/// Thread-safe: the duplicate window is behind a mutex; everything else is immutable.
public final class WebhookReceiver: Sendable {
    /// Larger bodies are refused with 413 (GitLab's own limit is 25 MB; promobot needs a few KB).
    public static let bodyLimit = 1 << 20

    let secret: String?
    let loop: ReconcileLoop
    let metrics: ServeMetrics
    let logger: Logger
    private let seen = Mutex(RecentKeys(capacity: 4096))

    /// - Parameter secret: what GitLab sends in `X-Gitlab-Token`; nil when webhooks are not configured (every
    ///   delivery is then refused with 403, so a hook pointed here by mistake fails loudly).
    public init(secret: String?, loop: ReconcileLoop, metrics: ServeMetrics, logger: Logger) {
        self.secret = secret
        self.loop = loop
        self.metrics = metrics
        self.logger = logger
    }

    /// The check made before the body is read: nil to go on, or the refusal.
    public func refusal(token: String?) -> WebhookAnswer? {
        guard let secret else {
            metrics.webhook(event: "unknown", result: "disabled")
            return WebhookAnswer(status: 403, text: "webhooks are not configured on this promobot (set webhook.secretEnv or webhook.secretFile)")
        }
        guard let token, Self.constantTimeEquals(token, secret) else {
            metrics.webhook(event: "unknown", result: "unauthorized")
            logger.warning("webhook refused: \(token == nil ? "no" : "wrong") X-Gitlab-Token")
            return WebhookAnswer(status: 401, text: "wrong or missing X-Gitlab-Token")
        }
        return nil
    }

    /// The answer for a body over `bodyLimit`.
    public func tooLarge() -> WebhookAnswer {
        metrics.webhook(event: "unknown", result: "too_large")
        return WebhookAnswer(status: 413, text: "webhook body over \(Self.bodyLimit) bytes")
    }

    /// Handles an authorized delivery.
    ///
    /// - Parameters:
    ///   - deliveryKey: `Idempotency-Key` (stable across GitLab's resends), else `X-Gitlab-Event-UUID`.
    public func receive(eventHeader: String?, deliveryKey: String?, body: Data) async -> WebhookAnswer {
        let event: WebhookEvent
        do {
            event = try WebhookEvent.parse(eventHeader: eventHeader, body: body)
        } catch {
            metrics.webhook(event: "unknown", result: "malformed")
            logger.warning("webhook ignored: \(error)")
            return WebhookAnswer(status: 400, text: "\(error)")
        }
        if case .other = event {
            metrics.webhook(event: event.kind, result: "ignored")
            return WebhookAnswer(status: 204, text: "")
        }
        if let deliveryKey, !deliveryKey.isEmpty, !seen.withLock({ $0.insert(deliveryKey) }) {
            metrics.webhook(event: event.kind, result: "duplicate")
            return WebhookAnswer(status: 200, text: "duplicate delivery \(deliveryKey): already queued")
        }
        let snapshot = await loop.current
        let target = WebhookRouting.target(of: event, policies: snapshot.policies, policiesRepository: snapshot.policiesRepository)
        guard target != .none else {
            metrics.webhook(event: event.kind, result: "ignored")
            return WebhookAnswer(status: 204, text: "")
        }
        await loop.trigger(target)
        metrics.webhook(event: event.kind, result: "accepted")
        let what: String
        switch target {
        case .policies(let names): what = "reconcile " + names.sorted().joined(separator: ", ")
        case .reload: what = "reload and reconcile everything"
        case .none: what = "nothing"
        }
        logger.info("webhook \(event.kind) from \(Self.project(of: event)): \(what)")
        return WebhookAnswer(status: 202, text: what)
    }

    /// Compares without stopping at the first difference, so the time taken does not reveal how much of a
    /// guessed secret was right.
    static func constantTimeEquals(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8), b = Array(expected.utf8)
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    static func project(of event: WebhookEvent) -> String {
        switch event {
        case let .push(project, _), let .mergeRequest(project, _, _, _), let .pipeline(project, _): "\(project)"
        case .other: "?"
        }
    }
}

/// The last `capacity` delivery keys, oldest forgotten first.
struct RecentKeys {
    let capacity: Int
    private var order: [String] = []
    private var keys: Set<String> = []

    init(capacity: Int) { self.capacity = capacity }

    /// False when `key` was seen already.
    mutating func insert(_ key: String) -> Bool {
        guard keys.insert(key).inserted else { return false }
        order.append(key)
        if order.count > capacity {
            keys.remove(order.removeFirst())
        }
        return true
    }
}
