import ArgumentParser
import Foundation
import Planning
import Git
import GitLab
import HTTP
import Health
import Logging
import Manifests
import Policies
import Promotion
import Registry
import Server

/// Everything `run`, `plan` and `status` need, built from the config file, the policies and the environment.
///
/// Configuration problems end the command with exit code 2 and a message that names the file, the key or
/// the variable to fix; no secret is ever printed.
struct Runtime {
    var engine: PromotionEngine
    var logger: Logger
    /// The run's request budget, shared by REST and git.
    var budget: RequestBudget
    var config: PromobotConfig
    /// The shard this process reconciles (`--shard`), if any.
    var shard: Shard? = nil
    /// How many policies were selected before `--shard` narrowed them (all, or the `--policy` ones).
    var loadedPolicies = 0

    /// - Parameter metrics: `promobot serve`'s metrics: GitLab answers and git requests are counted there.
    static func load(_ options: EngineOptions, dryRun: Bool, logFormat: LogFormat, quiet: Bool = false,
                     environment: [String: String] = ProcessInfo.processInfo.environment,
                     metrics: ServeMetrics? = nil) throws -> Runtime {
        let config = try loadConfig(options.config, environment: environment)
        var (policies, policiesPath) = try loadPolicies(options, config: config)
        let selected = policies.count
        var shard: Shard?
        if let text = options.shard {
            switch Shard.parse(text, environment: environment) {
            case .success(let parsed): shard = parsed
            case .failure(let error): throw ConfigurationError("--shard: \(error)")
            }
            policies = Sharding.owned(policies, by: shard!)
        }
        let gitlab = try GitLabAccess(config, environment: environment, metrics: metrics)
        let argocd = try access(config.argocd, environment: environment, read: readSecretFile)
        let prometheus = try access(config.prometheus, environment: environment, read: readSecretFile)

        let logger = Logger(label: "promobot") { label in
            var handler: LogHandler = logFormat == .json ? JSONLogHandler(label: label) : TextLogHandler(label: label)
            handler.logLevel = quiet ? .warning : .info
            return handler
        }

        var configuration = EngineConfiguration(
            authorName: config.gitAuthorName, authorEmail: config.gitAuthorEmail, gitlabURL: gitlab.url,
            gitCredentials: gitlab.credentials, dryRun: dryRun,
            emergencyStop: emergencyStop(config, policiesPath: policiesPath),
            closeOrphans: options.only.isEmpty, concurrency: config.concurrency)
        configuration.promobotVersion = Promobot.version
        configuration.gitTransport = config.gitTransport
        let engine = PromotionEngine(
            policies: policies,
            gitlab: gitlab.client,
            repositories: gitlab.repositories,
            // Health checks trust the system roots (or their service's own `caBundle`), not GitLab's bundle.
            health: HealthChecker(transport: config.gitlab.caBundle == nil ? gitlab.curl : client(caBundle: nil),
                                  argocd: argocd, prometheus: prometheus),
            configuration: configuration,
            logger: logger,
            registry: try registryClient(config, environment: environment))
        return Runtime(engine: engine, logger: logger, budget: gitlab.budget, config: config, shard: shard, loadedPolicies: selected)
    }

    /// `--config FILE`, else `./promobot.yaml` when present, else defaults from the environment
    /// (`ConfigParser.load(explicit:environment:)`, the loader `validate` uses too).
    /// - Throws: ``ConfigurationError`` with every diagnostic of the file, or why it cannot be read.
    static func loadConfig(_ path: String?, environment: [String: String]) throws -> PromobotConfig {
        let loaded = ConfigParser.load(explicit: path, environment: environment)
        guard let config = loaded.config else {
            throw ConfigurationError(loaded.diagnostics.map(\.formatted).joined(separator: "\n"))
        }
        return config
    }

