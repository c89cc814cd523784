import ArgumentParser
import Foundation

/// The root command: holds only configuration; each subcommand lives in its own file.
public struct Promobot: AsyncParsableCommand {
    /// promobot's version, baked in at build time from the git tag (`0.2.0` for `v0.2.0`), or
    /// `0.0.0-dev+<sha>` for an untagged build; `PROMOBOT_VERSION` overrides it where there is no `.git`.
    /// `scripts/version` decides it and the VersionStamp plugin writes it into `BakedVersion`. Shown by
    /// `promobot version` and `--version`, written into MR markers and the `promobot_build_info` metric.
    public static let version = BakedVersion.value

    public static let configuration = CommandConfiguration(
        commandName: "promobot",
        abstract: "A GitOps promotion bot for GitLab: moves image tags dev -> test -> prod through merge requests.",
        version: version,
        subcommands: [
            RunCommand.self, PlanCommand.self, StatusCommand.self, ValidateCommand.self, SetImageCommand.self,
            ServeCommand.self, RollbackCommand.self, PromoteCommand.self, WebhooksCommand.self, InitCommand.self, DemoCommand.self, SandboxCommand.self,
            VersionCommand.self,
        ]
    )

    /// The exit status for bad usage or configuration, as README.md documents it. ArgumentParser's own
    /// usage status is 64 (`EX_USAGE`); CI scripts written against the README test for 2.
    public static let usageExitCode = ExitCode(2)

    public init() {}

    /// Parses and runs like ArgumentParser's `main`, except that usage errors (unknown flags, bad values,
    /// a failed `validate()`) exit with ``usageExitCode`` instead of 64. Help and `--version` still exit 0.
    public static func main() async {
        await main(nil)
    }

    /// ``main()`` with explicit arguments (nil: the process's).
    public static func main(_ arguments: [String]?) async {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitStatus(for: error)
            guard code != exitCode(for: error) else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(code.rawValue)
        }
    }

    /// The status promobot exits with for `error`: ArgumentParser's, with usage errors mapped to 2.
    static func exitStatus(for error: any Error) -> ExitCode {
        let code = exitCode(for: error)
        return code == .validationFailure ? usageExitCode : code
    }
}
