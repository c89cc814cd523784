import Foundation
import LocalFiles
import Yams

/// Parses and validates the global configuration file (`promobot.yaml`) into a `PromobotConfig`.
///
/// Pure: the file's text and the environment (for defaults) are passed in. Reports every problem
/// with `path:line:col`. Secrets are refused: a `token:` key is an error pointing at `tokenEnv` /
/// `tokenFile` (in `webhook:`, a `secret:` key points at `secretEnv` / `secretFile`), and invalid values of
/// secret-related keys are never echoed. Thread-safe.
public enum ConfigParser {
    /// The default config file name, looked up in the working directory.
    public static let defaultFileName = "promobot.yaml"

    static let topKeys = ["gitlab", "argocd", "prometheus", "git", "policies", "cache", "emergencyStop", "stopFile", "concurrency",
                          "requestsPerMinute", "webhook", "policiesRepository", "stageDefaults", "freezes", "registries"]
    static let serviceKeys = ["url", "tokenEnv", "tokenFile", "caBundle"]
    static let webhookKeys = ["url", "secretEnv", "secretFile"]
    static let gitKeys = ["authorName", "authorEmail", "transport", "sshKeyFile", "sshPassphraseEnv", "knownHostsFile"]
    static let registryKeys = ["url", "usernameEnv", "passwordEnv", "passwordFile", "caBundle"]

    /// Parses `yaml` with defaults taken from the current process environment.
    public static func parse(yaml: String, path: String) -> (config: PromobotConfig?, diagnostics: [Diagnostic]) {
        parse(yaml: yaml, path: path, environment: ProcessInfo.processInfo.environment)
    }

    /// Parses `yaml`; `environment` supplies defaults (`CI_SERVER_URL`, `XDG_CACHE_HOME`, `HOME`).
    ///
    /// - Returns: the config when there are no errors, and every diagnostic sorted by position.
    public static func parse(
        yaml: String, path: String, environment: [String: String]
    ) -> (config: PromobotConfig?, diagnostics: [Diagnostic]) {
        let reader = YAMLReader(path: path, fileKind: "the config file")
        var config = PromobotConfig.default(environment: environment)
        config.sourcePath = path
        read(yaml: yaml, into: &config, reader: reader)
        return (reader.hasErrors ? nil : config, Diagnostic.sortedByPosition(reader.diagnostics))
    }

    /// Reads the config file at `path` (through `SourceFile`: size-limited, with the reason it cannot be
    /// read) and parses it. A file that cannot be read is one whole-file diagnostic.
    public static func load(
        path: String, environment: [String: String]
    ) -> (config: PromobotConfig?, diagnostics: [Diagnostic]) {
        switch SourceFile.read(path) {
        case let .success(text):
            return parse(yaml: text, path: path, environment: environment)
        case let .failure(problem):
            return (nil, [Diagnostic(path: path, line: 0, column: 0, message: problem.description)])
        }
    }

    /// Keys that would hold a secret in the file; `envKey`/`fileKey` are the section's keys to use instead.
    static func secretKeyMessage(_ key: String, in section: String, envKey: String = "tokenEnv", fileKey: String = "tokenFile") -> String? {
        guard isSecretKeyName(key) else { return nil }
        return "'\(key)' \(section) would put a secret in the config file: use '\(envKey)' (the name of an environment variable) or '\(fileKey)' (the path of a file) instead"
    }

    /// Whether a key's name says it would hold a secret (`token`, `password`, `secret`, `apiKey`, in any case
    /// or part of a longer name): such keys are refused with a pointer to where the secret belongs instead.
    package static func isSecretKeyName(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return ["token", "password", "passphrase", "secret", "apikey"].contains(where: { lowered.contains($0) })
    }