    /// The policies `options` select: every policy in `--policies` (else the config's folder), or only the
    /// `--policy` ones. Returns them with the folder read.
    /// - Throws: ``ConfigurationError`` with every policy diagnostic, or naming an unknown `--policy`.
    static func loadPolicies(_ options: EngineOptions, config: PromobotConfig) throws -> (policies: [Policy], path: String) {
        let policiesPath = options.policies ?? config.policies
        let loaded = PolicyLoader.load(paths: [policiesPath], shared: config.shared)
        if loaded.hasErrors {
            throw ConfigurationError(loaded.diagnostics.map(\.formatted).joined(separator: "\n") + "\n(run 'promobot validate \(policiesPath)' for the full report)")
        }
        var policies = loaded.policies
        if !options.only.isEmpty {
            let unknown = options.only.filter { name in !policies.contains { $0.name == name } }
            if !unknown.isEmpty {
                throw ConfigurationError("no policy named \(unknown.map { "'\($0)'" }.joined(separator: ", ")) in \(policiesPath) (known: \(policies.map(\.name).joined(separator: ", ")))")
            }
            policies = policies.filter { options.only.contains($0.name) }
        }
        return (policies, policiesPath)
    }

    /// GitLab's URL (`gitlab.url`, else `$CI_SERVER_URL`) and the token (`gitlab.tokenEnv` / `tokenFile`).
    /// - Throws: ``ConfigurationError`` naming the key or variable to set; never the token.
    static func gitlabURLAndToken(_ config: PromobotConfig, environment: [String: String]) throws -> (url: URL, token: String) {
        guard let gitlabText = config.gitlab.url, let gitlabURL = URL(string: gitlabText), gitlabURL.scheme != nil else {
            throw ConfigurationError("no GitLab URL: set 'gitlab.url' in \(config.sourcePath ?? "promobot.yaml") or the CI_SERVER_URL environment variable")
        }
        do {
            guard let token = try config.gitlab.resolveToken(environment: environment, readFile: readSecretFile) else {
                throw ConfigurationError("no GitLab token configured: set 'gitlab.tokenEnv' or 'gitlab.tokenFile' in \(config.sourcePath ?? "promobot.yaml")")
            }
            return (gitlabURL, token)
        } catch let error as TokenResolutionError {
            throw ConfigurationError("\(error)")
        }
    }

    /// The registry client for the config's `registries:` (and GitLab CI's own registry): trusting the system
    /// roots or each registry's `caBundle`, with a request budget of its own (a registry's limits are not GitLab's).
    /// - Throws: ``ConfigurationError`` naming the variable or file of a credential that cannot be read.
    static func registryClient(_ config: PromobotConfig, environment: [String: String]) throws -> RegistryClient {
        do {
            let directory = try RegistryDirectory(settings: config.registries, environment: environment, readFile: readSecretFile)
            var transports: [String: any HTTPTransport] = [:]
            for entry in directory.entries.values {
                if let bundle = entry.caBundle { transports[entry.host] = RegistryClient.transport(caBundle: bundle) }
            }
            return RegistryClient(directory: directory, transport: RegistryClient.transport(), transports: transports,
                                  budget: RequestBudget(requestsPerMinute: config.requestsPerMinute))
        } catch let error as TokenResolutionError {
            throw ConfigurationError("\(error)")
        }
    }

