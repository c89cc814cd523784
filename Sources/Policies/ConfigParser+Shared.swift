import Foundation
import Yams

extension ConfigParser {
    /// Keys of one company-wide freeze besides `from`, `until` and `reason`.
    static let freezeScopeKeys = ["stages", "policies"]

    /// `stageDefaults:` (stage name -> stage keys) and `freezes:` (company-wide), read with the policy
    /// parser's own key readers so a value means, and is checked, exactly as in a policy file, while every
    /// problem points into the config file.
    static func sharedSettings(_ entries: [String: (key: Node, value: Node)], reader: YAMLReader) -> SharedSettings {
        let path = reader.path
        let parser = PolicyParser.Parser(reader: reader, path: path)
        var shared = SharedSettings()
        if let entry = entries["stageDefaults"], let mapping = reader.mapping(entry.value, "'stageDefaults' in the config file") {
            for (key, value) in mapping {
                guard let name = reader.string(key, "a stage name in 'stageDefaults'") else { continue }
                guard PolicyParser.isValidName(name) else {
                    reader.error("'\(YAMLReader.excerpt(name))' in 'stageDefaults' is not a stage name: use 1-63 lowercase letters, digits and '-'",
                                 at: key)
                    continue
                }
                let label = "'stageDefaults.\(name)'"
                shared.stageDefaults[name] = parser.parseDefaults(value, label: label) { key in
                    .stageDefaults(path: path, line: key.mark?.line ?? 0, stage: name)
                }
                shared.stageDefaults[name]?.line = key.mark?.line ?? 0
            }
        }
        if let entry = entries["freezes"], let items = reader.list(entry.value, "'freezes' in the config file", allowEmpty: true) {
            for (index, item) in items.enumerated() {
                let label = "company-wide freeze \(index + 1)"
                let (freeze, scope) = parser.parseFreeze(item, label: label, scopeKeys: freezeScopeKeys)
                let stages = scope["stages"].flatMap { names($0.value, "'stages' in \(label)", reader: reader) }
                let policies = scope["policies"].flatMap { names($0.value, "'policies' in \(label)", reader: reader) }
                guard var freeze else { continue }
                let line = item.mark?.line ?? 0
                freeze.companyWide = "\((path as NSString).lastPathComponent):\(line)"
                shared.freezes.append(CompanyFreeze(freeze: freeze, stages: stages, policies: policies,
                                                    source: .companyFreeze(path: path, line: line)))
            }
        }
        return shared
    }

    /// A list of stage or policy names.
    private static func names(_ node: Node, _ what: String, reader: YAMLReader) -> [String]? {
        guard let items = reader.stringList(node, what) else { return nil }
        var names: [String] = []
        for (value, itemNode) in items {
            if PolicyParser.isValidName(value) {
                names.append(value)
            } else {
                reader.error("'\(YAMLReader.excerpt(value))' in \(what) is not a name: use 1-63 lowercase letters, digits and '-'", at: itemNode)
            }
        }
        return names
    }
}

extension ConfigParser {
    /// Warnings, at the config file, for shared settings that reach no stage: a `stageDefaults` entry no
    /// policy has a stage of that name for (`prdo:`), and a company-wide freeze whose `stages`/`policies`
    /// match nothing. Such a setting silently does nothing, which for a freeze is the worst surprise. Pure.
    public static func sharedSettingsUnused(by policies: [Policy], config: PromobotConfig) -> [Diagnostic] {
        guard !policies.isEmpty else { return [] }
        let path = config.sourcePath ?? defaultFileName
        let stageNames = Set(policies.flatMap { $0.stages.map(\.name) })
        var diagnostics: [Diagnostic] = []
        for (name, defaults) in config.shared.stageDefaults.sorted(by: { $0.key < $1.key }) where !stageNames.contains(name) {
            diagnostics.append(Diagnostic(path: path, line: defaults.line, column: 0, severity: .warning, message:
                "'stageDefaults.\(name)' applies to no stage: no policy has a stage named '\(name)'\(Suggestion.didYouMean(name, in: stageNames.sorted()))"))
        }
        for (index, company) in config.shared.freezes.enumerated() {
            let reaches = policies.contains { policy in policy.stages.contains { company.applies(toStage: $0.name, policy: policy.name) } }
            if !reaches {
                diagnostics.append(Diagnostic(path: path, line: company.source.line ?? 0, column: 0, severity: .warning, message:
                    "company-wide freeze \(index + 1) applies to no stage: its 'stages' and 'policies' match none of the loaded policies"))
            }
        }
        return diagnostics
    }
}

extension ConfigParser {
    /// `git.transport`, `git.sshKeyFile`, `git.sshPassphraseEnv` and `git.knownHostsFile`. Secrets stay
    /// out of the file: the key is a path, the passphrase the name of an environment variable.
    static func readSSH(_ entries: [String: (key: Node, value: Node)], into config: inout PromobotConfig, reader: YAMLReader) {
        if let entry = entries["transport"], let value = reader.string(entry.value, "'git.transport'") {
            if let transport = GitTransport(rawValue: value) {
                config.gitTransport = transport
            } else {
                reader.error("invalid value '\(YAMLReader.excerpt(value))' for 'git.transport': use https or ssh\(Suggestion.didYouMean(value, in: GitTransport.allCases.map(\.rawValue)))",
                             at: entry.value)
            }
        }
        if let node = entries["sshKeyFile"]?.value, let path = reader.string(node, "'git.sshKeyFile'") {
            if path.hasPrefix("-----BEGIN") {
                reader.error("'git.sshKeyFile' must be the path of the key file, not the key itself", at: node)
            } else {
                config.sshKeyFile = path
            }
        }
        if let node = entries["sshPassphraseEnv"]?.value {
            config.sshPassphraseEnv = environmentName(node, key: "git.sshPassphraseEnv", example: "PROMOBOT_SSH_PASSPHRASE",
                                                      noun: "passphrase", reader: reader)
        }
        if let node = entries["knownHostsFile"]?.value, let path = reader.string(node, "'git.knownHostsFile'") {
            config.knownHostsFile = path
        }
        if config.gitTransport == .ssh, config.sshKeyFile == nil, let entry = entries["transport"] {
            reader.error("'git.transport: ssh' needs 'git.sshKeyFile': the path of the private key promobot pushes with", at: entry.key)
        }
        if config.gitTransport != .ssh, let entry = entries["sshKeyFile"] ?? entries["sshPassphraseEnv"] {
            reader.warning("'git.\(entry.key.scalar?.string ?? "")' has no effect without 'git.transport: ssh'", at: entry.key)
        }
    }
}
