import Foundation
import HTTP

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