    /// Reads a token or secret file named in the config.
    static func readSecretFile(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// Git transport settings for GitLab's smart HTTP: REST's retry policy, and a permit from the run's
    /// shared request budget for every git request (ref listing, fetch, push; each retry too).
    static func gitOptions(caBundle: String?, retry: RetryPolicy, budget: RequestBudget, metrics: ServeMetrics? = nil,
                           knownHosts: String? = nil) -> GitTransportOptions {
        GitTransportOptions(caBundlePath: caBundle, knownHostsPath: knownHosts, retry: retry, requestPermit: GitRequestPermit { request in
            try await budget.acquire(for: request.method, path: request.path)
            metrics?.gitRequest(kind: request.kind.rawValue)
        })
    }

    /// The token over https; over ssh (`git.transport: ssh`), the key file and its passphrase from the
    /// environment variable the config names. Checked here, so a missing key or passphrase stops the run
    /// before any network call, naming the config key to fix.
    static func gitCredentials(_ config: PromobotConfig, token: String, environment: [String: String]) throws -> GitCredentials {
        guard config.gitTransport == .ssh else { return .token(token) }
        let file = config.sourcePath ?? ConfigParser.defaultFileName
        guard let key = config.sshKeyFile else {
            throw ConfigurationError("'git.transport: ssh' in \(file) needs 'git.sshKeyFile': the path of the private key promobot pushes with")
        }
        guard FileManager.default.isReadableFile(atPath: key) else {
            throw ConfigurationError("cannot read the SSH key named by 'git.sshKeyFile' (\(EchoText.escapingControls(key))) in \(file): no such file, or no permission")
        }
        var passphrase: String?
        if let name = config.sshPassphraseEnv {
            guard let value = environment[name], !value.isEmpty else {
                throw ConfigurationError("'git.sshPassphraseEnv' names \(name), which is not set (\(file)): export the SSH key's passphrase in \(name)")
            }
            passphrase = value
        }
        let publicKey = key + ".pub"
        return .sshKey(privateKey: key, publicKey: FileManager.default.fileExists(atPath: publicKey) ? publicKey : nil,
                       passphrase: passphrase)
    }

    /// A libcurl client trusting `caBundle` instead of the system roots (nil: the system roots).
    static func client(caBundle: String?) -> CurlHTTPClient {
        var configuration = HTTPClientConfiguration()
        configuration.caBundlePath = caBundle
        return CurlHTTPClient(configuration: configuration)
    }

    static func access(_ endpoint: ServiceEndpoint?, environment: [String: String], read: (String) throws -> String) throws -> ServiceAccess? {
        guard let endpoint, let text = endpoint.url else { return nil }
        guard let url = URL(string: text) else { throw ConfigurationError("'\(text)' is not a URL") }
        do {
            // A service with its own CA bundle gets its own client; the others use the checker's.
            return ServiceAccess(baseURL: url, token: try endpoint.resolveToken(environment: environment, readFile: read),
                                 transport: endpoint.caBundle.map { client(caBundle: $0) })
        } catch {
            throw ConfigurationError("\(error)")
        }
    }

    /// The emergency stop: `emergencyStop: true` in the config, or the stop file (see
    /// `PromobotConfig.stopFile`: the policies folder, then the working directory).
    static func emergencyStop(_ config: PromobotConfig, policiesPath: String) -> String? {
        if config.emergencyStop { return "emergencyStop is true in \(config.sourcePath ?? "the config")" }
        for folder in [policiesPath, "."] {
            let path = (folder as NSString).appendingPathComponent(config.stopFile)
            if FileManager.default.fileExists(atPath: path) { return "stop file \(path) exists" }
        }
        return nil
    }

    /// Parses `30s`, `5m`, `1h30m` into seconds.
    static func parseDuration(_ text: String) -> TimeInterval? {
        PolicyDuration(parsing: text).flatMap { $0.seconds > 0 ? $0.timeInterval : nil }
    }

}

/// A configuration problem: the command prints it and exits with code 2.
struct ConfigurationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Runtime {
    /// Like `load`, but a configuration problem is printed to standard error and ends the command with exit code 2.
    static func loadOrExit(_ options: EngineOptions, dryRun: Bool, logFormat: LogFormat, quiet: Bool = false,
                           metrics: ServeMetrics? = nil) throws -> Runtime {
        do {
            return try load(options, dryRun: dryRun, logFormat: logFormat, quiet: quiet, metrics: metrics)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data(("promobot: " + error.description + "\n").utf8))
            throw ExitCode(2)
        }
    }
}
