import Foundation
import GitLab
import Logging
import Planning
import Policies
import ProcessMemory
import Promotion

/// What one load of config and policies produces for `promobot serve`.
public struct LoadedRuntime: Sendable {
    /// The engine over every policy (a triggered cycle narrows it to the policies concerned).
    public var engine: PromotionEngine
    /// The run's rate budget, for the `promobot_request_budget_remaining` gauge.
    public var budget: RequestBudget?
    /// The policies repository (a path or id), whose Push Hook reloads everything; nil when not configured.
    public var policiesRepository: String?

    public init(engine: PromotionEngine, budget: RequestBudget? = nil, policiesRepository: String? = nil) {
        self.engine = engine
        self.budget = budget
        self.policiesRepository = policiesRepository
    }
}

/// What the loop knows after its last cycle: for the status page, the probes and webhook routing.
public struct LoopSnapshot: Sendable {
    /// The policies last loaded (empty before the first successful load).
    public var policies: [Policy] = []
    public var policiesRepository: String?
    /// The report per policy, from the newest cycle that covered it: what the page shows.
    public var board = CycleReport()
    public var lastCycleAt: Date?
    public var lastSuccessAt: Date?
    /// Why the last load of config or policies failed (the loop keeps running on the previous ones).
    public var loadError: String?
    public var emergencyStop: String?
    /// Cycles completed since the process started.
    public var cycles = 0
}

