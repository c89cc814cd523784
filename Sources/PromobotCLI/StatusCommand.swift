import ArgumentParser
import Board
import Foundation
import Planning
import Promotion

/// `promobot status`: the environment × application board with open promotion MRs.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print the board: versions per stage, drift, decisions and why, holds, open MRs, recent changes."
    )

    @OptionGroup(title: "Configuration") var options: EngineOptions

    @Option(name: .long, help: "text, markdown or html.")
    var format: StatusFormat = .text

    @Option(name: .long, help: "Write the board to this file instead of standard output.")
    var output: String?

    func run() async throws {
        let runtime = try Runtime.loadOrExit(options, dryRun: true, logFormat: .text, quiet: true)
        let started = runtime.engine.clock()
        let report = await runtime.engine.runCycle()
        let board = StatusBoard(policies: runtime.engine.policies, report: report, cycleTime: started,
                                emergencyStop: runtime.engine.configuration.emergencyStop).render(format)
        if let output {
            try Data(board.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        } else {
            print(board)
        }
        if report.hasErrors { throw ExitCode(1) }
    }
}

extension StatusFormat: ExpressibleByArgument {}
