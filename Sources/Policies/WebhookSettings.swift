import Foundation

/// The `webhook:` block of `promobot.yaml`: the URL GitLab should POST events to (promobot's receiver, as
/// `promobot webhooks install` registers it) and where the shared secret comes from (GitLab sends it back as
/// `X-Gitlab-Token`).
///
/// Holds no secret: only the *name* of an environment variable or the *path* of a file, resolved at the last
/// moment by `resolveSecret`. A value type, safe to share across threads.
public struct WebhookSettings: Sendable, Hashable {
    /// `PROMOBOT_WEBHOOK_SECRET`.
    public static let defaultSecretEnv = "PROMOBOT_WEBHOOK_SECRET"

    /// The receiver's public URL, e.g. `https://promobot.example.com/hooks/gitlab`; nil when not configured.
    public var url: String?
    /// Name of the environment variable holding the secret (default `PROMOBOT_WEBHOOK_SECRET`); nil when
    /// `secretFile` is set.
    public var secretEnv: String?
    /// Path of a file holding the secret (e.g. a mounted Kubernetes secret); trailing whitespace is ignored.
    public var secretFile: String?

    /// Creates settings; set at most one of `secretEnv` and `secretFile`.
    public init(url: String? = nil, secretEnv: String? = defaultSecretEnv, secretFile: String? = nil) {
        self.url = url
        self.secretEnv = secretFile == nil ? secretEnv : nil
        self.secretFile = secretFile
    }

    /// Reads the secret from `secretFile` (through `readFile`) or from `environment[secretEnv]`, exactly as
    /// `ServiceEndpoint.resolveToken` reads tokens.
    /// - Returns: the secret with surrounding whitespace removed, or nil when neither source is configured.
    /// - Throws: `TokenResolutionError` when the variable is unset or empty, or the file cannot be read or is
    ///   empty. The error names the variable or file and the `webhook.` key, never the secret.
    public func resolveSecret(environment: [String: String], readFile: (String) throws -> String) throws -> String? {
        try SecretReference(environmentName: secretEnv, filePath: secretFile, environmentKey: "webhook.secretEnv",
                            fileKey: "webhook.secretFile", noun: "secret", content: "the webhook secret")
            .resolve(environment: environment, readFile: readFile)
    }
}
