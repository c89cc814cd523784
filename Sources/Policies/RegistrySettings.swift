import Foundation
import Manifests

/// One entry of the config's `registries:` block: a container registry promobot may ask whether a tag exists
/// and which digest it points at (the `image-exists` gate, `pin: digest`, `set-image --resolve`).
///
/// Keyed by the registry host exactly as image names write it (`registry.example.com`, `gitlab.example.com:5050`,
/// `docker.io`). Holds no secret: the username and password come from environment variables or a file named
/// here, resolved at the last moment by ``resolveCredentials(environment:readFile:)``. Without either, the
/// registry is asked anonymously (or with credentials from Docker's `config.json` or GitLab CI's `CI_REGISTRY_*`,
/// which the Registry module looks up). A value type; thread-safe.
public struct RegistrySettings: Sendable, Hashable {
    /// The host (with port) as image names write it; `docker.io` for Docker Hub.
    public var host: String
    /// Where the registry's API answers, when not `https://<host>` (a mirror, a plain-HTTP registry in a lab,
    /// the sandbox); nil for the default (`https://registry-1.docker.io` for Docker Hub).
    public var url: String?
    /// Name of the environment variable holding the username.
    public var usernameEnv: String?
    /// Name of the environment variable holding the password or token.
    public var passwordEnv: String?
    /// Path of a file holding the password or token (a mounted Kubernetes secret); trailing whitespace is ignored.
    public var passwordFile: String?
    /// PEM file of extra CA certificates to trust for this registry.
    public var caBundle: String?
    /// The config file's line of the entry, for messages (0 when built in code).
    public var line: Int

    /// Memberwise; set at most one of `passwordEnv` and `passwordFile`.
    public init(host: String, url: String? = nil, usernameEnv: String? = nil, passwordEnv: String? = nil,
                passwordFile: String? = nil, caBundle: String? = nil, line: Int = 0) {
        self.host = host
        self.url = url
        self.usernameEnv = usernameEnv
        self.passwordEnv = passwordEnv
        self.passwordFile = passwordFile
        self.caBundle = caBundle
        self.line = line
    }

    /// The username and password this entry names, or nil when it names none (anonymous, or found elsewhere).
    ///
    /// - Throws: `TokenResolutionError` naming the variable or file (never the secret) when one is unset,
    ///   empty or unreadable, or when only one of the username and the password is configured.
    public func resolveCredentials(environment: [String: String], readFile: (String) throws -> String) throws -> (username: String, password: String)? {
        let suffix = " for registry \(host)"
        let password = try SecretReference(environmentName: passwordEnv, filePath: passwordFile, environmentKey: "passwordEnv",
                                           fileKey: "passwordFile", noun: "password", content: "the registry password or token",
                                           suffix: suffix).resolve(environment: environment, readFile: readFile)
        let username = try SecretReference(environmentName: usernameEnv, filePath: nil, environmentKey: "usernameEnv",
                                           fileKey: "usernameEnv", noun: "username", content: "the registry user name",
                                           suffix: suffix).resolve(environment: environment, readFile: readFile)
        switch (username, password) {
        case let (username?, password?): return (username, password)
        case (nil, nil): return nil
        default:
            throw TokenResolutionError(message: "registry \(host) in the config names only one of a username and a password: set both 'usernameEnv' and 'passwordEnv' (or 'passwordFile')")
        }
    }
}

/// What asking a registry about one candidate image found: produced by the Registry adapter, judged by the
/// planner's `image-exists` gate and used for `pin: digest`. Like `HealthResult`, every failure is a value, never a
/// thrown error, so one unreachable registry cannot stop a cycle. A value type; thread-safe.
public struct RegistryLookup: Sendable, Hashable {
    /// What the registry said.
    public enum Outcome: Sendable, Hashable {
        /// The tag (or digest) exists; the manifest's digest (`sha256:…`), of the index for a multi-arch image.
        case found(digest: String)
        /// The registry answered that it does not exist, with its error code (`MANIFEST_UNKNOWN`, `NAME_UNKNOWN`).
        case notFound(code: String)
        /// The registry could not be asked or refused to tell (unreachable, denied, rate-limited, a bad answer);
        /// the detail says which, without any credential. Fail-closed: this blocks the gate.
        case unknown(String)
        /// No registry is configured for the image's host: not checked, and not blocking.
        case notConfigured
    }

    /// The image name as the policy writes it.
    public var image: String
    /// The version that was asked about (a tag, a digest, or both).
    public var version: ImageVersion
    /// The registry host (`registry.example.com`, `docker.io`), for messages.
    public var host: String
    /// What was found.
    public var outcome: Outcome

    /// Memberwise.
    public init(image: String, version: ImageVersion, host: String, outcome: Outcome) {
        self.image = image
        self.version = version
        self.host = host
        self.outcome = outcome
    }

    /// The digest found, if any.
    public var digest: String? {
        if case let .found(digest) = outcome { return digest }
        return nil
    }
}

/// What `pin:` makes a promotion write.
public enum PinMode: String, Sendable, Hashable, CaseIterable {
    /// The tag as the upstream writes it (the default).
    case none
    /// The tag and the digest it points at, `image:tag@sha256:…`.
    case digest
}
