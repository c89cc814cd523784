import Foundation
import HTTP

/// The outcome of one health check. Checks are fail-closed: an error or timeout is a failed result
/// whose `detail` says why, never a thrown error, so one broken probe cannot stop a cycle.
public struct HealthCheckResult: Sendable, Hashable {
    /// What was checked, e.g. `argocd oms-dev` or `http https://oms-dev.example.com/healthz`.
    public var check: String
    public var passed: Bool
    /// Why it passed or failed, in words an approver can read in an MR description.
    public var detail: String
    public var checkedAt: Date

    public init(check: String, passed: Bool, detail: String, checkedAt: Date) {
        self.check = check
        self.passed = passed
        self.detail = detail
        self.checkedAt = checkedAt
    }
}

/// Where a service lives and the credential that may be sent to it — and only to it.
///
/// Credentials are bound to the configured base URL: a check never sends a token to a URL taken from
/// a policy file, because policy files are edited by app teams through merge requests.
public struct ServiceAccess: Sendable {
    public var baseURL: URL
    public var token: String?
    /// The transport for this service when it needs settings of its own (a private CA bundle);
    /// nil uses the checker's shared transport.
    public var transport: (any HTTPTransport)?

    public init(baseURL: URL, token: String?, transport: (any HTTPTransport)? = nil) {
        self.baseURL = baseURL
        self.token = token
        self.transport = transport
    }
}

extension ServiceAccess: CustomStringConvertible {
    /// The base URL only; the token is never printed.
    public var description: String { baseURL.absoluteString }
}