/// The reconcile loop of `promobot serve`: a full resync every `resync` (config, policies and stop file
/// read again), and cycles for the policies webhooks name in between.
///
/// One cycle at a time: triggers that arrive while a cycle runs are coalesced into the next one, and
/// triggers within `debounce` of each other become one cycle. So a policy is never reconciled twice at
/// once; policies that share no repository still run in parallel lanes inside a cycle (the engine's
/// `concurrency`). The pending work is a set of policy names plus a "full" flag: bounded by construction,
/// however many webhooks arrive.
///
/// A cycle that has started is never cancelled midway (it runs in a task of its own): `stop()` ends the
/// loop after the current cycle, so a pushed branch is not left without its MR when that can be avoided.
public actor ReconcileLoop {
    public struct Configuration: Sendable {
        public var resync: Duration
        public var debounce: Duration

        public init(resync: Duration = .seconds(300), debounce: Duration = .milliseconds(500)) {
            self.resync = resync
            self.debounce = debounce
        }
    }

    public let configuration: Configuration
    private let metrics: ServeMetrics
    private let logger: Logger
    private let load: @Sendable () async throws -> LoadedRuntime
    private let clock = ContinuousClock()

    private var loaded: LoadedRuntime?
    private var snapshot = LoopSnapshot()
    private var pendingFull = true
    private var pendingPolicies: Set<String> = []
    private var waiter: CheckedContinuation<Void, Never>?
    private var stopping = false
    private var cycleWatchers: [CheckedContinuation<Void, Never>] = []

    public init(configuration: Configuration, metrics: ServeMetrics, logger: Logger,
                load: @escaping @Sendable () async throws -> LoadedRuntime) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.load = load
    }

    /// The state for the page, probes and routing.
    public var current: LoopSnapshot { snapshot }

    /// Whether the loop is ready for traffic: config loaded and a cycle completed within three resyncs.
    public func isReady(now: Date = Date()) -> Bool {
        guard loaded != nil, let last = snapshot.lastCycleAt else { return false }
        return now.timeIntervalSince(last) < 3 * Self.seconds(configuration.resync)
    }

    /// Asks for work; returns at once. The loop picks it up after the debounce window (or after the
    /// cycle that is running now).
    public func trigger(_ target: WebhookTarget) {
        switch target {
        case .none: return
        case .reload: pendingFull = true
        case .policies(let names): pendingPolicies.formUnion(names)
        }
        wake()
    }

    /// Ends the loop after the cycle that is running (if any); returns at once.
    public func stop() {
        stopping = true
        wake()
    }

    /// Waits until the next cycle completes (tests and the benchmark use it).
    public func nextCycle() async {
        await withCheckedContinuation { cycleWatchers.append($0) }
    }

    /// Runs until `stop()` (or cancellation, which is treated the same: the running cycle finishes first).
    public func run() async {
        var nextResync = clock.now
        while !stopping && !Task.isCancelled {
            if clock.now >= nextResync { pendingFull = true }
            if pendingFull {
                pendingFull = false
                pendingPolicies = []
                nextResync = clock.now.advanced(by: configuration.resync)
                await cycle(only: nil)
                continue
            }
            if !pendingPolicies.isEmpty {
                // Let the burst of events one push or approval causes arrive, then run once.
                try? await Task.sleep(for: configuration.debounce)
                if stopping || Task.isCancelled { break }
                if pendingFull { continue }
                let names = pendingPolicies
                pendingPolicies = []
                await cycle(only: names)
                continue
            }
            await sleep(until: nextResync)
        }
        for watcher in cycleWatchers { watcher.resume() }
        cycleWatchers = []
    }

    // MARK: - Private

    private func wake() {
        waiter?.resume()
        waiter = nil
    }

    private func sleep(until deadline: ContinuousClock.Instant) async {
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: ContinuousClock())
            await self?.wake()
        }
        await withCheckedContinuation { continuation in
            if stopping || pendingFull || !pendingPolicies.isEmpty {
                continuation.resume()
            } else {
                waiter = continuation
            }
        }
        timer.cancel()
    }

    /// One cycle over every policy (`only == nil`, after loading config and policies again) or over the named ones.
    private func cycle(only names: Set<String>?) async {
        let kind = names == nil ? "full" : "triggered"
        if names == nil {
            do {
                loaded = try await load()
                snapshot.loadError = nil
            } catch {
                snapshot.loadError = "\(error)"
                logger.error("could not load config or policies; keeping the previous ones: \(error)")
                metrics.loadFailed()
            }
        }
        guard let loaded else { return }
        var engine = loaded.engine
        if let names {
            engine.policies = engine.policies.filter { names.contains($0.name) }
            engine.configuration.closeOrphans = false
            if engine.policies.isEmpty { return }
        }
        snapshot.policies = loaded.engine.policies
        snapshot.policiesRepository = loaded.policiesRepository
        snapshot.emergencyStop = loaded.engine.configuration.emergencyStop

        let started = clock.now
        // A task of its own: cancelling the loop never interrupts a cycle between two steps.
        let report = await Task { [engine] in await engine.runCycle() }.value
        let duration = clock.now - started
        let finishedAt = Date()

        snapshot.board = Self.merge(snapshot.board, with: report, covering: Set(engine.policies.map(\.name)),
                                    order: loaded.engine.policies.map(\.name))
        snapshot.lastCycleAt = finishedAt
        if !report.hasErrors { snapshot.lastSuccessAt = finishedAt }
        snapshot.cycles += 1
        metrics.record(report, kind: kind, duration: duration, finishedAt: finishedAt,
                       emergencyStop: loaded.engine.configuration.emergencyStop != nil)
        if let budget = loaded.budget { metrics.budgetRemaining(await budget.remaining) }
        logger.info("cycle done", metadata: [
            "kind": "\(kind)", "policies": "\(engine.policies.count)", "stages": "\(report.stages.count)",
            "errors": "\(report.counters.errors)", "seconds": "\(Self.seconds(duration))",
        ])
        metrics.residentMemory(kiB: await ProcessMemory.afterCycle().rssKiB)
        for watcher in cycleWatchers { watcher.resume() }
        cycleWatchers = []
    }

    /// The board after a cycle: the covered policies' entries replaced by the new report's, the others kept.
    static func merge(_ board: CycleReport, with report: CycleReport, covering names: Set<String>, order: [String]) -> CycleReport {
        var merged = CycleReport()
        for policy in order {
            let source = names.contains(policy) ? report : board
            merged.stages += source.stages.filter { $0.plan.policy == policy }
            merged.errors += source.errors.filter { $0.policy == policy }
        }
        merged.orphans = report.orphans
        return merged
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
