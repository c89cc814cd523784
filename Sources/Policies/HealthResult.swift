import Foundation

/// The outcome of one `HealthCheck`: produced by the Health adapter, judged by the planner, shown as
/// evidence in the MR. Fail-closed: an error or timeout is a result that does not pass (`unknown`,
/// not `failed`, so it never triggers a rollback) whose `detail` says why, never a thrown error, so
/// one broken probe cannot stop a cycle. A value type; thread-safe.
public struct HealthResult: Sendable, Hashable {
    /// What was checked, e.g. `argocd oms-dev` or `http https://oms-dev.example.com/healthz`.
    public var check: String
    /// Passed, failed (the check answered and the answer is bad), or unknown (it could not tell).
    public var state: HealthState
    /// False on failure, error or timeout: promotions are fail-closed, so unknown does not pass.
    public var passed: Bool { state == .passed }
    /// What was seen (`Healthy/Synced`, `HTTP 503`, `value 0.07 above 0.05`, the error), in words an
    /// approver can read in an MR description.
    public var detail: String
    /// When the check ran.
    public var checkedAt: Date

    /// Memberwise.
    public init(check: String, state: HealthState, detail: String, checkedAt: Date) {
        self.check = check
        self.state = state
        self.detail = detail
        self.checkedAt = checkedAt
    }

    /// A conclusive result: passed or failed.
    public init(check: String, passed: Bool, detail: String, checkedAt: Date) {
        self.init(check: check, state: passed ? .passed : .failed, detail: detail, checkedAt: checkedAt)
    }
}

/// What one health check concluded.
///
/// Promotions treat anything but `passed` as a failure (fail-closed). Automatic rollbacks act only
/// on `failed`: a check that errored, timed out, or could not judge yet (Argo CD still syncing or
/// settling) is `unknown`, and an unknown never rolls a stage back by itself.
public enum HealthState: String, Sendable, Hashable, Codable {
    /// The check answered, and the answer is good.
    case passed
    /// The check answered, and the answer is bad (Argo CD `Degraded`, HTTP 503 from the probe, a
    /// Prometheus value out of bounds).
    case failed
    /// The check could not tell (transport error, timeout, an error from Argo CD or Prometheus, no data,
    /// still syncing or settling).
    case unknown
}
