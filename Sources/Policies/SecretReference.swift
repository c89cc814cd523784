import Foundation

/// A secret the config names but never holds: the name of an environment variable or the path of a file.
///
/// The one resolver behind `ServiceEndpoint.resolveToken` (`tokenEnv`/`tokenFile`) and
/// `WebhookSettings.resolveSecret` (`secretEnv`/`secretFile`): the file wins when both are set (the parser
/// refuses that anyway), the value is trimmed, and an unset, empty or unreadable source is an error naming the
/// variable or file and the config key, never the secret. Pure apart from the injected reader; thread-safe.
struct SecretReference {
    /// Environment variable holding the secret.
    var environmentName: String?
    /// File holding the secret.
    var filePath: String?
    /// The config keys, as messages quote them (`tokenEnv`, `webhook.secretFile`).
    var environmentKey: String
    var fileKey: String
    /// `token` or `secret`, for "the token file".
    var noun: String
    /// What belongs in the source, for advice: `the API token`, `the webhook secret`.
    var content: String
    /// Appended to the key in messages, e.g. ` for https://gitlab.example.com`; may be empty.
    var suffix: String = ""

    /// The secret, or nil when neither source is configured.
    /// - Throws: `TokenResolutionError` naming the variable or file.
    func resolve(environment: [String: String], readFile: (String) throws -> String) throws -> String? {
        if let filePath {
            let text: String
            do {
                text = try readFile(filePath)
            } catch {
                throw TokenResolutionError(
                    message: "cannot read the \(noun) file '\(filePath)' (\(fileKey)\(suffix)): \(error). Check the path and its permissions.")
            }
            return try Self.nonEmpty(text, orSay: "the \(noun) file '\(filePath)' (\(fileKey)\(suffix)) is empty: put \(content) in it.")
        }
        if let environmentName {
            guard let value = environment[environmentName] else {
                throw TokenResolutionError(
                    message: "the environment variable \(environmentName) (\(environmentKey)\(suffix)) is not set: export it with \(content), or set '\(fileKey)' in the config.")
            }
            return try Self.nonEmpty(value, orSay: "the environment variable \(environmentName) (\(environmentKey)\(suffix)) is empty: set it to \(content).")
        }
        return nil
    }

    /// The secret without surrounding whitespace; an empty one is refused with `message`.
    private static func nonEmpty(_ text: String, orSay message: String) throws -> String {
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else { throw TokenResolutionError(message: message) }
        return secret
    }
}
