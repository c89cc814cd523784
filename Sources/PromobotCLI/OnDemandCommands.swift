import ArgumentParser
import Foundation
import Manifests
import Planning
import Promotion

/// `promobot rollback POLICY STAGE`: the way back, in one command (or one click in GitLab CI).
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Roll a stage back to the version it ran before (or --to one it ran), through a rollback MR.",
        discussion: """
        Opens a rollback MR (branch promobot/<policy>/<stage>.rollback) and merges it at once when the stage's \
        'rollback.merge' allows it (default auto); otherwise prints its URL and later cycles merge it once approved. \
        A rollback skips soak, upstream health, version rules, merge windows, freezes and the emergency stop. \
        The open promotion MR for the stage is closed as superseded, and the version taken out is held: promobot does \
        not propose it again until the upstream offers another one or someone runs 'promobot promote'.

        Exit codes: 0 done (merged, or opened and waiting for approvals); 1 GitLab or git failed, or there is nothing \
        to roll back to (or --to names a version the stage did not run); 2 bad usage or configuration.
        """
    )

    @OptionGroup(title: "Configuration") var options: EngineOptions

    @Argument(help: "The policy's name.") var policy: String
    @Argument(help: "The stage to roll back (e.g. prod).") var stage: String

    @Option(name: .long, help: "A tag (or digest) the stage ran before; default: the version it ran before its current one.")
    var to: String?

    @Option(name: .long, help: "Why (goes into the MR and the commit); default: who asked.")
    var reason: String?

    @OptionGroup var output: OnDemandOptions

    func run() async throws {
        let runtime = try Runtime.loadOrExit(options, dryRun: output.dryRun, logFormat: output.logFormat, quiet: true)
        let request = RollbackCommandRequest(to: to, reason: reason, requestedBy: Requester.current())
        try await OnDemand.report {
            try await runtime.engine.rollback(policy: policy, stage: stage, request: request)
        }
    }
}

/// `promobot promote POLICY STAGE`: the on-demand promotion (a hotfix now, or a held version on purpose).
struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Open (or update) the promotion MR for a stage now, optionally for a version the upstream ran (--to).",
        discussion: """
        Every promotion gate applies as in 'run' except the hold: this is how a version that was rolled back is \
        promoted again on purpose. With --to, the candidate is the newest upstream state in which one of the \
        policy's images ran that tag; a state that soaked before passes the soak gate. Later cycles honour the \
        request (the MR's marker records it).

        Exit codes as 'run': 0 done (blocked gates are not failures); 1 GitLab or git failed, or --to names a \
        version the upstream did not run; 2 bad usage or configuration.
        """
    )

    @OptionGroup(title: "Configuration") var options: EngineOptions

    @Argument(help: "The policy's name.") var policy: String
    @Argument(help: "The stage to promote into (e.g. prod).") var stage: String

    @Option(name: .long, help: "A tag (or digest) the upstream stage ran; default: what it offers now.")
    var to: String?

    @OptionGroup var output: OnDemandOptions

    func run() async throws {
        let runtime = try Runtime.loadOrExit(options, dryRun: output.dryRun, logFormat: output.logFormat, quiet: true)
        try await OnDemand.report {
            try await runtime.engine.promote(policy: policy, stage: stage, to: to, requestedBy: Requester.current())
        }
    }
}

/// `--dry-run` and `--log-format`, shared by `rollback` and `promote`.
struct OnDemandOptions: ParsableArguments {
    @Flag(name: .long, help: "Say what would be done; push nothing, write nothing to GitLab.")
    var dryRun = false

    @Option(name: .long, help: "Log format: text or json.")
    var logFormat: LogFormat = .text
}

/// Prints what an on-demand command did and maps its failures to exit codes.
enum OnDemand {
    static func report(_ body: () async throws -> StageOutcome) async throws {
        let outcome: StageOutcome
        do {
            outcome = try await body()
        } catch let error as OnDemandError {
            FileHandle.standardError.write(Data("promobot: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        } catch {
            FileHandle.standardError.write(Data("promobot: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print(lines(outcome).joined(separator: "\n"))
        if outcome.error != nil { throw ExitCode(1) }
    }

    /// The outcome in a few lines: the decision, what was done, the MR and the merged commit.
    static func lines(_ outcome: StageOutcome) -> [String] {
        let plan = outcome.plan
        var lines = ["\(plan.policy)/\(plan.stage): \(outcome.note ?? plan.summary)"]
        if let record = plan.rollback {
            lines.append("  reason: \(EchoText.escapingControls(record.reason))")
        }
        if let action = outcome.action { lines.append("  done: \(action)") }
        if let commit = outcome.mergedCommit {
            lines.append("  merged as \(PlannerText.shortSHA(commit)): \(plan.stage) now runs \(PlannerText.list(plan.candidate ?? [:], order: plan.imageOrder))")
        }
        if let url = outcome.mergeRequestURL, outcome.mergedCommit == nil { lines.append("  MR: \(url)") }
        if let error = outcome.error { lines.append("  error: \(error)") }
        return lines
    }
}

/// Who is asking: `GITLAB_USER_LOGIN` in GitLab CI (the person who clicked the job), else the OS user.
enum Requester {
    static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        for key in ["GITLAB_USER_LOGIN", "USER", "LOGNAME"] {
            if let value = environment[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { return value }
        }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "unknown"
    }
}
