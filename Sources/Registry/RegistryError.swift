import Foundation

/// Why a registry could not say which digest a tag points at. Carries no credential: URLs are redacted and
/// messages scrubbed of the secrets the request carried, so it is safe to log and to show in a plan.
public struct RegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Kind: String, Sendable, Hashable {
        /// The registry answered 404: no such tag or digest (`MANIFEST_UNKNOWN`) or no such repository (`NAME_UNKNOWN`).
        case notFound = "not found"
        /// The registry (or its token server) refused the credentials, or they lack pull rights (401/403 `DENIED`).
        case denied
        /// No answer: connection refused, DNS, TLS, timeout, or 5xx after the retries.
        case unreachable
        /// 429 after the retries, or the client-side request budget would have waited too long.
        case rateLimited = "rate limited"
        /// An answer promobot cannot use (no digest, a bad token answer, an unexpected status).
        case unexpected
    }

    /// What went wrong.
    public var kind: Kind
    /// The registry's error code when it sent one (`MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, `DENIED`, `TOOMANYREQUESTS`).
    public var code: String?
    /// The reference asked about, e.g. `registry.example.com/oms/app:1.5.0`.
    public var reference: String
    /// Details for people (status, the registry's message, the transport's reason), already scrubbed.
    public var message: String

    /// Memberwise; `message` must already be free of secrets.
    public init(kind: Kind, code: String? = nil, reference: String, message: String) {
        self.kind = kind
        self.code = code
        self.reference = reference
        self.message = message
    }

    /// One line, e.g. `registry.example.com/oms/app:1.5.0 not found (MANIFEST_UNKNOWN)`.
    public var description: String {
        switch kind {
        case .notFound: "\(reference) not found (\(code ?? "MANIFEST_UNKNOWN"))"
        default: "\(reference): \(kind.rawValue)\(code.map { " (\($0))" } ?? ""): \(message)"
        }
    }
}
