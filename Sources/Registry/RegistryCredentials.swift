import Foundation
import HTTP
import Policies

/// A registry user name and password (or token). Never printed: its `description` hides both.
public struct RegistryCredentials: Sendable, Hashable, CustomStringConvertible {
    public var username: String
    public var password: String

    /// Memberwise.
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// `Basic base64(user:password)`, for a token realm or a registry that asks for Basic.
    var basicAuthorization: String { "Basic " + Data("\(username):\(password)".utf8).base64EncodedString() }

    /// The secrets, for `Redaction.redact(text:secrets:)`.
    var secrets: [String] { [password, Data("\(username):\(password)".utf8).base64EncodedString()] }

    /// Hides the secret (and the user name, which is often a token's name) from logs and errors.
    public var description: String { "credentials for \(Redaction.placeholder)" }
}

/// The registries promobot may ask, each with where its API answers and the credentials that belong to it.
///
/// Built once per run from the config's `registries:` (credentials from `usernameEnv` with `passwordEnv` or
/// `passwordFile`), Docker's `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`:
/// `auths.<host>.auth` or `username`/`password`), and GitLab CI's `CI_REGISTRY`, `CI_REGISTRY_USER` and
/// `CI_REGISTRY_PASSWORD` (the GitLab instance's own registry, added even when the config does not list it), in
/// that order of precedence. A credential is filed under exactly one host and only ever sent there (and to the
/// token realm that host's 401 names). A value type; thread-safe.
public struct RegistryDirectory: Sendable {
    /// One registry: where to send requests and with what.
    public struct Entry: Sendable {
        /// The host as image names write it (`registry.example.com`, `docker.io`).
        public var host: String
        /// The API root, e.g. `https://registry.example.com` (no `/v2`).
        public var baseURL: URL
        /// Nil: anonymous.
        public var credentials: RegistryCredentials?
        /// Where the credentials came from, for `validate` and messages (`config`, `docker config.json`, `CI_REGISTRY`).
        public var credentialSource: String?
        /// The config's PEM bundle for this registry, when it has one.
        public var caBundle: String?

        /// Memberwise.
        public init(host: String, baseURL: URL, credentials: RegistryCredentials? = nil, credentialSource: String? = nil, caBundle: String? = nil) {
            self.host = host
            self.baseURL = baseURL
            self.credentials = credentials
            self.credentialSource = credentialSource
            self.caBundle = caBundle
        }
    }

    /// By normalised host (see ``normalizedHost(_:)``).
    public private(set) var entries: [String: Entry]

    /// A directory of exactly `entries` (for tests and the demo).
    public init(entries: [Entry]) {
        self.entries = Dictionary(entries.map { (Self.normalizedHost($0.host), $0) }) { _, last in last }
    }

    /// Reads the credentials of every configured registry, and adds GitLab CI's registry.
    ///
    /// - Throws: `TokenResolutionError` when a configured variable or file is missing or empty, or Docker's
    ///   `config.json` exists but cannot be read as JSON. The message names the variable or file, never a secret.
    public init(settings: [RegistrySettings], environment: [String: String], readFile: (String) throws -> String) throws {
        let ciHost = environment["CI_REGISTRY"].flatMap { $0.isEmpty ? nil : Self.normalizedHost($0) }
        // No registry to ask, no file to read: an installation without registries never touches config.json.
        let docker = settings.isEmpty && ciHost == nil ? [:] : try Self.dockerConfigCredentials(environment: environment, readFile: readFile)
        var ciCredentials: RegistryCredentials?
        if let user = environment["CI_REGISTRY_USER"], let password = environment["CI_REGISTRY_PASSWORD"], !user.isEmpty, !password.isEmpty {
            ciCredentials = RegistryCredentials(username: user, password: password)
        }
        var entries: [Entry] = []
        for setting in settings {
            let host = Self.normalizedHost(setting.host)
            guard let base = Self.baseURL(host: host, url: setting.url) else { continue }
            var entry = Entry(host: host, baseURL: base, caBundle: setting.caBundle)
            if let configured = try setting.resolveCredentials(environment: environment, readFile: readFile) {
                entry.credentials = RegistryCredentials(username: configured.username, password: configured.password)
                entry.credentialSource = "config"
            } else if let found = docker[host] {
                entry.credentials = found
                entry.credentialSource = "docker config.json"
            } else if host == ciHost, let ciCredentials {
                entry.credentials = ciCredentials
                entry.credentialSource = "CI_REGISTRY_USER"
            }
            entries.append(entry)
        }
        if let ciHost, !entries.contains(where: { $0.host == ciHost }), let base = Self.baseURL(host: ciHost, url: nil) {
            entries.append(Entry(host: ciHost, baseURL: base, credentials: ciCredentials ?? docker[ciHost],
                                 credentialSource: ciCredentials != nil ? "CI_REGISTRY_USER" : docker[ciHost] != nil ? "docker config.json" : nil))
        }
        self.init(entries: entries)
    }

