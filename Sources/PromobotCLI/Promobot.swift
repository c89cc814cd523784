import ArgumentParser

/// The root command: holds only configuration; each subcommand lives in its own file.
public struct Promobot: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "promobot",
        abstract: "A GitOps promotion bot for GitLab: moves image tags dev -> test -> prod through merge requests.",
        version: version,
        subcommands: [
            RunCommand.self, PlanCommand.self, StatusCommand.self, ValidateCommand.self, SetImageCommand.self,
            DemoCommand.self, SandboxCommand.self, VersionCommand.self,
        ]
    )

    public init() {}
}
