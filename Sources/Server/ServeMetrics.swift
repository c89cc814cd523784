import Foundation
import Planning
import Prometheus
import Synchronization

/// What `promobot serve` exposes at `/metrics`, in Prometheus text format (0.0.4).
///
/// Label values are bounded: policy and stage names, gate names, event kinds, status classes — never MR
/// titles, tags or reasons. Each metric and its labels are listed in `docs/serve.md`. Thread-safe: the
/// registry locks, and the stage-state table is behind a mutex.
public final class ServeMetrics: Sendable {
    /// The registry `/metrics` renders; also usable as a swift-metrics backend (`PrometheusMetricsFactory(registry:)`).
    public let registry: PrometheusCollectorRegistry
    private let stageStates = Mutex<[String: (labels: [(String, String)], gauge: Gauge)]>([:])

    /// Names and help texts, in one place: the registry requires one help text per name.
    enum Name {
        static func d(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "promobot", metricName: metric, unitName: unit, helpText: help)
        }
        static var cycleDuration: MetricNameDescriptor { d("cycle_duration", "seconds", "How long one reconcile cycle took, by kind (full resync or triggered by webhooks).") }
        static var cycles: MetricNameDescriptor { d("cycles", "total", "Reconcile cycles run, by kind and result (ok, error, load_error).") }
        static var policyErrors: MetricNameDescriptor { d("policy_errors", "total", "Policy or stage errors reported by cycles.") }
        static var lastSuccess: MetricNameDescriptor { d("last_successful_cycle_timestamp", "seconds", "Unix time of the last cycle that completed without errors.") }
        static var stageState: MetricNameDescriptor { d("stage", "state", "1 for each stage's current decision (state) and the gate that blocks it, if any.") }
        static var mergeRequests: MetricNameDescriptor { d("merge_requests", "total", "What promobot did to merge requests, by policy, stage and action.") }
        static var rollbacks: MetricNameDescriptor { d("rollbacks", "total", "Rollback MRs opened, by policy, stage and kind (manual or automatic).") }
        static var gitlabRequests: MetricNameDescriptor { d("gitlab_requests", "total", "GitLab REST requests by status class (2xx, 3xx, 4xx, 5xx, error).") }
        static var gitRequests: MetricNameDescriptor { d("git_requests", "total", "Git smart-HTTP requests by kind (ref listing, fetch, push).") }
        static var budget: MetricNameDescriptor { d("request_budget", "remaining", "Requests the client-side rate budget can send right now.") }
        static var webhooks: MetricNameDescriptor { d("webhook_events", "total", "GitLab webhook deliveries by event kind and result.") }
        static var emergencyStop: MetricNameDescriptor { d("emergency", "stop", "1 while the emergency stop is on.") }
        static var buildInfo: MetricNameDescriptor { d("build", "info", "Build metadata; the value is always 1.") }
        static var residentMemory: MetricNameDescriptor { d("resident_memory", "bytes", "Resident memory of the process after the last cycle, once freed pages were given back.") }
    }

    /// Every metric name `/metrics` may show (docs/serve.md lists each; tests keep the two and the example
    /// alert rules in step).
    public static var names: [String] {
        [Name.cycleDuration, Name.cycles, Name.policyErrors, Name.lastSuccess, Name.stageState, Name.mergeRequests, Name.rollbacks,
         Name.gitlabRequests, Name.gitRequests, Name.budget, Name.webhooks, Name.emergencyStop, Name.buildInfo,
         Name.residentMemory].map(\.name)
    }

    /// - Parameter build: labels of `promobot_build_info` (`version`, `libgit2`, `libcurl`).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), build: [(String, String)]) {
        self.registry = registry
        registry.makeGauge(descriptor: Name.buildInfo, labels: build).set(to: 1)
        _ = registry.makeGauge(descriptor: Name.lastSuccess)
        _ = registry.makeGauge(descriptor: Name.emergencyStop)
        _ = registry.makeCounter(descriptor: Name.policyErrors)
    }

    /// The process's resident memory after a cycle (`ProcessMemory.current()`): flat in a healthy `serve`.
    public func residentMemory(kiB: Int) {
        registry.makeGauge(descriptor: Name.residentMemory).set(to: Double(kiB) * 1024)
    }

    /// The exposition text for `GET /metrics`.
    public func render() -> String { registry.emitToString() }

    // MARK: - Cycles

    /// Records a finished cycle: its duration and result, what it did per stage, and each stage's state.
    public func record(_ report: CycleReport, kind: String, duration: Duration, finishedAt: Date, emergencyStop: Bool) {
        registry.makeDurationHistogram(descriptor: Name.cycleDuration, labels: [("kind", kind)], buckets: Self.cycleBuckets).record(duration)
        let counters = report.counters
        registry.makeCounter(descriptor: Name.cycles, labels: [("kind", kind), ("result", counters.errors == 0 ? "ok" : "error")]).increment()
        if counters.errors > 0 {
            registry.makeCounter(descriptor: Name.policyErrors).increment(by: Int64(counters.errors))
        } else {
            registry.makeGauge(descriptor: Name.lastSuccess).set(to: finishedAt.timeIntervalSince1970)
        }
        registry.makeGauge(descriptor: Name.emergencyStop).set(to: emergencyStop ? 1 : 0)
        for outcome in report.stages {
            let stage = [("policy", outcome.plan.policy), ("stage", outcome.plan.stage)]
            for action in outcome.actions {
                guard let name = Self.actionName(action) else { continue }
                registry.makeCounter(descriptor: Name.mergeRequests, labels: stage + [("action", name)]).increment()
                if let record = outcome.plan.rollback, case .opened = action {
                    registry.makeCounter(descriptor: Name.rollbacks, labels: stage + [("kind", record.automatic ? "automatic" : "manual")]).increment()
                }
            }
            if outcome.plan.rollback == nil { setState(outcome.plan, labels: stage) }
        }
    }

    /// A full resync could not load config or policies (the loop keeps the previous ones).
    public func loadFailed() {
        registry.makeCounter(descriptor: Name.cycles, labels: [("kind", "full"), ("result", "load_error")]).increment()
    }

    /// One series per stage: switching state replaces the old series, so a stage never shows two states.
    private func setState(_ plan: StagePlan, labels: [(String, String)]) {
        let (state, gate) = Self.state(plan.decision)
        let full = labels + [("state", state), ("gate", gate)]
        let key = "\(plan.policy)/\(plan.stage)"
        stageStates.withLock { table in
            if let old = table[key], old.labels.map(\.1) != full.map(\.1) {
                registry.unregisterGauge(old.gauge)
                table[key] = nil
            }
            let gauge = registry.makeGauge(descriptor: Name.stageState, labels: full)
            gauge.set(to: 1)
            table[key] = (full, gauge)
        }
    }

    /// `(state, gate)` labels for a decision: `up_to_date`, `blocked`, `open_mr`, `updating`, `closing`,
    /// `merging`, `waiting`, `left_alone`; the gate for blocked and waiting stages, else empty.
    static func state(_ decision: Decision) -> (String, String) {
        switch decision {
        case .upToDate: ("up_to_date", "")
        case let .blocked(gate, _, _): ("blocked", gate.rawValue)
        case .openMR: ("open_mr", "")
        case .updateMR: ("updating", "")
        case .closeMR: ("closing", "")
        case .mergeMR: ("merging", "")
        case let .waiting(_, gate, _, _): ("waiting", gate.rawValue)
        case .leaveAlone: ("left_alone", "")
        }
    }

    static func actionName(_ action: EngineAction) -> String? {
        switch action {
        case .opened, .adopted: "opened"
        case .updated: "updated"
        case .merged: "merged"
        case .closed: "closed"
        case .autoMergeSet: "auto_merge_set"
        case .commented: "commented"
        case .leftAsIs, .mergeRequested, .notMerged, .leftAlone, .wouldAct: nil
        }
    }

    static let cycleBuckets: [Duration] = [.milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
                                           .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300)]

    // MARK: - Requests and webhooks

    /// One GitLab REST answer (`status`), or a transport error (nil).
    public func gitlabRequest(status: Int?) {
        let statusClass = status.map { "\($0 / 100)xx" } ?? "error"
        registry.makeCounter(descriptor: Name.gitlabRequests, labels: [("class", statusClass)]).increment()
    }

    /// One git smart-HTTP request about to go out (`fetchRefListing`, `pushRefListing`, `fetch`, `push`).
    public func gitRequest(kind: String) {
        registry.makeCounter(descriptor: Name.gitRequests, labels: [("kind", kind)]).increment()
    }

    /// The rate budget's tokens right now.
    public func budgetRemaining(_ value: Double) {
        registry.makeGauge(descriptor: Name.budget).set(to: value)
    }

    /// One webhook delivery: `event` is `push`, `merge_request`, `pipeline`, `other` or `unknown` (not read);
    /// `result` is `accepted`, `ignored`, `duplicate`, `unauthorized`, `too_large`, `malformed` or `disabled`.
    public func webhook(event: String, result: String) {
        registry.makeCounter(descriptor: Name.webhooks, labels: [("event", event), ("result", result)]).increment()
    }
}
