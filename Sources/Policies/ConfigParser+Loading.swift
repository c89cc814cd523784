import Foundation
import Manifests

extension ConfigParser {
    /// A config as a command loads it: the file read (nil when there was none), the config (defaults from
    /// the environment when there was no file; nil when the file has errors) and the file's diagnostics.
    public struct Loaded: Sendable {
        /// The file that was read, or nil when there was none and ``config`` holds the defaults.
        public var path: String?
        /// The config; nil when the file could not be read or has errors (see ``diagnostics``).
        public var config: PromobotConfig?
        /// Every problem of the file, sorted by position; empty when there was no file.
        public var diagnostics: [Diagnostic]
    }

    /// The config file a command reads: `explicit` (`--config`), else ``defaultFileName`` in the working
    /// directory when it exists; nil means "no file: defaults from the environment".
    public static func discover(explicit: String?) -> String? {
        explicit ?? (FileManager.default.fileExists(atPath: defaultFileName) ? defaultFileName : nil)
    }

    /// The one config loader of `run`, `plan`, `status` and `validate`: finds the file with
    /// ``discover(explicit:)`` and reads it with ``load(path:environment:)`` (size-limited, saying why it
    /// cannot be read); without a file, the defaults from `environment`. Blocking file I/O; thread-safe.
    public static func load(explicit: String?, environment: [String: String]) -> Loaded {
        guard let path = discover(explicit: explicit) else {
            return Loaded(path: nil, config: PromobotConfig.default(environment: environment), diagnostics: [])
        }
        let (config, diagnostics) = load(path: path, environment: environment)
        return Loaded(path: path, config: config, diagnostics: diagnostics)
    }

    /// Warnings, located at the config file, for health checks of `policies` that need a service `config`
    /// does not configure (`argocd.url`, `prometheus.url`): those checks would fail on every cycle. Pure.
    public static func servicesMissing(for policies: [Policy], config: PromobotConfig) -> [Diagnostic] {
        let path = config.sourcePath ?? defaultFileName
        var firstUser: [String: String] = [:]  // kind -> first policy using it
        for policy in policies {
            for check in policy.stages.flatMap(\.health) {
                switch check {
                case .argocd where config.argocd?.url == nil: firstUser["argocd"] = firstUser["argocd"] ?? policy.name
                case .prometheus where config.prometheus?.url == nil: firstUser["prometheus"] = firstUser["prometheus"] ?? policy.name
                default: break
                }
            }
        }
        return firstUser.sorted { $0.key < $1.key }.map { kind, policy in
            Diagnostic(path: path, line: 0, column: 0, severity: .warning,
                       message: "policy '\(policy)' uses \(kind) health checks but '\(kind).url' is not configured: those checks will fail")
        }
    }

    /// Warnings, located at the config file, for `pin: digest` stages whose images live in a registry the config
    /// does not list under `registries:`: without one, nothing can resolve a digest and every promotion into the
    /// stage would be blocked (unless the upstream pins digests itself, or GitLab CI's `CI_REGISTRY` is that
    /// registry, which `environment` tells). Pure.
    public static func registriesMissing(for policies: [Policy], config: PromobotConfig, environment: [String: String]) -> [Diagnostic] {
        let path = config.sourcePath ?? defaultFileName
        var known = Set(config.registries.map { $0.host.lowercased() })
        if let ci = environment["CI_REGISTRY"], !ci.isEmpty { known.insert(ci.lowercased()) }
        var seen: Set<String> = []
        var result: [Diagnostic] = []
        for policy in policies {
            for stage in policy.stages where stage.pin == .digest {
                for image in policy.images {
                    guard let host = (try? ImageReference.parse(image))?.registry, !known.contains(host), seen.insert("\(policy.name)/\(host)").inserted else { continue }
                    result.append(Diagnostic(path: path, line: 0, column: 0, severity: .warning,
                                             message: "policy '\(policy.name)' pins digests in stage '\(stage.name)' (pin: digest) but no registry is configured for \(host): add it under 'registries:', or promotions into '\(stage.name)' are blocked unless '\(stage.from ?? "its upstream")' pins digests itself"))
                }
            }
        }
        return result
    }
}
