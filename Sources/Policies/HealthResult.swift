import Foundation

/// The outcome of one `HealthCheck`: produced by the Health adapter, judged by the planner, shown as
/// evidence in the MR. Fail-closed: an error or timeout is a failed result whose `detail` says why,
/// never a thrown error, so one broken probe cannot stop a cycle. A value type; thread-safe.
public struct HealthResult: Sendable, Hashable {
    /// What was checked, e.g. `argocd oms-dev` or `http https://oms-dev.example.com/healthz`.
    public var check: String
    /// False on failure, error or timeout.
    public var passed: Bool
    /// What was seen (`Healthy/Synced`, `HTTP 503`, `value 0.07 above 0.05`, the error), in words an
    /// approver can read in an MR description.
    public var detail: String
    /// When the check ran.
    public var checkedAt: Date

    /// Memberwise.
    public init(check: String, passed: Bool, detail: String, checkedAt: Date) {
        self.check = check
        self.passed = passed
        self.detail = detail
        self.checkedAt = checkedAt
    }
}