    /// The entry for `host` (any Docker Hub alias finds Docker Hub's), or nil when the registry is not configured.
    public func entry(for host: String) -> Entry? { entries[Self.normalizedHost(host)] }

    /// Hosts, sorted, for messages.
    public var hosts: [String] { entries.keys.sorted() }

    /// `host` lower-cased, with Docker Hub's aliases (`index.docker.io`, `registry-1.docker.io`,
    /// `https://index.docker.io/v1/`) folded into `docker.io`, and a scheme or path (as `config.json` keys have) dropped.
    public static func normalizedHost(_ host: String) -> String {
        var text = host.lowercased()
        if let scheme = text.range(of: "://") { text = String(text[scheme.upperBound...]) }
        if let slash = text.firstIndex(of: "/") { text = String(text[..<slash]) }
        return ["index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"].contains(text) ? "docker.io" : text
    }

    /// Docker Hub's API host.
    static let dockerHubAPI = URL(string: "https://registry-1.docker.io")!

    /// The API root for `host`: the configured `url`, Docker Hub's API host, or `https://<host>`.
    static func baseURL(host: String, url: String?) -> URL? {
        if let url {
            var text = url
            while text.hasSuffix("/") { text.removeLast() }
            return URL(string: text)
        }
        if host == "docker.io" { return dockerHubAPI }
        return URL(string: "https://\(host)")
    }

    /// Host -> credentials from Docker's `config.json` (`auths`), or an empty map when the file does not exist.
    static func dockerConfigCredentials(environment: [String: String], readFile: (String) throws -> String) throws -> [String: RegistryCredentials] {
        let directory: String
        if let configured = environment["DOCKER_CONFIG"], !configured.isEmpty {
            directory = configured
        } else if let home = environment["HOME"], !home.isEmpty {
            directory = (home as NSString).appendingPathComponent(".docker")
        } else {
            return [:]
        }
        let path = (directory as NSString).appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        let text: String
        do {
            text = try readFile(path)
        } catch {
            throw TokenResolutionError(message: "cannot read Docker's credentials file '\(path)' (DOCKER_CONFIG): \(error). Fix its permissions, or point DOCKER_CONFIG elsewhere.")
        }
        return try parseDockerConfig(text, path: path)
    }

    /// The `auths` of a Docker `config.json` text (also the shape of a Kubernetes `.dockerconfigjson`).
    /// Entries without usable credentials (a `credsStore` user's empty `{}`) are skipped.
    static func parseDockerConfig(_ text: String, path: String) throws -> [String: RegistryCredentials] {
        struct File: Decodable {
            struct Auth: Decodable { var auth: String?; var username: String?; var password: String? }
            var auths: [String: Auth]?
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(text.utf8))
        } catch {
            throw TokenResolutionError(message: "Docker's credentials file '\(path)' is not the JSON promobot expects ({\"auths\": {\"<host>\": {\"auth\": \"…\"}}}); fix or move it")
        }
        var result: [String: RegistryCredentials] = [:]
        for (key, auth) in file.auths ?? [:] {
            var credentials: RegistryCredentials?
            if let encoded = auth.auth, !encoded.isEmpty,
               let decoded = Data(base64Encoded: encoded).flatMap({ String(data: $0, encoding: .utf8) }),
               let colon = decoded.firstIndex(of: ":") {
                credentials = RegistryCredentials(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
            } else if let username = auth.username, let password = auth.password, !username.isEmpty, !password.isEmpty {
                credentials = RegistryCredentials(username: username, password: password)
            }
            if let credentials { result[normalizedHost(key)] = credentials }
        }
        return result
    }
}