    private static func read(yaml: String, into config: inout PromobotConfig, reader: YAMLReader) {
        guard let root = reader.compose(yaml) else { return }  // An empty file means "all defaults".
        guard let top = reader.mapping(root, "the config file") else { return }
        let context = "in the config file"
        let entries = reader.entries(top, allowed: topKeys, context: context, extensionPrefix: PolicyParser.extensionPrefix) {
            secretKeyMessage($0, in: context)
        }
        config.shared = sharedSettings(entries, reader: reader)

        if let entry = entries["gitlab"] {
            if var gitlab = service(entry.value, name: "gitlab", reader: reader) {
                if gitlab.url == nil { gitlab.url = config.gitlab.url }
                if gitlab.tokenEnv == nil, gitlab.tokenFile == nil { gitlab.tokenEnv = PromobotConfig.defaultGitLabTokenEnv }
                config.gitlab = gitlab
            }
        }
        if let entry = entries["argocd"] { config.argocd = service(entry.value, name: "argocd", reader: reader) }
        if let entry = entries["webhook"], let webhook = webhook(entry.value, reader: reader) { config.webhook = webhook }
        if let entry = entries["prometheus"] { config.prometheus = service(entry.value, name: "prometheus", reader: reader) }
        if let entry = entries["registries"] { config.registries = registries(entry.value, reader: reader) }

        if let entry = entries["git"], let git = reader.mapping(entry.value, "'git' \(context)") {
            let gitEntries = reader.entries(git, allowed: gitKeys, context: "in section 'git'") {
                secretKeyMessage($0, in: "in section 'git'", envKey: "sshPassphraseEnv", fileKey: "sshKeyFile")
            }
            readSSH(gitEntries, into: &config, reader: reader)
            if let name = gitEntries["authorName"].flatMap({ reader.string($0.value, "'git.authorName'") }) {
                config.gitAuthorName = name
            }
            if let node = gitEntries["authorEmail"]?.value, let email = reader.string(node, "'git.authorEmail'") {
                let parts = email.split(separator: "@", omittingEmptySubsequences: false)
                if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !email.contains(where: \.isWhitespace) {
                    config.gitAuthorEmail = email
                } else {
                    reader.error("invalid email '\(email)' for 'git.authorEmail': use name@domain", at: node)
                }
            }
        }

        if let entry = entries["policies"], let value = reader.string(entry.value, "'policies' \(context)") {
            config.policies = value
        }
        if let entry = entries["cache"], let value = reader.string(entry.value, "'cache' \(context)") {
            config.cache = value
        }
        if let entry = entries["emergencyStop"], let value = reader.bool(entry.value, "'emergencyStop' \(context)") {
            config.emergencyStop = value
        }
        if let entry = entries["concurrency"], let value = reader.int(entry.value, "'concurrency' \(context)") {
            if (1...32).contains(value) {
                config.concurrency = value
            } else {
                reader.error("'concurrency' must be between 1 and 32, found \(value)", at: entry.value)
            }
        }
        if let entry = entries["requestsPerMinute"], let value = reader.int(entry.value, "'requestsPerMinute' \(context)") {
            if (1...100_000).contains(value) {
                config.requestsPerMinute = value
            } else {
                reader.error("'requestsPerMinute' must be between 1 and 100000, found \(value)", at: entry.value)
            }
        }
        if let entry = entries["policiesRepository"], let value = reader.string(entry.value, "'policiesRepository' \(context)") {
            if PolicyParser.isValidRepository(value) {
                config.policiesRepository = value
            } else {
                reader.error("'policiesRepository' '\(value)' is not a GitLab project path (group/project) or numeric id", at: entry.value)
            }
        }
        if let entry = entries["stopFile"], let value = reader.string(entry.value, "'stopFile' \(context)") {
            if let problem = PolicyParser.pathProblem(value) {
                reader.error("'stopFile' '\(value)' \(problem): it names a file inside the policies repository", at: entry.value)
            } else {
                config.stopFile = value
            }
        }
    }

