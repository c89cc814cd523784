import ArgumentParser
import Foundation
import Manifests
import Policies

/// `promobot validate [PATH...]`: checks policy files and the global config, reporting every problem.
///
/// Exit status 0 when there are no errors (warnings allowed), 1 otherwise. Output goes to stdout
/// or `--output FILE` as text, JSON or a GitLab Code Quality report.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check policy files and the config file; report every problem as path:line:col.",
        discussion: """
            PATHs may be policy files or folders (searched for *.yaml and *.yml). Without PATHs, the \
            configured policies folder is checked (default: policies/). A file named promobot.yaml, \
            or the file given with --config, is checked as the global config; promobot.yaml in the \
            working directory is checked when it exists.
            """
    )

    @Argument(help: "Policy files or folders (default: the configured policies folder).")
    var paths: [String] = []

    @Option(name: .long, help: "The global config file to check (default: promobot.yaml when it exists).")
    var config: String?

    @Option(name: .long, help: "Output format: text, json or codequality (a GitLab Code Quality report).")
    var format: DiagnosticReport.Format = .text

    @Option(name: .long, help: "Write the report to this file instead of standard output.")
    var output: String?

    @Flag(name: .long, help: "After the report, print every stage's effective settings and where each comes from (the stage, the policy's defaults, the config's stageDefaults or freezes, or built in).")
    var showEffective = false

    func validate() throws {
        if showEffective, format != .text { throw ValidationError("--show-effective prints text: use it without --format \(format.rawValue)") }
    }

    func run() async throws {
        let outcome = Self.check(paths: paths, config: config, environment: ProcessInfo.processInfo.environment)
        var report = DiagnosticReport.render(outcome.diagnostics, format: format, policyCount: outcome.policyCount)
        if showEffective { report += "\n" + EffectiveSettings.render(outcome.policies) }
        if let output {
            do {
                try report.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("cannot write the report to '\(EchoText.escapingControls(output))': \(error.localizedDescription)")
            }
            print(DiagnosticReport.summary(outcome.diagnostics, policyCount: outcome.policyCount))
        } else {
            print(report, terminator: "")
        }
        if outcome.diagnostics.contains(where: \.isError) { throw ExitCode(1) }
    }

    /// What `validate` found: every diagnostic (config first, then policies) and the number of valid policies.
    struct Outcome {
        var diagnostics: [Diagnostic]
        var policyCount: Int { policies.count }
        /// The valid policies, with the config's shared settings applied.
        var policies: [Policy]
    }

    /// Runs every check; the only I/O is reading the named files and folders.
    static func check(paths: [String], config explicitConfig: String?, environment: [String: String]) -> Outcome {
        var diagnostics: [Diagnostic] = []

        // Config files: promobot.yaml among the PATHs are checked; the one in use is --config, else the
        // first of those, else ./promobot.yaml when present (ConfigParser's discovery, as `run` finds it).
        var namedConfigs: [String] = []
        var policyPaths: [String] = []
        for path in paths {
            let name = (path as NSString).lastPathComponent
            if name == "promobot.yaml" || name == "promobot.yml" { namedConfigs.append(path) } else { policyPaths.append(path) }
        }
        let inUse = ConfigParser.load(explicit: explicitConfig ?? namedConfigs.first, environment: environment)
        for file in Set(namedConfigs + [inUse.path].compactMap { $0 }).sorted() {
            diagnostics += file == inUse.path ? inUse.diagnostics : ConfigParser.load(path: file, environment: environment).diagnostics
        }
        let loadedConfig = inUse.path == nil ? nil : inUse.config

        // Policies: the PATHs, or the configured folder when no PATH was named.
        if paths.isEmpty {
            policyPaths = [(loadedConfig ?? PromobotConfig.default(environment: environment)).policies]
        }
        var policies: [Policy] = []
        if !policyPaths.isEmpty {
            let set = PolicyLoader.load(paths: policyPaths, shared: loadedConfig?.shared ?? .none)
            diagnostics += set.diagnostics
            policies = set.policies
            if let loadedConfig {
                diagnostics += ConfigParser.servicesMissing(for: set.policies, config: loadedConfig)
                diagnostics += ConfigParser.sharedSettingsUnused(by: set.policies, config: loadedConfig)
                diagnostics += ConfigParser.registriesMissing(for: set.policies, config: loadedConfig, environment: environment)
            }
        }
        return Outcome(diagnostics: diagnostics, policies: policies)
    }
}

extension DiagnosticReport.Format: ExpressibleByArgument {}
