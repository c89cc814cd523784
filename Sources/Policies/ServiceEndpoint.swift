import Foundation

/// Where a service (GitLab, Argo CD, Prometheus) lives and where its token comes from.
///
/// Holds no secret: only the *name* of an environment variable or the *path* of a file.
/// `resolveToken` reads the secret at the last moment through an injected reader, so this
/// type stays pure and testable. A value type, safe to share across threads.
public struct ServiceEndpoint: Sendable, Hashable {
    /// Base URL, e.g. `https://gitlab.example.com`; nil when not configured.
    public var url: String?
    /// Name of the environment variable holding the token (`GITLAB_TOKEN`).
    public var tokenEnv: String?
    /// Path of a file holding the token (e.g. a mounted Kubernetes secret); trailing whitespace is ignored.
    public var tokenFile: String?
    /// PEM file of extra CA certificates to trust for this service.
    public var caBundle: String?

    /// Creates an endpoint; set at most one of `tokenEnv` and `tokenFile`.
    public init(url: String? = nil, tokenEnv: String? = nil, tokenFile: String? = nil, caBundle: String? = nil) {
        self.url = url
        self.tokenEnv = tokenEnv
        self.tokenFile = tokenFile
        self.caBundle = caBundle
    }

    /// Reads the token from `tokenFile` (through `readFile`) or from `environment[tokenEnv]`.
    ///
    /// - Parameters:
    ///   - environment: the process environment (inject `ProcessInfo.processInfo.environment`).
    ///   - readFile: reads a whole file as text; only called for `tokenFile`.
    /// - Returns: the token with surrounding whitespace removed, or nil when neither source is configured
    ///   (the service is used without authentication).
    /// - Throws: `TokenResolutionError` when the variable is unset or empty, the file cannot be read, or it is
    ///   empty. The error names the variable or file, never the token.
    public func resolveToken(
        environment: [String: String], readFile: (String) throws -> String
    ) throws -> String? {
        try SecretReference(environmentName: tokenEnv, filePath: tokenFile, environmentKey: "tokenEnv", fileKey: "tokenFile",
                            noun: "token", content: "the API token", suffix: serviceSuffix)
            .resolve(environment: environment, readFile: readFile)
    }

    private var serviceSuffix: String { url.map { " for \($0)" } ?? "" }
}

/// A token (or the webhook secret) could not be read. The message names the variable or file and says what
/// to do; it never contains the secret.
public struct TokenResolutionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