    private static func service(_ node: Node, name: String, reader: YAMLReader) -> ServiceEndpoint? {
        let section = "in section '\(name)'"
        guard let mapping = reader.mapping(node, "'\(name)'") else { return nil }
        let entries = reader.entries(mapping, allowed: serviceKeys, context: section) { secretKeyMessage($0, in: section) }
        var endpoint = ServiceEndpoint()
        var ok = true
        if let node = entries["url"]?.value {
            endpoint.url = url(node, key: "\(name).url", reader: reader)
            ok = ok && endpoint.url != nil
        }
        if let node = entries["tokenEnv"]?.value {
            endpoint.tokenEnv = environmentName(node, key: "\(name).tokenEnv", example: "GITLAB_TOKEN", noun: "token", reader: reader)
            ok = ok && endpoint.tokenEnv != nil
        }
        if let node = entries["tokenFile"]?.value {
            if let path = reader.string(node, "'\(name).tokenFile'") { endpoint.tokenFile = path } else { ok = false }
        }
        if let node = entries["caBundle"]?.value {
            if let path = reader.string(node, "'\(name).caBundle'") { endpoint.caBundle = path } else { ok = false }
        }
        if let envKey = entries["tokenEnv"]?.key, entries["tokenFile"] != nil {
            reader.error("set only one of 'tokenEnv' and 'tokenFile' \(section)", at: envKey)
            ok = false
        }
        return ok ? endpoint : nil
    }

    /// The `webhook:` block: `url` checked like a service's, the secret named by `secretEnv` (default
    /// `PROMOBOT_WEBHOOK_SECRET`) or `secretFile`, never written.
    private static func webhook(_ node: Node, reader: YAMLReader) -> WebhookSettings? {
        let section = "in section 'webhook'"
        guard let mapping = reader.mapping(node, "'webhook'") else { return nil }
        let entries = reader.entries(mapping, allowed: webhookKeys, context: section) {
            secretKeyMessage($0, in: section, envKey: "secretEnv", fileKey: "secretFile")
        }
        var settings = WebhookSettings()
        var ok = true
        if let node = entries["url"]?.value {
            settings.url = url(node, key: "webhook.url", reader: reader)
            ok = ok && settings.url != nil
        }
        if let node = entries["secretEnv"]?.value {
            settings.secretEnv = environmentName(node, key: "webhook.secretEnv", example: WebhookSettings.defaultSecretEnv, noun: "secret", reader: reader)
            ok = ok && settings.secretEnv != nil
        }
        if let node = entries["secretFile"]?.value {
            if let path = reader.string(node, "'webhook.secretFile'") {
                settings.secretFile = path
                settings.secretEnv = nil
            } else {
                ok = false
            }
        }
        if let envKey = entries["secretEnv"]?.key, entries["secretFile"] != nil {
            reader.error("set only one of 'secretEnv' and 'secretFile' \(section)", at: envKey)
            ok = false
        }
        return ok ? settings : nil
    }

    /// The `registries:` block: registry host -> where its API answers and where its credentials come from
    /// (`usernameEnv` with `passwordEnv` or `passwordFile`; never the secrets themselves).
    private static func registries(_ node: Node, reader: YAMLReader) -> [RegistrySettings] {
        guard let mapping = reader.mapping(node, "'registries'") else { return [] }
        var result: [RegistrySettings] = []
        for (keyNode, value) in mapping {
            guard case let .scalar(scalar) = keyNode, !scalar.string.isEmpty else {
                reader.error("each key of 'registries' must be a registry host, like registry.example.com or gitlab.example.com:5050", at: keyNode)
                continue
            }
            let host = scalar.string.lowercased()
            if let problem = registryHostProblem(host) {
                reader.error("'\(YAMLReader.excerpt(scalar.string))' in 'registries' is not a registry host: \(problem)", at: keyNode)
                continue
            }
            if result.contains(where: { $0.host == host }) {
                reader.error("registry '\(host)' is listed twice in 'registries'", at: keyNode)
                continue
            }
            let section = "in registry '\(host)'"
            var settings = RegistrySettings(host: host, line: (keyNode.mark?.line ?? 0))
            if case let .scalar(empty) = value, YAMLReader.isNull(value) || empty.string.isEmpty {
                result.append(settings)  // `registry.example.com:` alone: checked anonymously (or with found credentials).
                continue
            }
            guard let entryMapping = reader.mapping(value, "registry '\(host)'") else { continue }
            let entries = reader.entries(entryMapping, allowed: registryKeys, context: section) {
                secretKeyMessage($0, in: section, envKey: "passwordEnv", fileKey: "passwordFile")
            }
            var ok = true
            if let node = entries["url"]?.value {
                settings.url = url(node, key: "registries.\(host).url", reader: reader)
                ok = ok && settings.url != nil
            }
            if let node = entries["usernameEnv"]?.value {
                settings.usernameEnv = environmentName(node, key: "registries.\(host).usernameEnv", example: "REGISTRY_USER", noun: "user name", reader: reader)
                ok = ok && settings.usernameEnv != nil
            }
            if let node = entries["passwordEnv"]?.value {
                settings.passwordEnv = environmentName(node, key: "registries.\(host).passwordEnv", example: "REGISTRY_PASSWORD", noun: "password", reader: reader)
                ok = ok && settings.passwordEnv != nil
            }
            if let node = entries["passwordFile"]?.value {
                if let path = reader.string(node, "'registries.\(host).passwordFile'") { settings.passwordFile = path } else { ok = false }
            }
            if let node = entries["caBundle"]?.value {
                if let path = reader.string(node, "'registries.\(host).caBundle'") { settings.caBundle = path } else { ok = false }
            }
            if let envKey = entries["passwordEnv"]?.key, entries["passwordFile"] != nil {
                reader.error("set only one of 'passwordEnv' and 'passwordFile' \(section)", at: envKey)
                ok = false
            }
            let hasPassword = entries["passwordEnv"] != nil || entries["passwordFile"] != nil
            if let user = entries["usernameEnv"], !hasPassword {
                reader.error("'usernameEnv' \(section) needs 'passwordEnv' or 'passwordFile' too", at: user.key)
                ok = false
            } else if hasPassword, entries["usernameEnv"] == nil {
                reader.error("a password \(section) needs 'usernameEnv' too (GitLab deploy tokens and CI jobs have a user name)", at: keyNode)
                ok = false
            }
            if ok { result.append(settings) }
        }
        return result
    }

    /// Why `host` cannot be a registry host (a name with an optional port, no scheme, no path), or nil.
    static func registryHostProblem(_ host: String) -> String? {
        if host.contains("://") { return "write the host alone (put a scheme in its 'url')" }
        if host.contains("/") { return "write the host alone, without a path" }
        if let colon = host.lastIndex(of: ":") {
            guard let port = Int(host[host.index(after: colon)...]), (1...65535).contains(port) else { return "the port must be a number from 1 to 65535" }
        }
        return ImageName.domainProblem(host)
    }

    /// An absolute http(s) URL without credentials, or nil (reported at `node`, the value never echoed: a URL
    /// with user:password@ would leak a secret into CI logs).
    private static func url(_ node: Node, key: String, reader: YAMLReader) -> String? {
        guard let url = reader.string(node, "'\(key)'") else { return nil }
        if isServiceURL(url) { return url }
        reader.error("invalid URL for '\(key)': use an absolute http:// or https:// URL without credentials", at: node)
        return nil
    }

    /// Whether `text` is what the config's `url` keys accept: an absolute http(s) URL with a host and no
    /// credentials. Also the rule for URLs given on the command line (`webhooks install --url`).
    public static func isServiceURL(_ text: String) -> Bool {
        guard let parsed = URLComponents(string: text) else { return false }
        return ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") && !(parsed.host ?? "").isEmpty
            && parsed.user == nil && parsed.password == nil
    }

    /// The name of an environment variable, or nil (reported at `node`, not echoed: a wrong value here is often
    /// the secret itself).
    static func environmentName(_ node: Node, key: String, example: String, noun: String, reader: YAMLReader) -> String? {
        if case let .scalar(scalar) = node, isEnvironmentName(scalar.string) { return scalar.string }
        reader.error("'\(key)' must be the name of an environment variable (letters, digits and '_', like \(example)), not the \(noun) itself",
                     at: node)
        return nil
    }

    /// Whether `text` can name an environment variable: a letter or `_`, then letters, digits and `_`.
    package static func isEnvironmentName(_ text: String) -> Bool {
        guard let first = text.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return text.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
